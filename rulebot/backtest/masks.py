"""Rule conditions read over a whole backtest at once: three-valued masks for the fast path.

`RuleMask` reads one bar rule's condition (its checked AST) for every replayed bar of its
symbol in one go, with numpy, and answers as the compiled condition would at that bar's
close: known true, known false, or neither (unknown). It follows ``lang/codegen.py``
construct by construct — the same float operations in the same order (``ema(50) + 1%`` is
``ema(50) × 1.01``, a division by zero is NaN), NaN making a comparison unknown, Kleene's
``and``/``or``/``not`` — so its answers equal the compiled ones bit for bit; the fast path's
identity tests hold it to that on every example and on generated rules.

What a condition reads, and how:

* candle fields and indicators of any timeframe, ``[n]``, ``rising``/``falling``, ``crosses``
  and ``for N bars`` read in history: from the whole-history arrays (`precomputed`), worked
  out once per rule and bar;
* ``price``/``last`` (a bar replay sets them to each bar's close) and the time fields
  (``hour``, ``minute``, ``time``, ``weekday``, in the file's timezone): per bar, once;
* the other live fields and the account fields that only account events change
  (``position``, ``entry_price``, ``balance``, ``open_orders``, ...): their value now, which holds
  until the next event — so a mask is only good until something happens on the account;
* ``upnl``, ``upnl_pct``, ``bars_in_position``, ``time_in_position``, ``pnl_today``: from their
  value now and each bar's close price and time.

Constructs that remember earlier evaluations (``crosses`` or ``for`` of live or account values,
``for DURATION``) are not read: such a rule has no mask (`Unsupported`), and the fast path
evaluates it at every bar it is due, as the engine does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from rulebot.backtest.maskops import (
    ARITH, COMPARE, Arr, Bools, MaskContext, Tri, Unsupported, and_tri, back, bools, differ, divide, equal,
    moving_account, offset, swap, time_between,
)
from rulebot.backtest.precomputed import SeriesBars
from rulebot.engine.account import AccountBook, AccountFields
from rulebot.engine.rulestate import RuleSlot
from rulebot.lang import ast as A
from rulebot.lang.arguments import bind
from rulebot.lang.expressions import ExprChecker, Value
from rulebot.lang.compiler import text_hash
from rulebot.lang.history import HistoryFacts
from rulebot.lang.kinds import Kind, combine
from rulebot.lang.lint import FileAnalysis, analyze_file
from rulebot.lang.pieces import fold
from rulebot.lang.report import Reporter
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import CANDLE_FIELDS, DAY_NAMES, FIELDS, INDICATORS, STANDARD_COINS, ReadSource
from rulebot.market.candles import CandleField
from rulebot.market.indicator_spec import IndicatorSpec
from rulebot.market.live import LIVE_FIELDS
from rulebot.market.timeframes import normalize_timeframe, timeframe_ms

NAN = math.nan

_DAY_SETS = {**{d: (i,) for i, d in enumerate(DAY_NAMES)}, "weekday": (0, 1, 2, 3, 4), "weekend": (5, 6)}
_ACCOUNT_NOW = frozenset({
    "position", "long_size", "short_size", "position_size", "entry_price", "liq_price", "leverage",
    "balance", "equity", "available", "open_orders",
})
_ACCOUNT_MOVING = frozenset({"upnl", "upnl_pct", "bars_in_position", "time_in_position", "pnl_today"})
_OPPOSITE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


class _Node:
    """One compiled piece: a constant, or a function of the bar range [lo, hi).

    A *pure* piece reads only bars and times, never the account or a live field that events
    change: it is worked out once for every bar and sliced afterwards.
    """

    __slots__ = ("fn", "const", "pure", "_full", "_n")

    def __init__(self, fn: Callable[[int, int], object] | None, *, const: object = None, pure: bool = False,
                 n: int = 0) -> None:
        self.fn = fn
        self.const = const
        self.pure = pure
        self._full: object = None
        self._n = n

    def get(self, lo: int, hi: int) -> object:
        if self.fn is None:
            return self.const
        if not self.pure:
            return self.fn(lo, hi)
        full = self._full
        if full is None:
            full = self._full = self.fn(0, self._n)
        if isinstance(full, tuple):
            return tuple(x[lo:hi] if isinstance(x, np.ndarray) else x for x in full)
        return full[lo:hi] if isinstance(full, np.ndarray) else full


class RuleMask:
    """The three-valued reading of one rule's condition at every replayed bar of its symbol.

    ``evaluate(lo, hi)`` gives (known true, known false) for bars [lo, hi), with the account and
    live values as they are now. Raises `Unsupported` at construction for a condition it cannot
    read, and from ``evaluate`` when the account is in a state it does not follow (both sides
    of a hedge-mode position open, for ``upnl``).
    """

    def __init__(self, condition: A.Expr, timeframe: str, eval_tf: str | None, timezone: str,
                 ctx: MaskContext, account: AccountFields, account_tf_ms: int) -> None:
        self.ctx = ctx
        self.account = account
        self.account_tf_ms = account_tf_ms
        self.timezone = timezone
        self.timeframe = timeframe
        self.n = ctx.bars.n
        checker = ExprChecker(Reporter(Source.contiguous("<mask>", ""), []), timeframe, frozenset(STANDARD_COINS))
        checker.condition(condition)
        self.kinds: dict[int, Value] = checker.values
        self._rep = Reporter(Source.contiguous("<mask>", ""), [])
        self._calls: dict[int, tuple[str, IndicatorSpec | None, str]] = {}
        self.history = HistoryFacts(timeframe, lambda call: self._resolve_call(call)[2])
        self.history.eval_tf = eval_tf
        if self.history.remembers(condition):
            raise Unsupported("the condition remembers earlier evaluations")
        self._root = self.cond(condition, 0)

    def evaluate(self, lo: int, hi: int) -> tuple[Bools, Bools]:
        """(known true, known false) at bars [lo, hi) of the symbol."""
        t, f = self._root.get(lo, hi)  # type: ignore[misc]
        size = hi - lo
        return bools(t, size), bools(f, size)

    # --- building ---------------------------------------------------------------------------

    def _const(self, x: object) -> _Node:
        return _Node(None, const=x)

    def _make(self, fn: Callable[[int, int], object], parts: list[_Node], *, leaf_pure: bool = True) -> _Node:
        """A piece computed from ``parts``: pure when it and every part are."""
        pure = leaf_pure and all(p.pure or p.fn is None for p in parts)
        return _Node(fn, pure=pure, n=self.n)

    def _kind(self, node: A.Expr) -> Value:
        v = self.kinds.get(id(node))
        if v is None:
            raise Unsupported(f"no kind known for {type(node).__name__}")
        return v

    # --- values ------------------------------------------------------------------------------

    def val(self, e: A.Expr, shift: int) -> _Node:
        """The value of ``e`` read ``shift`` bars back (as ``Codegen.val``)."""
        if isinstance(e, A.Number):
            return self._const(e.value)
        if isinstance(e, A.Percent):
            return self._const(e.fraction)
        if isinstance(e, A.Duration):
            return self._const(float(e.seconds))
        if isinstance(e, A.TimeOfDay):
            return self._const(float(e.hour * 60 + e.minute))
        if isinstance(e, A.Money):
            return self._const(float(e.amount))
        if isinstance(e, A.Ticks):
            return self._const(float(e.count) * self.ctx.tick_size)
        if isinstance(e, A.Name):
            return self._name(e, shift)
        if isinstance(e, A.Call):
            return self._call(e, shift)
        if isinstance(e, A.Index):
            return self.val(e.target, shift + e.offset)
        if isinstance(e, A.Neg):
            inner = self.val(e.operand, shift)
            if inner.fn is None:
                return self._const(-inner.const)  # type: ignore[operator]
            return self._make(lambda lo, hi: -inner.get(lo, hi), [inner])  # type: ignore[operator]
        if isinstance(e, A.BinOp):
            return self._binop(e, shift)
        raise Unsupported(f"{type(e).__name__} is not a value")

    def _name(self, e: A.Name, shift: int) -> _Node:
        f = FIELDS.get(e.name)
        if f is None:
            raise Unsupported(f"'{e.name}' is not a field")
        if f.source is ReadSource.CANDLE:
            return self._candle(f.name, self.timeframe, shift)
        if shift:
            raise Unsupported(f"'{e.name}' has no bar history")
        if f.source is ReadSource.MARKET:
            return self._live(f.name)
        if f.source is ReadSource.ACCOUNT:
            return self._account(f.name)
        if f.source is ReadSource.TIME and f.name in ("hour", "minute", "time", "weekday"):
            return self._time(f.name)
        raise Unsupported(f"no reading of field '{f.name}'")

    def _live(self, name: str) -> _Node:
        bars = self.ctx.bars
        if name in ("price", "last"):
            closes = bars.raw[3]  # a bar replay sets the last price to each bar's close
            return self._make(lambda lo, hi: closes[lo:hi], [])
        live = self.ctx.live
        if name not in LIVE_FIELDS:
            raise Unsupported(f"no live field '{name}'")
        return self._make(lambda lo, hi: float(getattr(live, name)), [], leaf_pure=False)

    def _account(self, name: str) -> _Node:
        account = self.account
        if name in _ACCOUNT_NOW:
            return self._make(lambda lo, hi: float(getattr(account, name)), [], leaf_pure=False)
        if name in _ACCOUNT_MOVING:
            return self._make(lambda lo, hi: moving_account(name, self.account, self.ctx, self.account_tf_ms, lo, hi), [], leaf_pure=False)
        raise Unsupported(f"no reading of account field '{name}'")

    def _time(self, name: str) -> _Node:
        ctx = self.ctx
        zone = self.timezone

        def read(lo: int, hi: int) -> Arr:
            hour, minute, weekday = ctx.local_time(zone)
            if name == "hour":
                return hour[lo:hi]
            if name == "minute":
                return minute[lo:hi]
            if name == "weekday":
                return weekday[lo:hi]
            return hour[lo:hi] * 60.0 + minute[lo:hi]

        return self._make(read, [])

    def _series(self, timeframe: str) -> SeriesBars | None:
        return self.ctx.bars.by_timeframe.get(normalize_timeframe(timeframe))

    def _candle(self, name: str, timeframe: str, shift: int) -> _Node:
        sb = self._series(timeframe)
        row = int(CandleField[name.upper()])
        if sb is None or shift >= self.ctx.capacity:
            return self._make(lambda lo, hi: np.full(hi - lo, NAN), [])  # never closes / beyond the ring
        values = sb.values[row]
        return self._make(lambda lo, hi: back(values, sb.count_at[lo:hi], shift), [])

    def _call(self, e: A.Call, shift: int) -> _Node:
        name, spec, timeframe = self._resolve_call(e)
        if spec is None:
            return self._candle(name, timeframe, shift)
        sb = self._series(spec.timeframe)
        if sb is None:
            return self._make(lambda lo, hi: np.full(hi - lo, NAN), [])
        values = sb.indicator(spec)
        return self._make(lambda lo, hi: back(values, sb.count_at[lo:hi], shift), [])

    def _resolve_call(self, e: A.Call) -> tuple[str, IndicatorSpec | None, str]:
        """A call's name, indicator spec (None for a candle field) and timeframe (as ``Codegen``)."""
        found = self._calls.get(id(e))
        if found is not None:
            return found
        if e.name in CANDLE_FIELDS:
            bound = bind(e, (), self._rep, lambda: e.name)
            result: tuple[str, IndicatorSpec | None, str] = (e.name, None, bound.timeframe or self.timeframe)
        elif e.name in INDICATORS:
            definition = INDICATORS[e.name]
            bound = bind(e, definition.params, self._rep, lambda: e.name, definition.less_than)
            tf = bound.timeframe or self.timeframe
            result = (e.name, IndicatorSpec.make(e.name, (), tf, dict(bound.values)), tf)
        else:
            raise Unsupported(f"unknown indicator '{e.name}'")
        if not bound.ok:
            raise Unsupported(f"the arguments of '{e.name}' do not check")
        self._calls[id(e)] = result
        return result

    def _binop(self, e: A.BinOp, shift: int) -> _Node:
        a, b = self.val(e.left, shift), self.val(e.right, shift)
        combined = combine(e.op, self._kind(e.left).operand, self._kind(e.right).operand)
        if combined is None:
            raise Unsupported(f"'{e.op}' does not combine these kinds")
        op = e.op
        if combined.relative_offset:  # `ema(50) + 1%` is ema(50) × 1.01
            if b.fn is None:
                factor = 1.0 + b.const if op == "+" else 1.0 - b.const  # type: ignore[operator]
                if a.fn is None:
                    return self._const(a.const * factor)  # type: ignore[operator]
                return self._make(lambda lo, hi: a.get(lo, hi) * factor, [a])  # type: ignore[operator]
            sign = 1.0 if op == "+" else -1.0
            return self._make(lambda lo, hi: a.get(lo, hi) * offset(sign, b.get(lo, hi)), [a, b])  # type: ignore[arg-type,operator]
        if a.fn is None and b.fn is None:
            return self._const(fold(op, a.const, b.const))  # type: ignore[arg-type]
        if op == "/":
            return self._make(lambda lo, hi: divide(a.get(lo, hi), b.get(lo, hi)), [a, b])  # type: ignore[arg-type]
        arith = ARITH[op]
        return self._make(lambda lo, hi: arith(a.get(lo, hi), b.get(lo, hi)), [a, b])

    # --- conditions --------------------------------------------------------------------------

    def cond(self, e: A.Expr, shift: int) -> _Node:
        """The condition ``e`` read ``shift`` bars back (as ``Codegen.cond``)."""
        if isinstance(e, A.And):
            return self._and([self.cond(x, shift) for x in e.operands])
        if isinstance(e, A.Or):
            return self._or([self.cond(x, shift) for x in e.operands])
        if isinstance(e, A.Not):
            return self._not(self.cond(e.operand, shift))
        if isinstance(e, A.Compare):
            if Kind.WORD in (self._kind(e.left).kind, self._kind(e.right).kind):
                return self._word_compare(e)
            return self.cmp(e.op, self.val(e.left, shift), self.val(e.right, shift))
        if isinstance(e, A.Between):
            return self._between(e, shift)
        if isinstance(e, A.Crosses):
            return self._crosses(e, shift)
        if isinstance(e, A.Trend):
            return self._trend(e, shift)
        if isinstance(e, A.For):
            return self._for(e, shift)
        if isinstance(e, (A.Is, A.In)):
            return self._is_in(e, shift)
        raise Unsupported(f"{type(e).__name__} is not a condition")

    def cmp(self, op: str, a: _Node, b: _Node) -> _Node:
        """``a op b``, unknown when either side is NaN."""
        if op in _OPPOSITE:
            yes, no = COMPARE[op], COMPARE[_OPPOSITE[op]]
        elif op in ("==", "!="):
            yes, no = (equal, differ) if op == "==" else (differ, equal)
        else:
            raise Unsupported(f"unknown comparison '{op}'")
        if a.fn is None and b.fn is None:
            x, y = a.const, b.const
            return self._const((bool(yes(x, y)), bool(no(x, y))))

        def compute(lo: int, hi: int) -> Tri:
            x, y = a.get(lo, hi), b.get(lo, hi)
            return yes(x, y), no(x, y)

        return self._make(compute, [a, b])

    def _and(self, parts: list[_Node]) -> _Node:
        if len(parts) == 1:
            return parts[0]
        return self._make(lambda lo, hi: and_tri([p.get(lo, hi) for p in parts]), parts)  # type: ignore[misc]

    def _or(self, parts: list[_Node]) -> _Node:
        if len(parts) == 1:
            return parts[0]
        return self._not(self._and([self._not(p) for p in parts]))

    def _not(self, c: _Node) -> _Node:
        if c.fn is None:
            t, f = c.const  # type: ignore[misc]
            return self._const((f, t))
        return self._make(lambda lo, hi: swap(c.get(lo, hi)), [c])  # type: ignore[arg-type]

    def _word_compare(self, e: A.Compare) -> _Node:
        if e.op not in ("==", "!="):
            raise Unsupported(f"'{e.op}' does not apply to words")
        left, right = e.left, e.right
        if not isinstance(left, A.Name) or not isinstance(right, A.Name):
            raise Unsupported("words are compared by name")
        if left.name == "weekday":
            result = self._days(right.name)
        elif right.name == "weekday":
            result = self._days(left.name)
        else:
            same = left.name == right.name
            result = self._const((same, not same))
        return result if e.op == "==" else self._not(result)

    def _days(self, word: str) -> _Node:
        days = _DAY_SETS.get(word)
        if days is None:
            raise Unsupported(f"'{word}' is not a day")
        return self._weekday_in(days)

    def _weekday_in(self, days: tuple[int, ...]) -> _Node:
        today = self._time("weekday")
        listed = np.array(sorted(set(days)), dtype=np.float64)

        def compute(lo: int, hi: int) -> Tri:
            inside = np.isin(today.get(lo, hi), listed)  # type: ignore[arg-type]
            return inside, ~inside

        return self._make(compute, [today])

    def _is_in(self, e: A.Is | A.In, shift: int) -> _Node:
        subject = e.subject.name if isinstance(e.subject, A.Name) else ""
        words = [e.word] if isinstance(e, A.Is) else list(e.words)
        if subject == "weekday":
            days: list[int] = []
            for w in words:
                found = _DAY_SETS.get(w.name)
                if found is None:
                    raise Unsupported(f"'{w.name}' is not a day")
                days.extend(found)
            result = self._weekday_in(tuple(days))
        elif subject == "position":
            position = self.val(e.subject, shift)
            zero = self._const(0.0)
            ops = {"long": ">", "short": "<", "flat": "=="}
            if any(w.name not in ops for w in words):
                raise Unsupported("a position is long, short or flat")
            result = self._or([self.cmp(ops[w.name], position, zero) for w in words])
        else:
            raise Unsupported("'is' and 'in' apply to position and weekday")
        return self._not(result) if isinstance(e, A.Is) and e.negated else result

    def _between(self, e: A.Between, shift: int) -> _Node:
        s, lo_node, hi_node = self.val(e.subject, shift), self.val(e.low, shift), self.val(e.high, shift)
        if self._kind(e.subject).kind is Kind.TIME_OF_DAY:
            def compute(lo: int, hi: int) -> Tri:
                inside = time_between(s.get(lo, hi), lo_node.get(lo, hi), hi_node.get(lo, hi))  # type: ignore[arg-type]
                return inside, ~inside if not isinstance(inside, bool) else not inside

            return self._make(compute, [s, lo_node, hi_node])
        return self._and([self.cmp("<=", lo_node, s), self.cmp("<=", s, hi_node)])

    def _crosses(self, e: A.Crosses, shift: int) -> _Node:
        if not self.history.crosses_by_history(e):
            raise Unsupported("'crosses' of values that have no bar history")
        a0, b0 = self.val(e.left, shift), self.val(e.right, shift)
        a1, b1 = self.val(e.left, shift + 1), self.val(e.right, shift + 1)
        up = self._and([self.cmp("<=", a1, b1), self.cmp(">", a0, b0)])
        down = self._and([self.cmp(">=", a1, b1), self.cmp("<", a0, b0)])
        if e.direction == "above":
            return up
        if e.direction == "below":
            return down
        return self._or([up, down])

    def _trend(self, e: A.Trend, shift: int) -> _Node:
        """``A rising n``: A[n] < … < A[0]; false as soon as one known pair is out of order."""
        values = [self.val(e.subject, shift + j) for j in range(e.bars + 1)]
        rising = e.direction == "rising"

        def compute(lo: int, hi: int) -> Tri:
            ok: bool | Bools = True
            bad: bool | Bools = False
            newer = values[0].get(lo, hi)
            for node in values[1:]:
                older = node.get(lo, hi)
                if rising:
                    ok, bad = ok & (older < newer), bad | (older >= newer)  # type: ignore[operator]
                else:
                    ok, bad = ok & (older > newer), bad | (older <= newer)  # type: ignore[operator]
                newer = older
            return ok, bad

        return self._make(compute, values)

    def _for(self, e: A.For, shift: int) -> _Node:
        if e.bars is None or not self.history.for_by_history(e):
            raise Unsupported("a remembered 'for'")
        if e.bars == 1:
            return self.cond(e.condition, shift)
        return self._and([self.cond(e.condition, shift + j) for j in range(e.bars)])


def rule_mask(slot: RuleSlot, ctx: MaskContext, accounts: AccountBook,
              analyses: dict[str, FileAnalysis]) -> RuleMask | None:
    """The mask of a bar rule (``ctx`` is its symbol's), or None when it has none: it is
    scheduled, its condition cannot be read vectorised, or its file's text (``analyses`` by path,
    each file analysed again and added when missing) is no longer the one it was compiled from."""
    rule = slot.rule
    if rule.condition is None or slot.scheduled:
        return None
    analysis = analyses.get(slot.file.path)
    if analysis is None:
        analysis = analyses[slot.file.path] = analyze_file(slot.file.path)
    rule_file = analysis.rule_file
    analyzed = next((a for a in analysis.rules if a.rule.index == rule.index and a.rule.name == rule.name), None)
    if rule_file is None or analyzed is None or text_hash(analyzed.rule, rule_file) != rule.text_hash:
        return None
    checked = analyzed.checked
    if analyzed.condition is None or checked is None:
        return None
    eval_tf = checked.timeframes[0] if checked.is_bar_rule and checked.timeframes else None
    tf_ms = timeframe_ms(slot.file.timeframe) or 60_000
    try:
        return RuleMask(analyzed.condition, slot.file.timeframe, eval_tf, slot.file.timezone, ctx,
                        accounts.fields(slot.symbol, tf_ms), tf_ms)
    except Unsupported:
        return None
