"""Syntax errors: said in words, only what is valid there, at the offending token (STYLE.md §5)."""

from __future__ import annotations

import pytest

from rulebot.lang.diagnostics import Diagnostic, Severity
from rulebot.lang.parser import Start, parse
from rulebot.lang.source import Source


def error(text: str, start: Start = "rule", source: Source | None = None) -> Diagnostic:
    result = parse(source or Source.contiguous("rules/t.yaml", text), start)
    assert result.node is None
    (diagnostic,) = result.diagnostics
    assert diagnostic.severity is Severity.ERROR
    return diagnostic


def pointed(text: str, d: Diagnostic) -> str:
    """The characters a one-line diagnostic underlines."""
    return text[d.column - 1:d.end_column - 1]


# --- exact messages -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, start, message, hint", [
    ("when rsi(14) < then buy 0.01", "rule",
     "expected a number, a field or an indicator after '<', found 'then'", ""),
    ("when rsi(14) < 30 buy 0.01", "rule",
     "expected 'then', 'and', 'or' or an operator after '30', found 'buy'",
     "put 'then' between the condition and the actions"),
    ("when x = 3 then halt", "rule",
     "expected 'then', 'and', 'or' or an operator after 'x', found '='", "use '==' to compare"),
    ("when x > 1 then", "rule",
     "expected an action such as 'buy', 'sell' or 'close' after 'then', found the end of the rule", ""),
    ("when", "rule", "expected a condition after 'when', found the end of the rule", ""),
    ("rsi(14) < 30", "rule", "expected 'when', found 'rsi'", ""),
    ("when x > 1 then buy", "rule",
     "expected a quantity such as '0.01', '100 usdt' or '10% equity' after 'buy', "
     "found the end of the rule", ""),
    ("when x > 1 then buy 0.01 limit", "rule",
     "expected a price such as 'bid1' or '64000' after 'limit', found the end of the rule", ""),
    ("when (close > 1 then halt", "rule",
     "expected ')', 'and', 'or' or an operator after '1', found 'then'", "a '(' is not closed"),
    ("when close > 1) then halt", "rule",
     "expected 'then', 'and', 'or' or an operator after '1', found ')'",
     "this ')' has no matching '('"),
    ("when close > 5 than buy 1", "rule",
     "expected 'then', 'and', 'or' or an operator after '5', found 'than'", "did you mean 'then'?"),
    ("when x > 1 then buy 0.01 limitt bid1", "rule",
     "expected 'market', 'limit', an order option such as 'tp', 'sl' or 'post only', ',' or the "
     "end of the rule after '0.01', found 'limitt'", "did you mean 'limit'?"),
    ("when x crosses abovee y then halt", "rule",
     "expected 'then', 'and', 'or' or an operator after 'abovee', found 'y'",
     "did you mean 'above' instead of 'abovee'?"),
    ("when x > 1 then close 50", "rule",
     "expected 'long', 'short', 'market', 'limit', a percent such as '50%', ',' or the end of the "
     "rule after 'close', found '50'", "did you mean '50%'?"),
    ("when x > 1 then set speed 5", "rule",
     "expected a setting such as 'leverage' or 'mode' after 'set', found 'speed'", ""),
    ("when position is then halt", "rule",
     "expected 'not' or a word such as 'long' or 'flat' after 'is', found 'then'", ""),
    ("when x > 1 for 3 then halt", "rule", "expected 'bars' after '3', found 'then'", ""),
    ("when x > 1 && y > 2 then halt", "rule",
     "expected 'then', 'and', 'or' or an operator after '1', found '&'", "use 'and' to join conditions"),
    ("when x > ${low} then halt", "rule",
     "expected a number, a field or an indicator after '>', found '$'",
     "declare 'low' under 'params' in the file"),
    ("when x > 1 then notify 'hi'", "rule",
     "expected a string in double quotes after 'notify', found '''", "strings are written in double quotes"),
    ("when rsi(14) < 30", "condition", "expected a condition, found 'when'",
     "leave out 'when': the 'when' key already says it"),
    ("then buy 1", "actions", "expected an action such as 'buy', 'sell' or 'close', found 'then'",
     "leave out 'then': the 'then' key already says it"),
    ("rsi(14) <", "condition",
     "expected a number, a field or an indicator after '<', found the end of the condition", ""),
    ("buy 1 tpp 2%", "actions",
     "expected 'market', 'limit', an order option such as 'tp', 'sl' or 'post only', ',' or the end "
     "of the actions after '1', found 'tpp'", "did you mean 'tp'?"),
    ("buy 1 expire 5", "actions", "expected a duration such as '5m' after 'expire', found '5'",
     "give the duration a unit, like '5m'"),
    ("when close > 1 for 2.5 bars then halt", "rule", "expected a whole number of bars, found '2.5'", ""),
    ("when close[1.5] > 1 then halt", "rule", "expected a whole number of bars back, found '1.5'", ""),
    ("when macd(fast=8, 2) > 0 then halt", "rule", "positional argument after a named argument",
     "put the positional arguments first, like 'macd(8, slow=21)'"),
])
def test_messages(text: str, start: Start, message: str, hint: str) -> None:
    d = error(text, start)
    assert (d.code, d.message, d.hint) == ("E201", message, hint)


def test_unterminated_string_points_from_the_quote() -> None:
    text = 'when x > 1 then notify "funding high'
    d = error(text)
    assert (d.code, d.message, d.hint) == ("E201", "unterminated string", "end the string with '\"'")
    assert pointed(text, d) == '"funding high'


@pytest.mark.parametrize("word, suggestion", [
    ("purchase", "buy"), ("exit", "close"), ("long", "buy"), ("short", "sell"),
    ("buyy", "buy"), ("sel", "sell"), ("notfy", "notify"), ("halts", "halt"),
])
def test_unknown_action_gets_e204_and_a_suggestion(word: str, suggestion: str) -> None:
    d = error(f"when x > 1 then {word} 0.01")
    assert (d.code, d.message, d.hint) == ("E204", f"unknown action '{word}'", f"did you mean '{suggestion}'?")


def test_unknown_action_without_a_close_word_lists_the_actions() -> None:
    d = error("when x > 1 then buy 1, frobnicate")
    assert d.code == "E204"
    assert d.hint == ("an action is one of 'buy', 'sell', 'close', 'cancel', 'set', 'notify', "
                      "'pause' or 'halt'")


def test_messages_follow_the_style() -> None:
    texts = ["when x >", "when x > 1 then buy 1 limit", "when x ) then halt", "when @ then halt",
             "when x > 1 then buy 1 tp", "when weekday in [mon, ] then halt", "when x in mon then halt"]
    for text in texts:
        d = error(text)
        assert d.message == d.message.lower() or "'" in d.message
        assert not d.message.endswith(".")
        assert "illegal" not in d.message and "invalid" not in d.message
        assert "found '" in d.message or "found the end" in d.message


def test_only_tokens_valid_at_the_error_are_offered() -> None:
    # After 'is' only 'not' or a word may come: no operators, no numbers, no 'then'.
    message = error("when position is then halt").message
    assert message == "expected 'not' or a word such as 'long' or 'flat' after 'is', found 'then'"
    # Inside a list of words, after a comma, only a word.
    message = error("when weekday in [mon, 5] then halt").message
    assert message == "expected a word such as 'mon' after ',', found '5'"


# --- positions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, underlined", [
    ("when rsi(14) < then buy 0.01", "then"),
    ("when x > 1 then purchase 0.01", "purchase"),
    ("when x > 1 && y then halt", "&"),
    ("when x > 1 then buy 0.01 limitt bid1", "limitt"),
    ("when close > 1 for 2.5 bars then halt", "2.5"),
    ("when macd(fast=8, 2) > 0 then halt", "2"),
])
def test_span_is_the_offending_token(text: str, underlined: str) -> None:
    d = error(text)
    assert (d.line, d.end_line) == (1, 1)
    assert pointed(text, d) == underlined


def test_unexpected_end_points_just_past_the_text() -> None:
    text = "when rsi(14) <"
    d = error(text)
    assert (d.line, d.column, d.end_column) == (1, len(text) + 1, len(text) + 2)


def test_positions_map_into_the_yaml_file() -> None:
    # The rule text starts at line 14, column 10 of the file; the error is 16 characters in.
    text = "when rsi(14) < then buy 0.01"
    d = error(text, source=Source.contiguous("rules/btc.yaml", text, line=14, column=10))
    assert (d.file, d.line, d.column, d.end_line, d.end_column) == ("rules/btc.yaml", 14, 25, 14, 29)


def test_positions_on_a_later_line_of_a_folded_rule() -> None:
    text = "when rsi(14) < 30\n  and position = 0\nthen buy 0.01"
    d = error(text, source=Source.contiguous("r.yaml", text, line=3, column=5))
    assert (d.line, d.column, d.end_column) == (4, 16, 17)
    assert d.hint == "use '==' to compare"
