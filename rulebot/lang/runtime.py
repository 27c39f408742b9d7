"""What compiled conditions call at run time: the memory of ``crosses`` and ``for``, the local
time of day, and the loops of ``rising``/``falling`` and ``for N bars`` (LANGUAGE.md §4, §5).

Three-valued results are ``True`` / ``False`` / ``None`` (unknown); values are floats with NaN
for unknown. Every memory is idempotent at one instant: evaluating a condition twice at the
same clock time (or, for ``for N bars``, within the same bar) gives the same answer, so an
engine that evaluates a rule once per changed timeframe of one event cannot fool it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from rulebot.market.candles import CandleSeries
from rulebot.model.clock import Clock

NAN = math.nan
INF = math.inf

Tri = bool | None
State = dict[str, float | int | bool | None]


def _f(x: float) -> float | None:
    """A float for a snapshot: NaN becomes None (JSON has no NaN)."""
    return None if x != x else float(x)


def _unf(x: object) -> float:
    return NAN if x is None else float(x)  # type: ignore[arg-type]


def _opt_int(x: object) -> int | None:
    return None if x is None else int(x)  # type: ignore[call-overload]


def crossed(direction: str, pa: float, pb: float, a: float, b: float) -> Tri:
    """``A crosses above B`` from the previous values (pa, pb) and the current ones (a, b):
    ``pa <= pb and a > b`` in three-valued logic (NaN makes a comparison unknown)."""
    if direction == "above":
        return _and2(_cmp(pa, pb, "<="), _cmp(a, b, ">"))
    if direction == "below":
        return _and2(_cmp(pa, pb, ">="), _cmp(a, b, "<"))
    up = _and2(_cmp(pa, pb, "<="), _cmp(a, b, ">"))
    down = _and2(_cmp(pa, pb, ">="), _cmp(a, b, "<"))
    if up is True or down is True:
        return True
    if up is False and down is False:
        return False
    return None


def _cmp(a: float, b: float, op: str) -> Tri:
    if a != a or b != b:
        return None
    if op == "<=":
        return a <= b
    if op == ">=":
        return a >= b
    if op == ">":
        return a > b
    return a < b


def _and2(x: Tri, y: Tri) -> Tri:
    if x is False or y is False:
        return False
    if x is None or y is None:
        return None
    return True


class CrossMemory:
    """``A crosses above B`` against the previous evaluation: the values seen at the last
    evaluation of an earlier instant (unknown before the first)."""

    __slots__ = ("clock", "direction", "ts", "pa", "pb", "a", "b")

    def __init__(self, clock: Clock, direction: str) -> None:
        self.clock = clock
        self.direction = direction
        self.ts: int | None = None
        self.pa = self.pb = self.a = self.b = NAN

    def step(self, a: float, b: float) -> Tri:
        """Record this evaluation's values and say whether A crossed B since the previous one."""
        now = self.clock.now_ms()
        if now != self.ts:
            self.pa, self.pb = self.a, self.b
            self.ts = now
        self.a, self.b = a, b
        return crossed(self.direction, self.pa, self.pb, a, b)

    def snapshot(self) -> State:
        return {"ts": self.ts, "pa": _f(self.pa), "pb": _f(self.pb), "a": _f(self.a), "b": _f(self.b)}

    def restore(self, state: Mapping[str, object]) -> None:
        self.ts = _opt_int(state.get("ts"))
        self.pa, self.pb = _unf(state.get("pa")), _unf(state.get("pb"))
        self.a, self.b = _unf(state.get("a")), _unf(state.get("b"))


class ForDuration:
    """``C for 5m``: C held at every evaluation for the last 5 minutes.

    Keeps when the trailing run of true evaluations began, and when the trailing run of
    evaluations that were not false began. Before the first evaluation nothing is known, so
    a run that started at the first evaluation gives unknown, not false, until it is long enough.
    """

    __slots__ = ("clock", "ms", "true_since", "open_since", "known_since")

    def __init__(self, clock: Clock, seconds: int) -> None:
        self.clock = clock
        self.ms = seconds * 1000
        self.true_since: int | None = None     # start of the trailing run of True
        self.open_since = True                 # no False seen since memory began
        self.known_since: int | None = None    # start of the trailing run of non-False (after a False)

    def step(self, c: Tri) -> Tri:
        """Record this evaluation of C and give ``C for DURATION`` now."""
        now = self.clock.now_ms()
        if c is False:
            self.true_since = None
            self.known_since = None
            self.open_since = False
            return False
        if c is True:
            if self.true_since is None:
                self.true_since = now
        else:
            self.true_since = None
        if not self.open_since and self.known_since is None:
            self.known_since = now
        if self.true_since is not None and now - self.true_since >= self.ms:
            return True
        if self.open_since or (self.known_since is not None and now - self.known_since >= self.ms):
            return None
        return False

    def snapshot(self) -> State:
        return {"true_since": self.true_since, "open": self.open_since, "known_since": self.known_since}

    def restore(self, state: Mapping[str, object]) -> None:
        self.true_since = _opt_int(state.get("true_since"))
        self.open_since = bool(state.get("open", True))
        self.known_since = _opt_int(state.get("known_since"))


class ForBars:
    """``C for N bars`` when C cannot be read back in history (it reads live or account
    fields, or several timeframes): C is recorded at the first evaluation after each bar
    close of ``series``; the answer is C now and C at each of the last N records (a record
    not yet made, or a bar closed without an evaluation, is unknown)."""

    __slots__ = ("series", "bars", "bar_ms", "records", "trues", "known")

    def __init__(self, series: CandleSeries, bars: int) -> None:
        self.series = series
        self.bars = bars
        self.bar_ms = -1        # open time of the bar whose close was recorded last
        self.records = 0        # records made, at most `bars`
        self.trues = 0          # trailing records that were True, at most `bars`
        self.known = 0          # trailing records that were not False, at most `bars`

    def step(self, c: Tri) -> Tri:
        """Record C if a bar closed since the last record, and give ``C for N bars`` now."""
        start = self.series.start_ms
        n = self.bars
        if start != self.bar_ms and start >= 0:
            tf_ms = self.series.tf_ms
            if self.bar_ms >= 0 and tf_ms and start - self.bar_ms > tf_ms:
                # bars closed without an evaluation: unknown records
                missed = min((start - self.bar_ms) // tf_ms - 1, n)
                self.records = min(self.records + missed, n)
                self.trues = 0
                self.known = min(self.known + missed, n)
            self.bar_ms = start
            self.records = min(self.records + 1, n)
            if c is True:
                self.trues = min(self.trues + 1, n)
                self.known = min(self.known + 1, n)
            elif c is None:
                self.trues = 0
                self.known = min(self.known + 1, n)
            else:
                self.trues = self.known = 0
        if c is False or self.known < self.records:
            return False
        if c is True and self.trues >= n:
            return True
        return None

    def snapshot(self) -> State:
        return {"bar_ms": self.bar_ms, "records": self.records, "trues": self.trues, "known": self.known}

    def restore(self, state: Mapping[str, object]) -> None:
        self.bar_ms = int(state.get("bar_ms", -1))  # type: ignore[call-overload]
        self.records = int(state.get("records", 0))  # type: ignore[call-overload]
        self.trues = int(state.get("trues", 0))  # type: ignore[call-overload]
        self.known = int(state.get("known", 0))  # type: ignore[call-overload]


class LocalTime:
    """The clock's time in a timezone: hour, minute, minutes since midnight, weekday (0 = Monday).

    Computed once per UTC minute (every zone in use today is offset by whole minutes).
    """

    __slots__ = ("clock", "zone", "_minute", "_hour", "_min", "_weekday")

    def __init__(self, clock: Clock, timezone: str) -> None:
        self.clock = clock
        self.zone = ZoneInfo(timezone)
        self._minute = -1
        self._hour = self._min = self._weekday = 0.0

    def _refresh(self) -> None:
        minute = self.clock.now_ms() // 60_000
        if minute != self._minute:
            local = datetime.fromtimestamp(minute * 60, tz=self.zone)
            self._minute = minute
            self._hour = float(local.hour)
            self._min = float(local.minute)
            self._weekday = float(local.weekday())

    def hour(self) -> float:
        self._refresh()
        return self._hour

    def minute(self) -> float:
        self._refresh()
        return self._min

    def time(self) -> float:
        """Minutes since local midnight (``08:30`` is 510)."""
        self._refresh()
        return self._hour * 60.0 + self._min

    def weekday(self) -> float:
        self._refresh()
        return self._weekday


def trend(fn: Callable[[int], float], base: int, bars: int, rising: bool) -> Tri:
    """``A rising n``: A[n] < … < A[1] < A[0] (falling: >), with A[j] = ``fn(base + j)``."""
    unknown = False
    newer = fn(base)
    for j in range(1, bars + 1):
        older = fn(base + j)
        if rising:
            if older >= newer:
                return False
            if not older < newer:
                unknown = True
        else:
            if older <= newer:
                return False
            if not older > newer:
                unknown = True
        newer = older
    return None if unknown else True


def all_bars(fn: Callable[[int], Tri], base: int, bars: int) -> Tri:
    """``C for n bars`` read back in history: C held at each of the last n bars, C = ``fn(base + j)``."""
    unknown = False
    for j in range(bars):
        c = fn(base + j)
        if c is False:
            return False
        if c is None:
            unknown = True
    return None if unknown else True


def time_between(t: float, lo: float, hi: float) -> bool:
    """``time between lo and hi`` in minutes of the day; a window whose start is later than its
    end wraps midnight (``22:00`` … ``02:00``)."""
    if lo <= hi:
        return lo <= t <= hi
    return t >= lo or t <= hi


GLOBALS: Mapping[str, object] = {
    "NAN": NAN, "INF": INF, "_trend": trend, "_all_bars": all_bars, "_time_between": time_between,
}
"""The names generated code may read besides its slots."""
