# Every target installs into .venv when it is missing, so a fresh clone needs only python3.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,report]'
	$(BIN)/python -m compileall -q rulebot
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Byte-compiled first: an editable install under PYTHONDONTWRITEBYTECODE would otherwise
# compile rulebot from source in every CLI run the benchmarks time.
bench: $(STAMP)
	$(BIN)/python -m compileall -q rulebot
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache
