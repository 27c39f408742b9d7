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
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from rulebot.backtest.precomputed import SeriesBars, SymbolBars
from rulebot.engine.account import AccountFields
from rulebot.lang import ast as A
from rulebot.lang.arguments import bind
from rulebot.lang.expressions import ExprChecker, Value
from rulebot.lang.history import HistoryFacts
from rulebot.lang.kinds import Kind, combine
from rulebot.lang.pieces import fold
from rulebot.lang.report import Reporter
from rulebot.lang.source import Source
from rulebot.lang.vocabulary import CANDLE_FIELDS, DAY_NAMES, FIELDS, INDICATORS, STANDARD_COINS, ReadSource
from rulebot.market.candles import CandleField
from rulebot.market.indicator_spec import IndicatorSpec
from rulebot.market.live import LIVE_FIELDS, LiveFields
from rulebot.market.timeframes import normalize_timeframe
from rulebot.model.clock import Clock

NAN = math.nan
DAY_MS = 86_400_000

Arr = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Val = float | Arr
Tri = tuple[bool | Bools, bool | Bools]  # (known true, known false)

_DAY_SETS = {**{d: (i,) for i, d in enumerate(DAY_NAMES)}, "weekday": (0, 1, 2, 3, 4), "weekend": (5, 6)}
_ACCOUNT_NOW = frozenset({
    "position", "long_size", "short_size", "position_size", "entry_price", "liq_price", "leverage",
    "balance", "equity", "available", "open_orders",
})
_ACCOUNT_MOVING = frozenset({"upnl", "upnl_pct", "bars_in_position", "time_in_position", "pnl_today"})
_OPPOSITE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


class Unsupported(Exception):
    """A construct the masks do not read vectorised (the rule is evaluated bar by bar instead)."""


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


class MaskContext:
    """What the masks of one symbol's rules read: its bars, and the live, account and clock
    objects the compiled rules read."""

    def __init__(self, bars: SymbolBars, live: LiveFields, clock: Clock, tick_size: float, capacity: int) -> None:
        self.bars = bars
        self.live = live
        self.clock = clock
        self.tick_size = tick_size
        self.capacity = capacity
        self._times: dict[str, tuple[Arr, Arr, Arr]] = {}

    def local_time(self, timezone: str) -> tuple[Arr, Arr, Arr]:
        """(hour, minute, weekday) at each bar's close in ``timezone``, as ``runtime.LocalTime`` says them."""
        found = self._times.get(timezone)
        if found is None:
            found = self._times[timezone] = _local_time(self.bars.close_ms, timezone)
        return found


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
        return _bools(t, size), _bools(f, size)

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
            return self._make(lambda lo, hi: self._moving(name, lo, hi), [], leaf_pure=False)
        raise Unsupported(f"no reading of account field '{name}'")

    def _moving(self, name: str, lo: int, hi: int) -> Val:
        """An account field that moves with the price or the clock, at bars [lo, hi), from its
        value now (the position it depends on holds until the next account event)."""
        account = self.account
        now = self.ctx.clock.now_ms()
        times = self.ctx.bars.close_ms[lo:hi]
        if name == "pnl_today":
            today = account.pnl_today
            return np.where(times // DAY_MS == now // DAY_MS, today, 0.0)
        if name == "bars_in_position":
            held = account.bars_in_position
            if held != held:
                return NAN
            tf = self.account_tf_ms
            return (int(held) + (times // tf - now // tf)).astype(np.float64)
        if name == "time_in_position":
            held = account.time_in_position
            if held != held:
                return NAN
            opened = now - round(held * 1000.0)
            return (times - opened) / 1000.0
        upnl = self._upnl(lo, hi)
        if name == "upnl":
            return upnl
        if not (account.long_size > 0.0 or account.short_size > 0.0):
            return NAN  # flat: no entry value
        value = account.position_size * account.entry_price  # the entry value of the one open leg
        if not value > 0.0:
            return NAN
        return upnl / value

    def _upnl(self, lo: int, hi: int) -> Val:
        account = self.account
        long_size, short_size = account.long_size, account.short_size
        if not (long_size > 0.0 or short_size > 0.0):
            return float(account.upnl)  # flat (or not known yet): nothing moves
        if long_size > 0.0 and short_size > 0.0:
            raise Unsupported("upnl of a hedged position")
        size, sign = (long_size, 1) if long_size > 0.0 else (short_size, -1)
        mark = self.ctx.live.mark_price
        if mark == mark:
            return float(account.upnl)  # marked to a mark price no bar moves
        closes = self.ctx.bars.raw[3][lo:hi]
        if np.isnan(closes).any():
            raise Unsupported("upnl at a bar without a price")
        return 0.0 + (closes - account.entry_price) * size * sign

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
        return self._make(lambda lo, hi: _back(values, sb.count_at[lo:hi], shift), [])

    def _call(self, e: A.Call, shift: int) -> _Node:
        name, spec, timeframe = self._resolve_call(e)
        if spec is None:
            return self._candle(name, timeframe, shift)
        sb = self._series(spec.timeframe)
        if sb is None:
            return self._make(lambda lo, hi: np.full(hi - lo, NAN), [])
        values = sb.indicator(spec)
        return self._make(lambda lo, hi: _back(values, sb.count_at[lo:hi], shift), [])

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
            return self._make(lambda lo, hi: a.get(lo, hi) * _offset(sign, b.get(lo, hi)), [a, b])  # type: ignore[arg-type,operator]
        if a.fn is None and b.fn is None:
            return self._const(fold(op, a.const, b.const))  # type: ignore[arg-type]
        if op == "/":
            return self._make(lambda lo, hi: _divide(a.get(lo, hi), b.get(lo, hi)), [a, b])  # type: ignore[arg-type]
        arith = _ARITH[op]
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
            yes, no = _COMPARE[op], _COMPARE[_OPPOSITE[op]]
        elif op in ("==", "!="):
            same, differ = _equal, _differ
            yes, no = (same, differ) if op == "==" else (differ, same)
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
        return self._make(lambda lo, hi: _and_tri([p.get(lo, hi) for p in parts]), parts)  # type: ignore[misc]

    def _or(self, parts: list[_Node]) -> _Node:
        if len(parts) == 1:
            return parts[0]
        return self._not(self._and([self._not(p) for p in parts]))

    def _not(self, c: _Node) -> _Node:
        if c.fn is None:
            t, f = c.const  # type: ignore[misc]
            return self._const((f, t))
        return self._make(lambda lo, hi: _swap(c.get(lo, hi)), [c])  # type: ignore[arg-type]

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
                inside = _time_between(s.get(lo, hi), lo_node.get(lo, hi), hi_node.get(lo, hi))  # type: ignore[arg-type]
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


# --- helpers --------------------------------------------------------------------------------------


def _back(values: Arr, counts: npt.NDArray[np.int64], shift: int) -> Arr:
    """``values`` read ``shift`` bars back from the last closed one (``counts`` closed): NaN before the first."""
    idx = counts - 1 - shift
    if not len(values):
        return np.full(len(counts), NAN)
    got = values[np.maximum(idx, 0)]
    return np.where(idx >= 0, got, NAN)


def _bools(x: bool | Bools, size: int) -> Bools:
    if isinstance(x, (bool, np.bool_)):
        return np.full(size, bool(x))
    return x


def _and_tri(parts: list[Tri]) -> Tri:
    t: bool | Bools = True
    f: bool | Bools = False
    for pt, pf in parts:
        t = t & pt  # type: ignore[operator]
        f = f | pf  # type: ignore[operator]
    return t, f


def _swap(c: Tri) -> Tri:
    return c[1], c[0]


def _offset(sign: float, b: Val) -> Val:
    return 1.0 + b if sign > 0 else 1.0 - b


def _divide(a: Val, d: Val) -> Val:
    """``a / d if d else NAN`` (a NaN divisor is truthy: NaN)."""
    if isinstance(a, float) and isinstance(d, float):
        return a / d if d else NAN
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(d) != 0.0, np.divide(a, d), NAN)


def _add(a: Val, b: Val) -> Val:
    return a + b


def _sub(a: Val, b: Val) -> Val:
    return a - b


def _mul(a: Val, b: Val) -> Val:
    return a * b


_ARITH: dict[str, Callable[[Val, Val], Val]] = {"+": _add, "-": _sub, "*": _mul}


def _lt(x: Val, y: Val) -> bool | Bools:
    return x < y


def _le(x: Val, y: Val) -> bool | Bools:
    return x <= y


def _gt(x: Val, y: Val) -> bool | Bools:
    return x > y


def _ge(x: Val, y: Val) -> bool | Bools:
    return x >= y


def _equal(x: Val, y: Val) -> bool | Bools:
    return x == y  # type: ignore[return-value]


def _differ(x: Val, y: Val) -> bool | Bools:
    return (x < y) | (x > y)


_COMPARE: dict[str, Callable[[Val, Val], bool | Bools]] = {"<": _lt, "<=": _le, ">": _gt, ">=": _ge}


def _time_between(t: Val, lo: Val, hi: Val) -> bool | Bools:
    """``runtime.time_between`` per bar: a window whose start is after its end wraps midnight."""
    inside = (lo <= t) & (t <= hi)
    wrapped = (t >= lo) | (t <= hi)
    return np.where(lo <= hi, inside, wrapped) if not isinstance(inside, bool) else (inside if lo <= hi else wrapped)


def _local_time(close_ms: npt.NDArray[np.int64], timezone: str) -> tuple[Arr, Arr, Arr]:
    """(hour, minute, weekday) of each close in ``timezone``: ``datetime.fromtimestamp`` of the
    close's UTC minute, worked out per hour of the data (and per minute in an hour whose
    offset changes)."""
    minutes = close_ms // 60_000
    offsets = np.zeros(len(minutes), dtype=np.int64)
    if timezone != "UTC" and len(minutes):
        zone = ZoneInfo(timezone)
        hours = minutes // 60
        uniq, inverse = np.unique(hours, return_inverse=True)
        first = np.array([_offset_minutes(zone, int(h) * 3600) for h in uniq.tolist()], dtype=np.int64)
        last = np.array([_offset_minutes(zone, int(h) * 3600 + 3540) for h in uniq.tolist()], dtype=np.int64)
        offsets = first[inverse]
        for i in np.flatnonzero(first != last).tolist():
            rows = np.flatnonzero(inverse == i)
            offsets[rows] = [_offset_minutes(zone, int(m) * 60) for m in minutes[rows].tolist()]
    local = minutes + offsets
    return ((local // 60) % 24).astype(np.float64), (local % 60).astype(np.float64), \
        ((local // 1440 + 3) % 7).astype(np.float64)


def _offset_minutes(zone: ZoneInfo, ts_s: int) -> int:
    offset = datetime.fromtimestamp(ts_s, tz=UTC).astimezone(zone).utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    if seconds % 60:
        raise Unsupported(f"{zone.key} is offset by a fraction of a minute")
    return seconds // 60
