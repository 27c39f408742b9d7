"""What the rule masks (``masks.py``) read and compute with, bar by bar, vectorised.

`MaskContext` holds a symbol's whole-history bars and the live, account and clock objects the
compiled rules read; ``moving_account`` works out the account fields that move with the price
or the clock (``upnl``, ``upnl_pct``, ``bars_in_position``, ``time_in_position``,
``pnl_today``) from their value now; ``local_time`` gives each close's hour, minute and weekday
in a timezone. The rest are the elementwise operations of compiled conditions over arrays —
the same float operations as ``lang/codegen.py`` writes, NaN making a comparison unknown.
A value is a float or an array over a range of bars; a condition is (known true, known false).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from rulebot.backtest.precomputed import SymbolBars
from rulebot.engine.account import AccountFields
from rulebot.market.live import LiveFields
from rulebot.model.clock import Clock

NAN = math.nan
DAY_MS = 86_400_000

Arr = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Val = float | Arr
Tri = tuple[bool | Bools, bool | Bools]  # (known true, known false)


class Unsupported(Exception):
    """A construct the masks do not read vectorised (the rule is evaluated bar by bar instead)."""


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
            found = self._times[timezone] = local_time(self.bars.close_ms, timezone)
        return found


def moving_account(name: str, account: AccountFields, ctx: MaskContext, tf_ms: int, lo: int, hi: int) -> Val:
    """An account field that moves with the price or the clock, at bars [lo, hi), from its
    value now (the position it depends on holds until the next account event). ``tf_ms``: the bar length
    ``bars_in_position`` counts."""
    now = ctx.clock.now_ms()
    times = ctx.bars.close_ms[lo:hi]
    if name == "pnl_today":
        today = account.pnl_today
        return np.where(times // DAY_MS == now // DAY_MS, today, 0.0)
    if name == "bars_in_position":
        held = account.bars_in_position
        if held != held:
            return NAN
        tf = tf_ms
        return (int(held) + (times // tf - now // tf)).astype(np.float64)
    if name == "time_in_position":
        held = account.time_in_position
        if held != held:
            return NAN
        opened = now - round(held * 1000.0)
        return (times - opened) / 1000.0
    upnl = _upnl(account, ctx, lo, hi)
    if name == "upnl":
        return upnl
    if not (account.long_size > 0.0 or account.short_size > 0.0):
        return NAN  # flat: no entry value
    value = account.position_size * account.entry_price  # the entry value of the one open leg
    if not value > 0.0:
        return NAN
    return upnl / value

def _upnl(account: AccountFields, ctx: MaskContext, lo: int, hi: int) -> Val:
    long_size, short_size = account.long_size, account.short_size
    if not (long_size > 0.0 or short_size > 0.0):
        return float(account.upnl)  # flat (or not known yet): nothing moves
    if long_size > 0.0 and short_size > 0.0:
        raise Unsupported("upnl of a hedged position")
    size, sign = (long_size, 1) if long_size > 0.0 else (short_size, -1)
    mark = ctx.live.mark_price
    if mark == mark:
        return float(account.upnl)  # marked to a mark price no bar moves
    closes = ctx.bars.raw[3][lo:hi]
    if np.isnan(closes).any():
        raise Unsupported("upnl at a bar without a price")
    return 0.0 + (closes - account.entry_price) * size * sign


def back(values: Arr, counts: npt.NDArray[np.int64], shift: int) -> Arr:
    """``values`` read ``shift`` bars back from the last closed one (``counts`` closed): NaN before the first."""
    idx = counts - 1 - shift
    if not len(values):
        return np.full(len(counts), NAN)
    got = values[np.maximum(idx, 0)]
    return np.where(idx >= 0, got, NAN)


def bools(x: bool | Bools, size: int) -> Bools:
    """A known-true or known-false answer as an array over ``size`` bars."""
    if isinstance(x, (bool, np.bool_)):
        return np.full(size, bool(x))
    return x


def and_tri(parts: list[Tri]) -> Tri:
    """Kleene ``and``: true where every part is, false where one is."""
    t: bool | Bools = True
    f: bool | Bools = False
    for pt, pf in parts:
        if pf is True:
            return False, True  # one part known false everywhere (a guard on the account, say)
        t = t & pt  # type: ignore[operator]
        f = f | pf  # type: ignore[operator]
    return t, f


def swap(c: Tri) -> Tri:
    """Kleene ``not``."""
    return c[1], c[0]


def offset(sign: float, b: Val) -> Val:
    """The factor of a relative offset: ``1.0 + b`` (``sign`` > 0) or ``1.0 - b``."""
    return 1.0 + b if sign > 0 else 1.0 - b


def divide(a: Val, d: Val) -> Val:
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


ARITH: dict[str, Callable[[Val, Val], Val]] = {"+": _add, "-": _sub, "*": _mul}


def _lt(x: Val, y: Val) -> bool | Bools:
    return x < y


def _le(x: Val, y: Val) -> bool | Bools:
    return x <= y


def _gt(x: Val, y: Val) -> bool | Bools:
    return x > y


def _ge(x: Val, y: Val) -> bool | Bools:
    return x >= y


def equal(x: Val, y: Val) -> bool | Bools:
    """Known equal (NaN is never)."""
    return x == y  # type: ignore[return-value]


def differ(x: Val, y: Val) -> bool | Bools:
    """Known different: both known and unequal (``x != y`` would call NaN different)."""
    return (x < y) | (x > y)


COMPARE: dict[str, Callable[[Val, Val], bool | Bools]] = {"<": _lt, "<=": _le, ">": _gt, ">=": _ge}


def time_between(t: Val, lo: Val, hi: Val) -> bool | Bools:
    """``runtime.time_between`` per bar: a window whose start is after its end wraps midnight."""
    inside = (lo <= t) & (t <= hi)
    wrapped = (t >= lo) | (t <= hi)
    return np.where(lo <= hi, inside, wrapped) if not isinstance(inside, bool) else (inside if lo <= hi else wrapped)


def local_time(close_ms: npt.NDArray[np.int64], timezone: str) -> tuple[Arr, Arr, Arr]:
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
