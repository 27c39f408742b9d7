"""The table-driven reader's plans: a text built from the plan of an earlier text of the same shape
reads exactly as lark reads it, and as the table reads it when no plan is there yet."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from rulebot.lang import ast
from rulebot.lang.ast_builder import SyntaxProblem
from rulebot.lang.parser import MAX_NESTING, lark_parser, parse_with_lark
from rulebot.lang.plans import COMPILE_AFTER
from rulebot.lang.reader import MAX_PLANS, Stop, Tables, read, tables

_SHAPES = [
    ("condition", "rsi(14) < 30 and position == 0"),
    ("condition", "ema(20) crosses above ema(50) for 3 bars and adx(14) > 25"),
    ("condition", "close > bb_upper(20, 2) or (spread_pct < 0.02% and weekday is not weekend)"),
    ("condition", "time between 08:00 and 20:00 and change(15, 5m) < -2% and macd_hist()[1] <= 0"),
    ("actions", 'buy 0.01 limit bid1 - 0.05% tp 2% trail 1%, notify "at {price}"'),
    ("actions", "sell 100 usdt market sl 1.5% post only, set leverage 5"),
    ("actions", "close long 50% market, cancel orders"),
    ("rule", "when rsi(14, 5m) > 70 then close market"),
]
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.:%])")


def _fresh() -> Tables:
    return tables(lark_parser())


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


def _outcome(t: Tables, text: str, start: str) -> Any:
    try:
        return "ok", read(t, text, start)
    except Stop as stop:
        return "stop", stop.span, stop.code, stop.message, stop.hint


def test_a_shape_read_once_is_built_from_its_plan() -> None:
    t = _fresh()
    read(t, "rsi(14) < 30 and position == 0", "condition")
    assert len(t.plans) == 1
    node = read(t, "sma(200)   >  5 and   open_orders != 1", "condition")
    assert len(t.plans) == 1
    assert node == parse_with_lark("sma(200)   >  5 and   open_orders != 1", "condition")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_SHAPES), st.lists(st.integers(0, 999), min_size=8, max_size=8), st.booleans(),
       st.booleans())
def test_texts_built_from_a_plan_read_as_lark_reads_them(case: tuple[str, str], numbers: list[int],
                                                         spaced: bool, compiled: bool) -> None:
    start, text = case
    t = _fresh()
    assert read(t, text, start) is not None
    if compiled:  # built often enough for the plan to be compiled: the compiled form builds the same
        for _ in range(COMPILE_AFTER):
            read(t, text, start)
        assert all(shape.compiled is not None for shape in t.plans.values())
    values = iter(numbers)
    other = _NUMBER.sub(lambda m: str(next(values)), text)
    if spaced:
        other = "  " + other.replace(" ", "   ") + " "
    built = _outcome(t, other, start)
    assert built == _outcome(_fresh(), other, start)  # as the table reads it, with no plan yet
    try:
        expected = parse_with_lark(other, start)
    except (UnexpectedInput, SyntaxProblem):
        assert built[0] == "stop"
        return
    assert built[0] == "ok"
    assert built[1] == expected
    assert _spans(built[1]) == _spans(expected)


def test_a_value_that_cannot_be_read_stops_a_plan_as_it_stops_the_table() -> None:
    t = _fresh()
    read(t, "close > 1 for 3 bars", "condition")
    built = _outcome(t, "close > 1 for 2.5 bars", "condition")
    assert built[0] == "stop" and built[2] == "E201" and "whole number" in built[3]
    assert built == _outcome(_fresh(), "close > 1 for 2.5 bars", "condition")


def test_nesting_is_bounded_with_and_without_a_plan() -> None:
    t = _fresh()
    deepest = "(" * MAX_NESTING + "x" + ")" * MAX_NESTING
    assert read(t, deepest, "condition") == ast.Name("x")
    assert read(t, deepest.replace("x", "y"), "condition") == ast.Name("y")
    too_deep = _outcome(t, "(" + deepest + ")", "condition")
    assert too_deep[0] == "stop" and too_deep[2] == "E205"


@pytest.mark.parametrize("text", ["", "   ", "\n", "x > 1 \u20ac", "\u20ac x > 1", "x > 1 $", "x >\x0b1"])
def test_blank_and_foreign_characters_read_as_lark_reads_them(text: str) -> None:
    outcome = _outcome(_fresh(), text, "condition")
    try:
        expected = parse_with_lark(text, "condition")
    except UnexpectedInput:
        assert outcome[0] == "stop" and outcome[1] is None
    else:
        assert outcome == ("ok", expected)


def test_plans_kept_are_bounded() -> None:
    t = _fresh()
    for n in range(MAX_PLANS + 20):
        joiners = ["and" if n >> bit & 1 else "or" for bit in range(10)]  # a shape of its own
        read(t, "x > 1 " + " ".join(f"{word} x > 1" for word in joiners), "condition")
        assert 0 < len(t.plans) <= MAX_PLANS
    assert read(t, " and ".join(["y < 2"] * 3), "condition") == parse_with_lark(
        " and ".join(["y < 2"] * 3), "condition")
