"""The text a rule file is read as: every control character refused at its place, line breaks
of every kind made one, and the line index that turns offsets into lines and columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.lang.loader import load_text
from rulebot.lang.scalarmap import LineIndex
from rulebot.lang.source import Location

HEAD = "symbol: BTCUSDT\nrules:\n"
_BREAKS = {"\r", "\x85"}
_ALLOWED = {"\t", "\n"} | _BREAKS


@pytest.mark.parametrize("code", list(range(0x00, 0x20)) + list(range(0x7f, 0xa0)))
def test_control_characters_are_refused_where_they_stand(code: int) -> None:
    char = chr(code)
    result = load_text(HEAD + "  - when x" + char + " > 1 then close market\n", "t.yaml")
    refused = [(d.code, d.line, d.column) for d in result.diagnostics if d.code == "E101"]
    if char in _ALLOWED:
        assert refused == []
    else:
        assert refused == [("E101", 3, 11)]


@pytest.mark.parametrize("brk", ["\r\n", "\r", "\x85", "\u2028", "\u2029"])
def test_every_line_break_is_one(brk: str) -> None:
    result = load_text(f"symbol: BTCUSDT{brk}rules:{brk}  - when x > 1 then close market{brk}", "t.yaml")
    assert result.diagnostics == ()
    assert result.lines == ("symbol: BTCUSDT", "rules:", "  - when x > 1 then close market", "")
    assert result.rule_file is not None
    (rule,) = result.rule_file.rules
    assert rule.line is not None and rule.line.text == "when x > 1 then close market"
    assert rule.line.location(5) == Location(3, 10)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n é", max_size=60), st.integers(0, 70))
def test_line_index_counts_lines_and_columns(text: str, index: int) -> None:
    clamped = max(0, min(index, len(text)))
    line = text.count("\n", 0, clamped) + 1
    column = clamped - (text.rfind("\n", 0, clamped) + 1) + 1
    assert LineIndex(text).line_column(index) == (line, column)
