"""The lint corpus: every file under ``tests/lang/cases`` is linted as ``rulebot lint`` does.

Three checks per case:

* the set of ``(line, code)`` reported equals the expectations written in the file: a trailing
  YAML comment ``# E: E203`` (or ``# W: W101``, several codes allowed) marks its own line,
  and a header comment ``# expect: 7:12 E203`` names a line and column where a trailing comment
  cannot go (inside block scalars, multi-line plain scalars, lines a comment would change);
* the rendered text and the JSON equal the goldens next to the case (``case.txt``,
  ``case.json``; a case without diagnostics has no goldens). Paths in them are relative to the
  cases folder, so they do not depend on the machine;
* ``valid/`` cases have no errors at all, ``invalid/`` cases are named after a code they show.

``pytest tests/lang/test_corpus.py --update-goldens`` rewrites the goldens; review the diff.

Hostile files (10 MB, NUL bytes, not UTF-8, 10,000 nested parentheses, deep YAML, an alias
bomb) are made at test time in a temporary folder rather than committed.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from rulebot.lang.diagnostics import Diagnostic, render_json, render_text
from rulebot.lang.filemodel import FILE_KEYS, RULE_KEYS, RiskModel, SettingsModel
from rulebot.lang.lint import LintReport, lint_paths
from rulebot.lang.vocabulary import ACTIONS, FIELDS, INDICATORS, SETTINGS

CASES = Path(__file__).parent / "cases"
SUFFIXES = (".yaml", ".yml")
_MARK = re.compile(r"\s#\s*[EW]:\s*((?:[EW]\d{3}[\s,]*)+)$")
_EXPECT = re.compile(r"#\s*expect:\s*(\d+)(?::(\d+))?\s+([EW]\d{3})\s*$")
_CODE = re.compile(r"[EW]\d{3}")
# Files that cannot hold a comment at all.
_NO_ROOM_FOR_COMMENTS = {"invalid/E102_empty_file.yaml": "1:1 E102"}


@dataclass(frozen=True)
class Expect:
    line: int
    column: int | None
    code: str


def _case_files() -> list[str]:
    return sorted(p.relative_to(CASES).as_posix() for p in CASES.rglob("*")
                  if p.suffix in SUFFIXES and p.is_file())


CASE_FILES = _case_files()


def _text_of(path: Path) -> str:
    """The file as text, whatever its encoding, for reading its expectation comments."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def expectations(rel: str) -> set[Expect]:
    """The diagnostics a case file says it should get."""
    if rel in _NO_ROOM_FOR_COMMENTS:
        match = _EXPECT.match("# expect: " + _NO_ROOM_FOR_COMMENTS[rel])
        assert match is not None
        return {Expect(int(match.group(1)), int(match.group(2)), match.group(3))}
    found: set[Expect] = set()
    for number, line in enumerate(_text_of(CASES / rel).split("\n"), start=1):
        header = _EXPECT.match(line.strip())
        if header is not None:
            column = int(header.group(2)) if header.group(2) else None
            found.add(Expect(int(header.group(1)), column, header.group(3)))
            continue
        mark = _MARK.search(line)
        if mark is not None:
            found.update(Expect(number, None, code) for code in _CODE.findall(mark.group(1)))
    return found


def lint_case(rel: str, monkeypatch: pytest.MonkeyPatch) -> LintReport:
    """Lint one case the way `rulebot lint invalid/x.yaml` does from inside the cases folder."""
    monkeypatch.chdir(CASES)
    return lint_paths([rel])


def _goldens(rel: str) -> tuple[Path, Path]:
    stem = (CASES / rel).with_suffix("")
    return stem.with_suffix(".txt"), stem.with_suffix(".json")


def _positions(diagnostics: tuple[Diagnostic, ...]) -> list[str]:
    return [f"{d.line}:{d.column} {d.code} {d.message}" for d in diagnostics]


@pytest.mark.parametrize("rel", CASE_FILES)
def test_case(rel: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    expected = expectations(rel)
    report = lint_case(rel, monkeypatch)
    diagnostics = report.diagnostics
    assert not [u for u in report.unreadable if "no such file" in u], report.unreadable

    got = {(d.line, d.code) for d in diagnostics}
    want = {(e.line, e.code) for e in expected}
    assert got == want, (
        f"{rel}: reported {sorted(got)} but the file expects {sorted(want)}\n" + "\n".join(_positions(diagnostics)))
    for e in expected:
        if e.column is not None:
            assert any((d.line, d.column, d.code) == (e.line, e.column, e.code) for d in diagnostics), (
                f"{rel}: expected {e.code} at {e.line}:{e.column}\n" + "\n".join(_positions(diagnostics)))

    if rel.startswith("valid/"):
        assert not [d for d in diagnostics if d.is_error], "\n".join(_positions(diagnostics))
    else:
        assert expected, f"{rel}: an invalid case must say what it expects (# E: CODE or # expect: L:C CODE)"
        named = Path(rel).name[:4]
        assert _CODE.fullmatch(named), f"{rel}: invalid cases are named after their code, like E203_..."
        assert named in {e.code for e in expected}, f"{rel}: named after {named} but does not expect it"

    text = render_text(diagnostics, report.lines)
    as_json = render_json(diagnostics)
    text_path, json_path = _goldens(rel)
    if request.config.getoption("--update-goldens"):
        for path, content in ((text_path, text), (json_path, as_json)):
            if diagnostics:
                path.write_text(content, encoding="utf-8", newline="\n")
            else:
                path.unlink(missing_ok=True)
        return
    if not diagnostics:
        assert not text_path.exists() and not json_path.exists(), f"{rel}: stale goldens (run --update-goldens)"
        return
    assert text_path.exists() and json_path.exists(), f"{rel}: no goldens yet (run with --update-goldens)"
    assert text == text_path.read_text(encoding="utf-8"), f"{rel}: text output differs from {text_path.name}"
    assert json.loads(as_json) == json.loads(json_path.read_text(encoding="utf-8"))
    assert as_json == json_path.read_text(encoding="utf-8"), f"{rel}: JSON layout differs from {json_path.name}"


def test_corpus_size_and_no_orphan_goldens() -> None:
    valid = [r for r in CASE_FILES if r.startswith("valid/")]
    invalid = [r for r in CASE_FILES if r.startswith("invalid/")]
    assert len(valid) >= 20
    assert len(invalid) >= 80
    cases = {(CASES / r).with_suffix("") for r in CASE_FILES}
    goldens = [p for p in CASES.rglob("*") if p.suffix in (".txt", ".json")]
    assert [p.name for p in goldens if p.with_suffix("") not in cases] == []


def test_expectation_comments_are_read() -> None:
    # The reader of expectations is the ground truth of every case: it must see markers and headers.
    assert expectations("invalid/E203_unknown_indicator.yaml") == {Expect(6, None, "E203"), Expect(7, None, "E203")}
    assert Expect(11, 15, "E203") in expectations("invalid/E203_in_folded_block.yaml")
    assert expectations("invalid/E101_utf16_encoding.yaml") == {Expect(1, 1, "E101")}
    assert expectations("valid/V01_one_line_rule.yaml") == set()


def _valid_text() -> str:
    return "\n".join(_text_of(CASES / r) for r in CASE_FILES if r.startswith("valid/"))


@pytest.mark.parametrize("group, names", [
    ("fields", sorted(FIELDS)),
    ("indicators", sorted(INDICATORS)),
    ("actions", list(ACTIONS)),
    ("set settings", [f"set {s}" for s in SETTINGS]),
    ("rule keys", [f"{k}:" for k in RULE_KEYS]),
    ("file keys", [f"{k}:" for k in FILE_KEYS]),
    ("settings keys", [f"{k}:" for k in SettingsModel.model_fields]),
    ("risk keys", [f"{k}:" for k in RiskModel.model_fields]),
    ("order options", ["tp", "sl", "trail", "post only", "ioc", "fok", "reduce only", "expire", "tag"]),
    ("operators", ["crosses above", "crosses below", "crosses", "between", "rising", "falling",
                   "for", "bars", "is not", " in [", "not (", " or ", "ticks", "tick", "tf="]),
    ("sizes", ["usdt", "% equity", "% balance", "% available", "limit", "market"]),
    ("yaml styles", ["- >", "- |", ": >-", ": |-", "- '", '- "', "- {"]),
])
def test_valid_corpus_uses_every_construct(group: str, names: list[str]) -> None:
    text = _valid_text().lower()

    def pattern(name: str) -> str:
        # whole words only: 'tp' must not be found in 'tpsl', nor 'ema' in 'ema_x'
        before = r"(?<![a-z0-9_])" if re.match(r"\w", name) else ""
        after = r"(?![a-z0-9_])" if re.search(r"\w$", name) else ""
        return before + re.escape(name.lower()) + after
    missing = [n for n in names if not re.search(pattern(n), text)]
    assert missing == [], f"no valid case uses these {group}: {missing}"


# --- hostile files, made at test time -------------------------------------------------------

def _nested_parens(depth: int) -> bytes:
    return (f"symbol: BTCUSDT\nrules:\n  - when {'(' * depth}price > 1{')' * depth} then notify \"x\"\n").encode()


def _alias_bomb() -> bytes:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    return ("\n".join(lines) + "\nsymbol: BTCUSDT\nparams: {bomb: *j}\nrules: []\n").encode()


def _not_utf8() -> bytes:
    return b"symbol: BTCUSDT\nrules:\n  - when price > 1 then notify \"" + bytes(range(0x80, 0x100)) + b"\"\n"


HOSTILE = {
    "ten_megabytes": (lambda: b"symbol: BTCUSDT\n" + b"# padding padding padding\n" * 420_000, "E101"),
    "nul_bytes": (lambda: b"symbol: BTCUSDT\x00\x00\nrules: []\n", "E101"),
    "random_binary": (lambda: bytes((i * 7919 + 13) % 256 for i in range(4096)), "E101"),
    "not_utf8": (_not_utf8, "E101"),
    "parentheses_10000_deep": (lambda: _nested_parens(10_000), "E205"),
    "flow_lists_10000_deep": (lambda: b"symbol: BTCUSDT\nrules: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", "E103"),
    "mappings_200_deep": (lambda: ("symbol: BTCUSDT\nparams:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(200)) + "  " * 201 + "end\n").encode(), "E103"),
    "alias_bomb": (_alias_bomb, "E103"),
    "rule_text_25000_characters": (lambda: (
        "symbol: BTCUSDT\nrules:\n  - when price > 1" + " and price > 1" * 1800 + " then notify \"x\"\n").encode(), "E201"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_gives_a_diagnostic(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make, code = HOSTILE[name]
    (tmp_path / f"{name}.yaml").write_bytes(make())
    monkeypatch.chdir(tmp_path)
    started = time.perf_counter()
    report = lint_paths([f"{name}.yaml"])
    render_text(report.diagnostics, report.lines)
    render_json(report.diagnostics)
    elapsed = time.perf_counter() - started
    assert code in {d.code for d in report.diagnostics}, _positions(report.diagnostics)
    assert all(d.is_error for d in report.diagnostics if d.code == code)
    assert elapsed < 10, f"{name} took {elapsed:.1f} s"
