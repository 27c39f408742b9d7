"""Instructions per rule of warm lint, counted by valgrind: steadier than wall time on a shared host.

    .venv/bin/python benchmarks/lint_instructions.py

Prints ``lint_instructions_per_rule X``: lint_bench.py's corpus (1,000 distinct rules in 10
files) linted as ``lint_rules_per_s`` times it (``lint_paths``), once and three times, in two
runs under ``valgrind --tool=callgrind``; the difference over the two extra passes, per rule.
Needs valgrind (``apt install valgrind``); takes a minute or two. Not part of ``make bench``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lint_bench import FILES, RULES_PER_FILE, write_corpus  # noqa: E402

_PASSES = """
import sys
from rulebot.lang.lint import lint_paths
for _ in range(int(sys.argv[2])):
    lint_paths([sys.argv[1]])
"""


def _instructions(folder: Path, passes: int) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", _PASSES,
         str(folder), str(passes)],
        capture_output=True, text=True, check=True)
    found = re.search(r"refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output: {done.stderr[-300:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt install valgrind)")
    folder = Path(tempfile.mkdtemp(prefix="rulebot-lint-instructions-"))
    try:
        write_corpus(folder)
        once, thrice = _instructions(folder, 1), _instructions(folder, 3)
        print(f"lint_instructions_per_rule {(thrice - once) / 2 / (FILES * RULES_PER_FILE):.0f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
