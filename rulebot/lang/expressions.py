"""Checking expressions: names, arguments and kinds through every node (LANGUAGE.md §2–§4).

``ExprChecker.value(expr)`` gives each expression a ``Value`` (its kind, whether it is a bare
number, its constant value, its canonical key) and records what it reads, the history it
needs per timeframe and how each percent offset was read. Errors go to the ``Reporter``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from rulebot.lang import ast as A
from rulebot.lang.arguments import bind, plain_arguments
from rulebot.lang.checked_values import (
    CONDITION,
    ERROR,
    Offset,
    Read,
    Value,
    field_reading,
    indicator_read,
    make_value,
    new_value,
)
from rulebot.lang.kinds import NUMERIC, Kind, combine, comparable_kinds, negatable
from rulebot.lang.report import Reporter
from rulebot.lang.vocabulary import (
    CANDLE_FIELDS,
    FIELDS,
    INDICATORS,
    IS_WORDS,
    MAX_HISTORY,
    NAME_SYNONYMS,
    WORD_SYNONYMS,
    WORDS,
    Indicator,
    ReadSource,
    did_you_mean,
    timeframe_seconds,
)


# Enum members read through their class cost an attribute look-up on the enum type each time.
_ERROR_KIND = Kind.ERROR
_CONDITION_KIND = Kind.CONDITION
_NUMBER_KIND = Kind.NUMBER
_PERCENT_KIND = Kind.PERCENT
_PERCENT = A.Percent
_SHOW_ARGUMENT = "%s=%g".__mod__  # ("n", 14) -> "n=14", as f"{k}={v:g}"
_OP_WORDS = {"+": "'+'", "-": "'-'", "*": "'*'", "/": "'/'"}


class ExprChecker:
    """Checks the expressions of one rule part, against the file's timeframe and coins."""

    def __init__(self, rep: Reporter, timeframe: str, coins: frozenset[str], in_actions: bool = False) -> None:
        self.rep = rep
        self.timeframe = timeframe
        self.coins = coins
        self.in_actions = in_actions
        self.values: dict[int, Value] = {}
        self.reads: list[Read] = []
        self.history: dict[str, int] = {}
        self.offsets: list[Offset] = []
        self.for_bar_timeframes: list[str] = []
        self._readings: dict[int, str] = {}

    # --- entry points ------------------------------------------------------------------------

    def value(self, expr: A.Expr, extra: int = 0, needs_bars: str = "") -> Value:
        """Check ``expr`` and give its value. ``extra``: history bars needed beyond the current
        bar; ``needs_bars``: the construct (``[n]``, ``rising``) that needs bar history, if any."""
        handler = _HANDLERS.get(expr.__class__)
        if handler is None:
            self.rep.error("E201", getattr(expr, "span", A.NO_SPAN), "this is not an expression of the rule language")
            v = ERROR
        else:
            v = handler(self, expr, extra, needs_bars)
        self.values[id(expr)] = v
        return v

    def condition(self, expr: A.Expr, extra: int = 0) -> Value:
        """Check ``expr`` where a condition is needed (E309 if it is a value)."""
        v = self.value(expr, extra)
        if v is not CONDITION:
            self._need_condition(expr, v)
        return v

    def _need_condition(self, expr: A.Expr, v: Value) -> None:
        """E309 when ``v``, the value of ``expr``, is not a condition."""
        if v.kind is not _CONDITION_KIND and v.kind is not _ERROR_KIND:
            hint = "a condition compares values, such as 'rsi(14) < 30'" if v.kind in NUMERIC else ""
            self.rep.error("E309", expr.span, f"{self.rep.quoted(expr)} is {v.kind.article}, not a condition",
                           hint=hint, label="not a condition")

    def absorb(self, other: "ExprChecker") -> None:
        """Take over what another checker read (the parts of a notify message)."""
        self.reads.extend(other.reads)
        self.offsets.extend(other.offsets)
        for tf, bars in other.history.items():
            self.history[tf] = max(self.history.get(tf, 0), bars)

    # --- nodes -------------------------------------------------------------------------------

    def _number(self, e: A.Number, extra: int, needs: str) -> Value:
        return new_value(Value, (_NUMBER_KIND, True, float(e.text), None, None))  # e.value, without the property

    def _percent(self, e: A.Percent, extra: int, needs: str) -> Value:
        return new_value(Value, (_PERCENT_KIND, False, float(e.text) / 100.0, None, None))  # e.fraction

    def _duration(self, e: A.Duration, extra: int, needs: str) -> Value:
        return make_value(Kind.DURATION, const=float(e.seconds))

    def _string(self, e: A.String, extra: int, needs: str) -> Value:
        return make_value(Kind.STRING)

    def _not(self, e: A.Not, extra: int, needs: str) -> Value:
        self.condition(e.operand, extra)
        return CONDITION

    def _and_or(self, e: A.And | A.Or, extra: int, needs: str) -> Value:
        value = self.value
        for operand in e.operands:
            v = value(operand, extra)  # self.condition(operand, extra), written out: most nodes are operands
            if v is not CONDITION:
                self._need_condition(operand, v)
        return CONDITION

    # --- values ------------------------------------------------------------------------------

    def _time_of_day(self, e: A.TimeOfDay, extra: int, needs: str) -> Value:
        if not (0 <= e.hour <= 23 and 0 <= e.minute <= 59):
            self.rep.error("E114", e.span, f"'{e.text}' is not a time of day", hint="write HH:MM from 00:00 to 23:59")
            return ERROR
        return make_value(Kind.TIME_OF_DAY, const=float(e.hour * 60 + e.minute))

    def _money(self, e: A.Money, extra: int, needs: str) -> Value:
        if e.coin not in self.coins:
            span = e.span
            if span.end - span.start > len(e.coin):
                span = A.Span(span.end - len(e.coin), span.end)
            coins = ", ".join(sorted(self.coins))
            self.rep.error("E307", span, f"unknown coin '{e.coin}'", hint=f"use one of {coins}",
                           label="not a coin of this symbol")
        return make_value(Kind.MONEY, const=_float(e.amount))

    def _ticks(self, e: A.Ticks, extra: int, needs: str) -> Value:
        count = _float(e.count)
        if count is None or not math.isfinite(count) or count < 0 or count != int(count):
            self.rep.error("E308", e.span, f"a tick count must be a whole number of at least 0, found '{e.count}'")
            return ERROR
        return make_value(Kind.PRICE, key=f"ticks({int(count)})")

    def _name(self, e: A.Name, extra: int, needs: str) -> Value:
        field = FIELDS.get(e.name)
        if field is not None:
            if needs and field.is_live:
                self.rep.error("E209", e.span, f"'{e.name}' is a live field and has no bar history",
                               hint=f"{needs} works on candle fields and indicators, such as close or rsi(14)",
                               label="live field")
                return make_value(field.kind)
            if field.source is ReadSource.CANDLE:
                read, value = field_reading(field, self.timeframe)
                self._read(read, 1 + extra)
                return value
            read, value = field_reading(field, None)
            self.reads.append(read)  # self._read(read, 0): a live field needs no history
            return value
        if e.name in WORDS:
            return make_value(Kind.WORD, key=f"word:{e.name}")
        indicator = INDICATORS.get(e.name)
        if indicator is not None:
            self.rep.error("E206", e.span, f"indicator '{e.name}' needs its arguments in parentheses",
                           hint=f"for example '{example_call(indicator)}'")
            return make_value(indicator.kind)
        self.rep.error("E202", e.span, f"unknown field '{e.name}'",
                       hint=did_you_mean(e.name, list(FIELDS) + list(INDICATORS), NAME_SYNONYMS),
                       label="not a field or indicator")
        return ERROR

    def _call(self, e: A.Call, extra: int, needs: str) -> Value:
        name_span = e.name_span if e.name_span.end > e.name_span.start else e.span
        if e.name in CANDLE_FIELDS:
            field = FIELDS[e.name]
            bound = bind(e, (), self.rep, lambda: f"{e.name}(5m)")
            if not bound.ok:
                return make_value(field.kind)
            read, value = field_reading(field, bound.timeframe or self.timeframe)
            self._read(read, 1 + extra)
            return value
        if e.name in FIELDS:
            self.rep.error("E206", e.span, f"'{e.name}' is a live field and takes no arguments",
                           hint=f"write '{e.name}'")
            return make_value(FIELDS[e.name].kind)
        indicator = INDICATORS.get(e.name)
        if indicator is None:
            self.rep.error("E203", name_span, f"unknown indicator '{e.name}'",
                           hint=did_you_mean(e.name, list(INDICATORS) + list(CANDLE_FIELDS), NAME_SYNONYMS),
                           label="not an indicator")
            return ERROR
        plain = plain_arguments(e, indicator.params, indicator.less_than)  # most calls: bind's quick way
        if plain is not None:
            args, timeframe = plain
            values = tuple(args.items())
        else:
            bound = bind(e, indicator.params, self.rep, lambda: example_call(indicator), indicator.less_than)
            if not bound.ok:
                return make_value(indicator.kind)
            values, timeframe = bound.values, bound.timeframe
            args = dict(values)
        tf = timeframe or self.timeframe
        self._read(indicator_read(e.name, tf, values), indicator.warmup(args) + extra)  # warmup_bars(args)
        shown = ", ".join(map(_SHOW_ARGUMENT, values))
        return new_value(Value, (indicator.kind, False, None, f"{e.name}({shown})@{tf}", indicator.scale))

    def _index(self, e: A.Index, extra: int, needs: str) -> Value:
        if not 0 <= e.offset <= MAX_HISTORY:
            start = e.target.span.end if e.target.span.end > e.target.span.start else e.span.start
            self.rep.error("E308", A.Span(start, e.span.end),
                           f"a history offset must be between 0 and {MAX_HISTORY} bars, found {e.offset}")
            self.value(e.target, extra, "[n]")
            return ERROR
        inner = self.value(e.target, extra + e.offset, "[n]")
        if inner.kind not in NUMERIC and inner.kind is not Kind.ERROR:
            self.rep.error("E301", e.target.span, f"'[n]' needs a candle field or an indicator, "
                           f"found {self._described(e.target, inner)}")
            return ERROR
        key = f"{inner.key}[{e.offset}]" if inner.key else None
        return make_value(inner.kind, key=key, scale=inner.scale)

    def _neg(self, e: A.Neg, extra: int, needs: str) -> Value:
        inner = self.value(e.operand, extra, needs)
        if not negatable(inner.kind):
            self.rep.error("E301", e.span, f"cannot negate {self.rep.quoted(e.operand)} ({inner.kind.article})")
            return ERROR
        const = -inner.const if inner.const is not None else None
        return make_value(inner.kind, bare=inner.bare, const=const, key=f"-{inner.key}" if inner.key else None)

    def _binop(self, e: A.BinOp, extra: int, needs: str) -> Value:
        left = self.value(e.left, extra, needs)
        right = self.value(e.right, extra, needs)
        result = combine(e.op, left.operand, right.operand)
        if result is None:
            hint = ""
            if e.op in "+-" and right.kind is Kind.PERCENT and left.kind is Kind.NUMBER:
                hint = (f"a percent is added as an offset to a price or money only; to scale a number, "
                        f"multiply: '{self.rep.text(e.left)} * 1.05'")
            self.rep.error("E301", self._blame(e, e.left, e.right),
                           f"{_OP_WORDS[e.op]} does not combine {self._described(e.left, left)} "
                           f"with {self._described(e.right, right)}", hint=hint)
            return ERROR
        if e.op == "/" and right.const == 0:
            self.rep.error("E308", e.right.span, "division by zero")
            return ERROR
        if result.relative_offset:
            self._record_offset(e, right)
        const = _fold(e.op, left.const, right.const) if result.kind is not Kind.ERROR else None
        key = None
        left_text, right_text = _key_text(left), _key_text(right)
        if const is None and result.kind is not Kind.ERROR and left_text and right_text:
            key = f"({left_text} {e.op} {right_text})"
        return make_value(result.kind, bare=result.bare, const=const, key=key)

    def _record_offset(self, e: A.BinOp, pct: Value) -> None:
        base = self._readings.get(id(e.left), self.rep.text(e.left))
        if isinstance(e.right, A.Percent):
            try:
                frac = Decimal(e.right.text) / 100
            except InvalidOperation:
                return
            factor = Decimal(1) + frac if e.op == "+" else Decimal(1) - frac
            reading = f"{base} × {format(factor.normalize(), 'f')}"
        else:
            reading = f"{base} × (1 {e.op} {self.rep.text(e.right)})"
        self._readings[id(e)] = reading
        self.offsets.append(Offset(e.span, self.rep.text(e), reading, self.in_actions))

    # --- conditions --------------------------------------------------------------------------

    def _compare(self, e: A.Compare, extra: int, needs: str) -> Value:
        left = self.value(e.left, extra)
        right = self.value(e.right, extra)
        self._check_comparable(e, e.left, left, e.right, right, e.op)
        return CONDITION

    def _check_comparable(self, e: A.Expr, ln: A.Expr, lv: Value, rn: A.Expr, rv: Value, op: str) -> bool:
        if comparable_kinds(lv.kind, lv.bare, rv.kind, rv.bare, op) and not (
                (rn.__class__ is _PERCENT or ln.__class__ is _PERCENT) and self._oscillator_vs_percent(ln, lv, rn, rv)):
            return True
        if lv.kind is rv.kind is Kind.WORD:
            self.rep.error("E301", e.span, f"'{op}' does not apply to words such as {self.rep.quoted(rn)}",
                           hint="words are compared with 'is', 'in', '==' or '!='")
            return False
        self.rep.error("E301", self._blame(e, ln, rn),
                       f"cannot compare {self._described(ln, lv)} with {self._described(rn, rv)}",
                       hint=self._compare_hint(ln, lv, rn, rv), label="kinds do not match")
        return False

    def _oscillator_vs_percent(self, ln: A.Expr, lv: Value, rn: A.Expr, rv: Value) -> bool:
        """``rsi(14) < 30%`` reads 0.3 on a 0 … 100 scale: almost surely meant 30."""
        if not isinstance(rn, A.Percent) and not isinstance(ln, A.Percent):
            return False
        for a, b in ((lv, rn), (rv, ln)):
            if a.scale is not None and a.kind is Kind.NUMBER and a.scale.hi is not None and a.scale.lo is not None \
                    and a.scale.hi - a.scale.lo == 100 and isinstance(b, A.Percent):
                return True
        return False

    def _compare_hint(self, ln: A.Expr, lv: Value, rn: A.Expr, rv: Value) -> str:
        kinds = {lv.kind, rv.kind}
        if isinstance(rn, A.Percent) and lv.scale is not None and lv.kind is Kind.NUMBER:
            return f"{self.rep.quoted(ln)} is on a scale {lv.scale.text}: write {rn.text}, not {rn.text}%"
        if Kind.WORD in kinds and isinstance(ln, A.Name) and ln.name in IS_WORDS and isinstance(rn, A.Name):
            return f"write '{ln.name} is {rn.name}'"
        if isinstance(rn, A.Duration) and isinstance(ln, A.Call):
            return f"a timeframe goes inside the call, as in '{ln.name}(..., {rn.text})'"
        if Kind.DURATION in kinds:
            return "write a duration such as 30s, 15m or 2h"
        if Kind.TIME_OF_DAY in kinds:
            return "write a time of day such as 08:00, or compare 'hour'"
        if kinds == {Kind.MONEY, Kind.PRICE}:
            return "compare with a bare number, such as 1000"
        return ""

    def _chained(self, e: A.ChainedCompare, extra: int, needs: str) -> Value:
        for operand in e.operands:
            self.value(operand, extra)
        texts = [self.rep.text(o) for o in e.operands]
        hint = "split it with 'and'"
        if len(e.ops) == 2:
            if all(op in ("<", "<=") for op in e.ops):
                hint = f"write '{texts[1]} between {texts[0]} and {texts[2]}'"
            elif all(op in (">", ">=") for op in e.ops):
                hint = f"write '{texts[1]} between {texts[2]} and {texts[0]}'"
            else:
                hint = f"write '{texts[0]} {e.ops[0]} {texts[1]} and {texts[1]} {e.ops[1]} {texts[2]}'"
        self.rep.error("E207", e.span, "comparisons cannot be chained", hint=hint, label="chained comparison")
        return CONDITION

    def _crosses(self, e: A.Crosses, extra: int, needs: str) -> Value:
        left = self.value(e.left, extra + 1)
        right = self.value(e.right, extra + 1)
        self._check_comparable(e, e.left, left, e.right, right, "crosses")
        return CONDITION

    def _between(self, e: A.Between, extra: int, needs: str) -> Value:
        subject = self.value(e.subject, extra)
        low = self.value(e.low, extra)
        high = self.value(e.high, extra)
        if self._check_comparable(e, e.subject, subject, e.low, low, "between"):
            self._check_comparable(e, e.subject, subject, e.high, high, "between")
        return CONDITION

    def _trend(self, e: A.Trend, extra: int, needs: str) -> Value:
        if not 1 <= e.bars <= MAX_HISTORY:
            self.rep.error("E308", e.span, f"'{e.direction}' needs between 1 and {MAX_HISTORY} bars, found {e.bars}")
            return CONDITION
        subject = self.value(e.subject, extra + e.bars, f"'{e.direction}'")
        if subject.kind not in NUMERIC and subject.kind not in (Kind.ERROR, Kind.DURATION):
            self.rep.error("E301", e.subject.span, f"'{e.direction}' needs a number or a price, "
                           f"found {self._described(e.subject, subject)}")
        return CONDITION

    def _is_in(self, e: A.Is | A.In, extra: int, needs: str) -> Value:
        subject = self.value(e.subject, extra)
        words = (e.word,) if isinstance(e, A.Is) else e.words
        keyword = "is" if isinstance(e, A.Is) else "in"
        name = e.subject.name if isinstance(e.subject, A.Name) else ""
        allowed = IS_WORDS.get(name)
        if subject.kind is Kind.ERROR:
            return CONDITION
        if allowed is None:
            hint = ""
            if len(words) == 1 and isinstance(words[0], A.Name) and _is_number(words[0].name):
                hint = f"write '{self.rep.text(e.subject)} == {words[0].name}'"
            self.rep.error("E301", e.subject.span, f"'{keyword}' applies to 'position' and 'weekday', "
                           f"not to {self._described(e.subject, subject)}", hint=hint)
            return CONDITION
        for word in words:
            text = word.name if isinstance(word, A.Name) else self.rep.text(word)
            if text in allowed:
                continue
            if not isinstance(word, A.Name) or _is_number(text):
                self.rep.error("E301", word.span, f"cannot compare '{name}' with '{text}' using '{keyword}'",
                               hint=f"write '{name} == {text}'" if name == "position" else
                               f"expected one of {', '.join(allowed)}", label="not a word")
                continue
            hint = did_you_mean(text, allowed, WORD_SYNONYMS) or f"expected one of {', '.join(allowed)}"
            self.rep.error("E210", word.span, f"unknown word '{text}' after '{name} {keyword}'",
                           hint=hint, label=f"not a word for '{name}'")
        return CONDITION

    def _for(self, e: A.For, extra: int, needs: str) -> Value:
        if e.bars is not None and not 1 <= e.bars <= MAX_HISTORY:
            self.rep.error("E308", e.span, f"'for' needs between 1 and {MAX_HISTORY} bars, found {e.bars}")
        if e.duration is not None and e.duration.seconds <= 0:
            self.rep.error("E308", e.duration.span, "'for' needs a duration longer than zero")
        before = len(self.reads)
        self.condition(e.condition, extra + max(0, (e.bars or 1) - 1))
        if e.bars is not None:
            inner = [r.timeframe for r in self.reads[before:] if r.timeframe]
            tf = min(inner, key=timeframe_seconds) if inner else self.timeframe
            if tf not in self.for_bar_timeframes:
                self.for_bar_timeframes.append(tf)
        return CONDITION

    # --- helpers -----------------------------------------------------------------------------

    def _read(self, read: Read, bars: int) -> None:
        self.reads.append(read)
        tf = read.timeframe
        if tf is not None and bars > self.history.get(tf, 0):
            self.history[tf] = bars

    def _described(self, node: A.Expr, v: Value) -> str:
        return f"{self.rep.quoted(node)} ({v.kind.article})"

    def _blame(self, whole: A.Expr, left: A.Expr, right: A.Expr) -> A.Span:
        """The smallest span to blame for a mismatch: a literal side if there is one, else the whole."""
        for side in (right, left):
            if isinstance(side, (A.Number, A.Percent, A.Duration, A.TimeOfDay, A.Money, A.String, A.Ticks)) \
                    and side.span.end > side.span.start:
                return side.span
        return whole.span


_HANDLERS: dict[type, Callable[[ExprChecker, Any, int, str], Value]] = {
    A.Number: ExprChecker._number, A.Percent: ExprChecker._percent, A.Duration: ExprChecker._duration,
    A.TimeOfDay: ExprChecker._time_of_day, A.Money: ExprChecker._money, A.Ticks: ExprChecker._ticks,
    A.String: ExprChecker._string, A.Name: ExprChecker._name, A.Call: ExprChecker._call,
    A.Index: ExprChecker._index, A.Neg: ExprChecker._neg, A.BinOp: ExprChecker._binop,
    A.Compare: ExprChecker._compare, A.ChainedCompare: ExprChecker._chained, A.Crosses: ExprChecker._crosses,
    A.Between: ExprChecker._between, A.Trend: ExprChecker._trend, A.Is: ExprChecker._is_in,
    A.In: ExprChecker._is_in, A.For: ExprChecker._for, A.Not: ExprChecker._not, A.And: ExprChecker._and_or,
    A.Or: ExprChecker._and_or,
}
"""Which method checks which node type (a table: no chain of isinstance per node)."""


def example_call(indicator: Indicator) -> str:
    """``rsi(14)``, ``sma(20)``, ``obv()``: a call a trader can copy."""
    args = [f"{p.default:g}" if p.default is not None else "20" for p in indicator.params[:1]]
    return f"{indicator.name}({', '.join(args)})"


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_number(text: str) -> bool:
    return _float(text) is not None


def _fold(op: str, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b != 0 else None


def _key_text(v: Value) -> str:
    """How a part shows in the key of an arithmetic value ("" when it has neither key nor constant)."""
    if v.key:
        return v.key
    return f"{v.const!r}" if v.const is not None else ""

