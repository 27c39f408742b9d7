"""Lint messages that once misled a trader: each says what went wrong in the author's terms,
and where a hint offers a fix, the fix itself lints clean."""

from __future__ import annotations

import re

import pytest

from rulebot.lang.diagnostics import Diagnostic
from rulebot.lang.lint import analyze_text

_HEAD = "symbol: BTCUSDT\nrisk: {max_position: 0.05}\nrules:\n"


def lint(text: str) -> list[Diagnostic]:
    return list(analyze_text(text, "f.yaml").diagnostics)


def codes(text: str) -> list[str]:
    return [d.code for d in lint(text)]


def fixed_rule(hint: str) -> str:
    """The quoted rule a hint offers (``quote the whole rule: - '...'``)."""
    match = re.search(r": - ('.*')$", hint)
    assert match is not None, hint
    return match.group(1)


@pytest.mark.parametrize("rule", [
    'when rsi(14) < 30 then notify "note: dip: now"',
    'when rsi(14) < 30 and position == 0 then buy 0.01, notify "at: {price}"',
    'when rsi(14) < 30 then notify "note: [dip]"',
    'when rsi(14) < 30 then notify "note: *dip"',
    'when rsi(14) < 30 then notify "note: %dip"',
    'when rsi(14) < 30 then notify "note: |dip"',
])
def test_one_line_rule_with_colon_says_quote_it(rule: str) -> None:
    [d] = lint(_HEAD + f"  - {rule}  # a comment\n")
    assert (d.code, d.line, d.column) == ("E103", 4, 5 + rule.index(": "))
    assert d.message == "YAML read the ': ' here as a key: a rule that contains ': ' must be quoted"
    assert d.hint is not None
    assert fixed_rule(d.hint) == "'" + rule + "'"
    assert [x for x in lint(_HEAD + f"  - {fixed_rule(d.hint)}\n") if x.is_error] == []


def test_double_quoted_rule_holding_double_quotes_says_use_single_quotes() -> None:
    [d] = lint(_HEAD + '  - "when price > 70000 then notify "note: high""\n')
    assert (d.code, d.line, d.column) == ("E103", 4, 37)
    assert "double quotes" in d.message
    assert d.hint is not None
    assert lint(_HEAD + f"  - {fixed_rule(d.hint)}\n") == []


def test_escaped_quotes_in_a_double_quoted_rule_are_not_taken_for_quotes() -> None:
    [d] = lint(_HEAD + '  - "when price > 2 then notify \\"y\\"\n')
    assert d.message == "the file ends inside a quoted text"


def test_rule_indented_further_is_an_indentation_error_at_its_dash() -> None:
    text = _HEAD + ("  - when rsi(14) < 30 and position == 0 then buy 0.01\n"
                    "    - when rsi(14) > 70 and position > 0 then close\n")
    [d] = lint(text)
    assert (d.code, d.line, d.column) == ("E103", 5, 5)
    assert "indented further" in d.message and "found" not in d.message
    assert lint(text.replace("    - when", "  - when")) == []


@pytest.mark.parametrize("line, column", [
    ("      cooldown: 5m\n", 5),
    ("        cooldown: 5m\n", 5),
])
def test_key_indented_further_names_the_column(line: str, column: int) -> None:
    text = _HEAD + "  - name: dip\n    when: rsi(14) < 30 and position == 0\n    then: buy 0.01\n" + line
    [d] = lint(text)
    assert (d.code, d.line) == ("E103", 7)
    assert d.message == "this line is indented further than line 6, so YAML read it as more of the value on line 6"
    assert d.hint == f"start 'cooldown:' in column {column}, like the keys above it"
    assert lint(text.replace(line, " " * (column - 1) + line.lstrip())) == []


def test_colon_in_a_then_value_keeps_its_own_message() -> None:
    [d] = lint(_HEAD + '  - name: a\n    when: price > 1\n    then: notify "a: b"\n')
    assert (d.code, d.message) == ("E103", "a ': ' where YAML does not expect a new key")


@pytest.mark.parametrize("guard", ["postion == 0", "open_order == 0", "positon is flat"])
def test_misspelt_guard_gives_its_error_and_no_w101(guard: str) -> None:
    assert codes(_HEAD + f"  - when rsi(14) < 30 and {guard} then buy 0.01\n") == ["E202"]


def test_w101_still_fires_without_any_guard() -> None:
    assert codes(_HEAD + "  - when rsi(14) < 30 then buy 0.01\n") == ["W101"]


_PAIR = ("  - name: a\n    when: rsi(14) < 40 and position <= 0\n    then: buy 0.01\n"
         "  - name: b\n{enabled}    when: rsi(14) < 45 and position <= 0\n    then: sell 0.01\n")
_NEVER = "  - name: {name}\n{enabled}    when: rsi(14) < 30 and rsi(14) > 70 and position == 0\n    then: buy 0.01\n"


def test_disabled_rule_takes_no_part_in_w103() -> None:
    assert codes(_HEAD + _PAIR.format(enabled="")) == ["W103"]
    assert codes(_HEAD + _PAIR.format(enabled="    enabled: false\n")) == []


def test_disabled_rule_gets_no_w104_and_an_enabled_twin_still_does() -> None:
    disabled = _NEVER.format(name="parked", enabled="    enabled: false\n")
    assert codes(_HEAD + disabled) == []
    found = lint(_HEAD + disabled + _NEVER.format(name="live", enabled=""))
    assert [(d.code, d.line) for d in found] == [("W104", 9)]


def test_fractional_period_says_whole_number() -> None:
    [d] = lint(_HEAD + "  - when rsi(14.5) < 30 and position == 0 then buy 0.01\n")
    assert (d.code, d.column, d.end_column) == ("E302", 14, 18)
    assert d.message == "the period 'n' of 'rsi' must be a whole number of bars, found 14.5"
    assert d.hint == "write 14 or 15"
    assert "out of range" not in d.message


@pytest.mark.parametrize("condition, shown, hint", [
    ("position is 30", "30", "write 'position == 30'"),
    ("position is not -30", "-30", "write 'position != -30'"),
    ("position is 2%", "2%", "write 'position == 2%'"),
])
def test_value_after_is_is_a_kind_mismatch_at_the_value(condition: str, shown: str, hint: str) -> None:
    rule = f"when {condition} then close"
    [d] = lint(_HEAD + f"  - {rule}\n")
    start = 5 + rule.index(shown)
    assert (d.code, d.column, d.end_column) == ("E301", start, start + len(shown))
    assert d.message == f"'position is' takes only 'long', 'short' or 'flat', found '{shown}'"
    assert d.hint is not None and d.hint.endswith(hint)


@pytest.mark.parametrize("key", ["cooldown", "every", "at", "cron"])
def test_undeclared_param_hint_declares_a_value_the_key_accepts(key: str) -> None:
    text = (f"symbol: BTCUSDT\nrisk: {{max_position: 0.05}}\nrules:\n  - name: a\n"
            f"    when: rsi(14) < 30 and position == 0\n    then: buy 0.01\n    {key}: ${{p}}\n")
    [d] = lint(text)
    assert d.code == "E112" and d.hint is not None
    declared = d.hint.split("e.g. ", 1)[1]
    assert lint(declared + "\n" + text) == []
