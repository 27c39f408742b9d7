"""The parser on hostile input (never raises, bounded time and depth), the grammar's LALR table,
and agreement of the fast table-driven reader with lark's own parse + Transformer."""

from __future__ import annotations

import dataclasses
import random
import re
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.common import ParserConf
from lark.exceptions import UnexpectedInput
from lark.parsers.lalr_analysis import LALR_Analyzer

from rulebot.lang import ast
from rulebot.lang.ast_builder import SyntaxProblem
from rulebot.lang.parser import (MAX_LENGTH, MAX_NESTING, ParseResult, Start, grammar_path,
                                 make_lark, parse, parse_with_lark)
from rulebot.lang.source import Location, Source

STARTS: tuple[Start, ...] = ("rule", "condition", "actions")


def _parse(text: str, start: Start) -> ParseResult:
    return parse(Source.contiguous("t.yaml", text), start)


def _check_result(text: str, result: ParseResult) -> None:
    """A node and no diagnostic, or no node and exactly one error inside (or just past) the text."""
    if result.node is not None:
        assert result.diagnostics == ()
        return
    (d,) = result.diagnostics
    # E301: a number after `is` (`position is 30`) is said as the kind error it is; E103: a line
    # of the text that starts with '- ' is a rule YAML read as more of the text above it
    codes = ("E201", "E204", "E205", "E301") + (("E103",) if re.search(r"\n[ \t]*- ", text) else ())
    assert d.is_error and d.code in codes
    assert d.message and d.message == d.message.strip() and not d.message.endswith(".")
    last_line = text.count("\n") + 1
    assert 1 <= d.line <= d.end_line <= last_line


# --- the grammar ----------------------------------------------------------------------------------


def test_grammar_file_is_found() -> None:
    assert grammar_path().is_file()
    assert grammar_path().name == "rulebot.lark"


def test_lalr_table_has_no_conflicts() -> None:
    lark = make_lark(cache_tables=False)
    analyzer = LALR_Analyzer(ParserConf(lark.rules, {}, lark.options.start), strict=True)
    analyzer.compute_lalr()  # raises GrammarError on any shift/reduce or reduce/reduce conflict


def test_grammar_loads_with_strict_true() -> None:
    pytest.importorskip("interegular", reason="lark's strict mode checks terminal collisions with it")
    make_lark(strict=True)


# --- depth and size -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "(" * 10_000 + "x" + ")" * 10_000,
    "(" * 5_000 + "x",
    "- " * 5_000 + "x",
    "not " * 4_000 + "x",
    " + ".join(["a"] * 5_000),
    " * ".join(["a"] * 5_000),
    "x" + "[1]" * 3_000,
    "a > 1" + " for 3 bars" * 1_500,
    "rsi(" * 5_000 + "14" + ")" * 5_000,
])
def test_deep_nesting_is_e205_without_recursion(text: str) -> None:
    started = time.perf_counter()
    result = _parse(text, "condition")
    assert time.perf_counter() - started < 2.0
    assert result.node is None
    (d,) = result.diagnostics
    assert d.code == "E205"
    assert "nested more than 100 deep" in d.message


def test_nesting_up_to_the_limit_parses() -> None:
    depth = MAX_NESTING
    assert _parse("(" * depth + "x" + ")" * depth, "condition").node == ast.Name("x")
    node = _parse("- " * (depth - 1) + "x", "condition").node
    for _ in range(depth - 1):
        assert isinstance(node, ast.Neg)
        node = node.operand
    assert node == ast.Name("x")
    assert _parse("- " * depth + "x", "condition").diagnostics[0].code == "E205"


def test_long_flat_chains_are_not_nesting() -> None:
    text = " and ".join(f"close > {i}" for i in range(1_000))
    node = _parse(text, "condition").node
    assert isinstance(node, ast.And) and len(node.operands) == 1_000


def test_huge_text_is_refused_quickly() -> None:
    text = "close > 1 and " * 75_000  # over 1 MB
    source = Source("t.yaml", text, (Location(1, 1),) * (len(text) + 1))
    started = time.perf_counter()
    result = parse(source, "condition")
    assert time.perf_counter() - started < 1.0
    (d,) = result.diagnostics
    assert d.code == "E201"
    assert d.message == f"rule text too long ({len(text)} characters, at most {MAX_LENGTH})"


def test_long_text_with_an_error_at_the_end_is_diagnosed() -> None:
    text = " and ".join(["a > 1"] * 1_500) + " then"
    result = _parse(text, "condition")
    (d,) = result.diagnostics
    assert d.message == "expected 'and', 'or', an operator or the end of the condition after '1', found 'then'"
    assert d.column == len(text) - 3


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_never_raise(seed: int) -> None:
    rnd = random.Random(seed)
    raw = bytes(rnd.randrange(256) for _ in range(rnd.choice([1, 10, 200, 5_000])))
    for text in (raw.decode("latin-1"), raw.decode("utf-8", errors="replace")):
        for start in STARTS:
            _check_result(text, _parse(text, start))


def test_empty_and_blank_text() -> None:
    for text in ("", "   ", "\n\n"):
        for start in STARTS:
            result = _parse(text, start)
            _check_result(text, result)
            assert result.node is None


# --- property tests -------------------------------------------------------------------------------

_VOCABULARY = [
    "when", "then", "and", "or", "not", "crosses", "above", "below", "between", "rising", "falling",
    "for", "bars", "bar", "is", "in", "buy", "sell", "close", "cancel", "set", "notify", "pause",
    "halt", "market", "limit", "tp", "sl", "trail", "post", "only", "ioc", "fok", "reduce", "expire",
    "tag", "long", "short", "orders", "leverage", "mode", "equity", "tick", "ticks", "rsi", "ema",
    "position", "bid1", "open", "weekday", "mon", "usdt", "x", "D", "tf", "fast",
    "0", "1", "14", "0.01", "1e-4", "2.5", "2%", "50%", "5m", "1M", "4h", "08:00", '"hi"', '"a\\"b"',
    "(", ")", "[", "]", ",", "=", "<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "/", "%",
    "&", "'", '"', "${p}", "\u00e9", "\t", "\n",
]

_token_soup = st.lists(
    st.tuples(st.sampled_from(_VOCABULARY), st.sampled_from([" ", " ", "", "  "])),
    max_size=40,
).map(lambda parts: "".join(tok + sep for tok, sep in parts))

_VALID = [
    ("rule", "when rsi(14) < 30 and position == 0 then buy 0.01 limit bid1 tp 2% trail 1%"),
    ("rule", "when ema(20) crosses above ema(50) for 3 bars then buy 100 usdt limit ask1 + 1 tick sl 1%"),
    ("rule", "when time between 08:00 and 20:00 and weekday is not weekend then close long 50% market"),
    ("rule", 'when not (close[1] > open or rsi(14, 5m) rising 3) then notify "x {price}", pause'),
    ("condition", "macd(fast=8, slow=21) > macd_signal(tf=D) and -upnl_pct < 1% for 5m"),
    ("actions", 'sell 10% equity limit mid - 0.05% post only expire 5m tag "grid", set leverage 5'),
    ("actions", "cancel orders, set mode hedge, halt"),
]


def _spans(node: Any) -> list[tuple[str, str, ast.Span]]:
    found: list[tuple[str, str, ast.Span]] = []

    def walk(x: Any) -> None:
        if isinstance(x, tuple):
            for item in x:
                walk(item)
        elif dataclasses.is_dataclass(x) and not isinstance(x, ast.Span):
            for f in dataclasses.fields(x):
                value = getattr(x, f.name)
                if isinstance(value, ast.Span):
                    found.append((type(x).__name__, f.name, value))
                else:
                    walk(value)

    walk(node)
    return found


def _reference(text: str, start: Start) -> Any:
    try:
        return parse_with_lark(text, start)
    except (UnexpectedInput, SyntaxProblem):
        return None


def _agrees_with_lark(text: str, start: Start) -> None:
    result = _parse(text, start)
    _check_result(text, result)
    expected = _reference(text, start)
    assert result.node == expected
    assert _spans(result.node) == _spans(expected)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(STARTS))
def test_any_text_gives_a_node_or_one_diagnostic(text: str, start: Start) -> None:
    _check_result(text, _parse(text, start))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_token_soup, st.sampled_from(STARTS))
def test_token_soup_reads_as_lark_reads_it(text: str, start: Start) -> None:
    _agrees_with_lark(text, start)


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[Start, str]:
    start, text = draw(st.sampled_from(_VALID))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 12)))
        edit = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        if edit == "delete":
            text = text[:i] + text[j:]
        elif edit == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            piece = draw(st.sampled_from(_VOCABULARY))
            text = text[:i] + piece + (text[i:] if edit == "insert" else text[j:])
    return start, text


@settings(max_examples=300, deadline=None)
@given(_mutated())
def test_mutated_rules_read_as_lark_reads_them(case: tuple[Start, str]) -> None:
    start, text = case
    _agrees_with_lark(text, start)


@pytest.mark.parametrize("start, text", _VALID)
def test_valid_rules_read_as_lark_reads_them(start: Start, text: str) -> None:
    assert _parse(text, start).node is not None
    _agrees_with_lark(text, start)
