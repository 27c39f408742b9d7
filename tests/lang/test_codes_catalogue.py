"""The code table (``rulebot/lang/codes.py``) against its uses: every code has a wrong example
that lint reports with that code and a fix that lint accepts, a fixture in the corpus, and an
entry in ``docs/diagnostics.md``, which is exactly what ``python -m rulebot.lang.codes`` prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rulebot.lang.codes import CODES, Code, render_catalogue
from rulebot.lang.lint import analyze_file

from .test_corpus import CASE_FILES, expectations

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "diagnostics.md"
ALL = sorted(CODES)


def _lint_example(text: str, saved_as: str, tmp_path: Path, name: str) -> list[tuple[str, str]]:
    """Lint an example as a file; rule text goes into the file the catalogue describes."""
    if "\n" not in text:
        quoted = "'" + text.replace("'", "''") + "'"
        text = f"symbol: BTCUSDT\nrisk: {{max_position: 0.05}}\nrules:\n  - {quoted}\n"
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(text.encode(saved_as))
    return [(d.code, d.message) for d in analyze_file(path).diagnostics]


def test_codes_are_well_formed_and_unique() -> None:
    names = [c.name for c in CODES.values()]
    assert len(set(names)) == len(names)
    for code, c in CODES.items():
        assert code == c.code and re.fullmatch(r"[EW][1-3]\d\d", code), code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.name), c.name
        assert c.summary and not c.summary.endswith("."), code
        assert c.severity == ("warning" if code.startswith("W") else "error")


@pytest.mark.parametrize("code", ALL)
def test_code_has_a_wrong_example_and_its_fix(code: str) -> None:
    c: Code = CODES[code]
    assert c.bad.strip() and c.fixed.strip(), f"{code} needs a wrong example and its fix in code_examples.py"
    assert c.bad != c.fixed or c.bad_saved_as != "utf-8"


@pytest.mark.parametrize("code", ALL)
def test_wrong_example_gives_its_code_and_the_fix_is_clean(code: str, tmp_path: Path) -> None:
    c = CODES[code]
    bad = _lint_example(c.bad, c.bad_saved_as, tmp_path, "bad")
    assert code in [found for found, _ in bad], f"the wrong example of {code} gives {bad}"
    fixed = _lint_example(c.fixed, "utf-8", tmp_path, "fixed")
    assert fixed == [], f"the fixed example of {code} still gives {fixed}"


@pytest.mark.parametrize("code", ALL)
def test_code_has_a_fixture_in_the_corpus(code: str) -> None:
    fixtures = [r for r in CASE_FILES if Path(r).name.startswith(code + "_")]
    assert fixtures, f"no tests/lang/cases/invalid/{code}_*.yaml"
    assert any(code in {e.code for e in expectations(r)} for r in fixtures), f"no fixture of {code} expects it"


@pytest.mark.parametrize("code", ALL)
def test_code_has_a_doc_entry(code: str) -> None:
    c = CODES[code]
    doc = DOC.read_text(encoding="utf-8")
    assert f"\n### {code} {c.name}\n" in doc, f"docs/diagnostics.md has no entry for {code}"


def test_doc_is_generated_from_the_table() -> None:
    assert DOC.read_text(encoding="utf-8") == render_catalogue(), (
        "docs/diagnostics.md is out of date: run `python -m rulebot.lang.codes > docs/diagnostics.md`")


def test_module_prints_the_catalogue(tmp_path: Path) -> None:
    # The way the doc is regenerated; from another folder, so the installed package is used.
    done = subprocess.run([sys.executable, "-m", "rulebot.lang.codes"], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8", check=True)
    assert done.stdout == render_catalogue()


def test_every_code_emitted_in_the_sources_is_in_the_table() -> None:
    # A code written in the checker but missing from the table would have no doc and no fixture.
    sources = (ROOT / "rulebot" / "lang").glob("*.py")
    used = {m for p in sources for m in re.findall(r"\"([EW][1-3]\d\d)\"", p.read_text(encoding="utf-8"))}
    assert sorted(used - set(CODES)) == []
