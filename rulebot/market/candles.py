"""Candles per symbol and timeframe: closed bars in a bounded ring, the forming bar apart.

A `CandleSeries` is fed either kline events (only a ``confirm``-ed kline closes a bar; an
unconfirmed one is the forming bar) or, through an aggregator, the closed bars of a lower
timeframe of the same symbol (1m -> 5m, 15m, 1h, 4h, 1d ...). Aggregated bars start at
UTC epoch multiples; a higher bar closes when the lower bar that ends its interval closes,
or, after a gap, when a lower bar of a later interval arrives. The very first aggregated
bar is dropped if the lower bars started in the middle of it (it would be partial).

Out-of-order and duplicate klines are ignored and counted. A bar with a NaN, zero or
negative price, negative volume, or a high/low that does not contain open and close is
kept in the history (time goes on) but its values are unknown (NaN).

History is not gap-filled: ``close[1]`` is the previous bar received.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

import numpy as np

from rulebot.market.anomalies import Anomaly, AnomalyLog
from rulebot.market.indicator_spec import IndicatorSpec
from rulebot.market.indicators import IndicatorCache, IndicatorHandle
from rulebot.market.series import CandleArrays
from rulebot.market.timeframes import check_aggregation, timeframe_ms
from rulebot.model.events import KlineUpdate

NAN = math.nan
INF = math.inf
_T = TypeVar("_T")


class CandleField(IntEnum):
    """The candle fields of LANGUAGE.md §3, as indices into `CandleSeries.at`."""

    OPEN = 0
    HIGH = 1
    LOW = 2
    CLOSE = 3
    VOLUME = 4


def bar_is_valid(o: float, h: float, lo: float, c: float, v: float) -> bool:
    """True when a bar's values can be trusted (finite, positive prices, consistent range)."""
    # one chain of comparisons, as every comparison with NaN is false: the low is positive and
    # the high finite, so all four prices are finite; no math.isfinite calls on the per-bar path
    return 0.0 < lo <= o <= h < INF and lo <= c <= h and 0.0 <= v < INF


@dataclass(slots=True)
class FormingBar:
    """The bar in progress, as the last unconfirmed kline showed it."""

    start_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    ts_event_ms: int


class CandleSeries:
    """Closed bars of one symbol and timeframe, with their indicator cache.

    ``open high low close volume start_ms`` are the last closed bar's (NaN / -1 before the
    first); ``at(field, n)`` reads ``n`` bars back.
    """

    __slots__ = (
        "symbol", "timeframe", "tf_ms", "capacity", "count", "forming", "indicators", "source",
        "start_ms", "_cols", "_starts", "_pos", "_children", "_anomalies",
    )

    def __init__(self, symbol: str, timeframe: str, capacity: int, anomalies: AnomalyLog) -> None:
        if capacity < 1:
            raise ValueError(f"candle history must keep at least 1 bar, got {capacity}")
        self.symbol = symbol
        self.timeframe = timeframe
        self.tf_ms = timeframe_ms(timeframe)
        self.capacity = capacity
        self.count = 0
        self.forming: FormingBar | None = None
        self.indicators = IndicatorCache(timeframe)
        self.source: str | None = None  # the lower timeframe this series is aggregated from
        self.start_ms = -1
        # rings of plain floats, one list per `CandleField`, and the open times: a bar is six list
        # stores (writing numpy scalars cost more than the rest of closing a bar, and a tuple per
        # bar is an object the garbage collector keeps visiting while the ring holds it)
        self._cols: tuple[list[float], ...] = tuple([NAN] * capacity for _ in CandleField)
        self._starts: list[int] = [-1] * capacity
        self._pos = 0
        self._children: list[_Aggregator] = []
        self._anomalies = anomalies

    # the last closed bar's fields read the ring: compiled rules read `at`, so closing a bar
    # stores each value once
    @property
    def open(self) -> float:
        """The last closed bar's open (NaN before the first)."""
        return self._cols[CandleField.OPEN][self._pos - 1] if self.count else NAN

    @property
    def high(self) -> float:
        """The last closed bar's high (NaN before the first)."""
        return self._cols[CandleField.HIGH][self._pos - 1] if self.count else NAN

    @property
    def low(self) -> float:
        """The last closed bar's low (NaN before the first)."""
        return self._cols[CandleField.LOW][self._pos - 1] if self.count else NAN

    @property
    def close(self) -> float:
        """The last closed bar's close (NaN before the first)."""
        return self._cols[CandleField.CLOSE][self._pos - 1] if self.count else NAN

    @property
    def volume(self) -> float:
        """The last closed bar's volume (NaN before the first)."""
        return self._cols[CandleField.VOLUME][self._pos - 1] if self.count else NAN

    def at(self, field: CandleField, back: int = 0) -> float:
        """``field`` of the bar ``back`` closed bars ago; NaN before the history kept."""
        if back >= self.count or back >= self.capacity or back < 0:
            return NAN
        return self._cols[field][self._pos - 1 - back]  # a negative index wraps around the ring

    def start_at(self, back: int = 0) -> int:
        """Open time (ms) of the bar ``back`` closed bars ago; -1 before the history kept."""
        if back >= self.count or back >= self.capacity or back < 0:
            return -1
        return self._starts[self._pos - 1 - back]

    def arrays(self) -> CandleArrays:
        """The closed bars kept, oldest first (copies)."""
        o, h, lo, c, v = (np.array(self._kept(col), dtype=np.float64) for col in self._cols)
        return CandleArrays(o, h, lo, c, v)

    def starts(self) -> np.ndarray:
        """Open times (ms) of the closed bars kept, oldest first."""
        return np.array(self._kept(self._starts), dtype=np.int64)

    def _kept(self, ring: list[_T]) -> list[_T]:
        """The values of one ring for the bars held, oldest first."""
        kept = min(self.count, self.capacity)
        lo = self._pos - kept
        if lo < 0:
            return ring[lo:] + ring[: self._pos]
        return ring[lo : self._pos]

    def indicator(self, spec: IndicatorSpec, lookback: int = 1) -> IndicatorHandle:
        """The handle of an indicator on this series (fed the bars kept, if new)."""
        return self.indicators.require(spec, lookback, self.arrays() if self.count else None)

    def on_kline(self, k: KlineUpdate) -> list[CandleSeries]:
        """Apply a kline; return the series whose bar closed (this one, then aggregates)."""
        start = k.start_ms
        if start <= self.start_ms and self.count:
            kind = Anomaly.DUPLICATE_BAR if start == self.start_ms else Anomaly.OUT_OF_ORDER_BAR
            self._anomalies.record(kind, f"symbol={self.symbol} tf={self.timeframe} start_ms={start}")
            return []
        forming = self.forming
        if forming is not None:
            if start < forming.start_ms or (start == forming.start_ms and k.ts_event_ms < forming.ts_event_ms):
                self._anomalies.record(
                    Anomaly.OUT_OF_ORDER_BAR, f"symbol={self.symbol} tf={self.timeframe} start_ms={start}"
                )
                return []
            if start > forming.start_ms:
                self._anomalies.record(
                    Anomaly.MISSED_CONFIRM, f"symbol={self.symbol} tf={self.timeframe} start_ms={forming.start_ms}"
                )
            if k.confirm:
                self.forming = None
        if k.confirm:
            return self.append_closed(start, k.open, k.high, k.low, k.close, k.volume)
        self.forming = FormingBar(k.start_ms, k.open, k.high, k.low, k.close, k.volume, k.ts_event_ms)
        return []

    def append_closed(self, start_ms: int, o: float, h: float, lo: float, c: float, v: float) -> list[CandleSeries]:
        """Record a closed bar; update indicators and aggregates; return the series that closed.

        Bars must come in time order (`on_kline` checks it for klines).
        """
        # `bar_is_valid`, inlined (this runs once per closed bar), unchained: fewer steps
        if 0.0 < lo and lo <= o and o <= h and h < INF and lo <= c and c <= h and 0.0 <= v and v < INF:
            valid = True
        else:
            valid = False
            self._anomalies.record(
                Anomaly.INVALID_BAR,
                f"symbol={self.symbol} tf={self.timeframe} start_ms={start_ms} ohlcv=({o}, {h}, {lo}, {c}, {v})",
            )
            o = h = lo = c = v = NAN
        i = self._pos
        opens, highs, lows, closes, volumes = self._cols
        opens[i] = o
        highs[i] = h
        lows[i] = lo
        closes[i] = c
        volumes[i] = v
        self._starts[i] = start_ms
        self._pos = i + 1 if i + 1 < self.capacity else 0
        self.count += 1
        self.start_ms = start_ms
        self.indicators.on_bar(o, h, lo, c, v, valid)
        if not self._children:
            return [self]
        closed = [self]
        for child in self._children:
            closed.extend(child.on_source_bar(start_ms, o, h, lo, c, v, valid))
        return closed

    @property
    def aggregates(self) -> tuple[CandleSeries, ...]:
        """The series built from this one's closed bars, in the order they were wired."""
        return tuple(child.target for child in self._children)

    def restore_closed(self, starts: np.ndarray, values: np.ndarray, count: int) -> None:
        """Hold closed bars worked out elsewhere (a backtest that built the whole history up front).

        ``starts`` (open times) and ``values`` (rows in `CandleField` order, NaN for an unknown
        bar) are the last bars, oldest first; ``count`` is the number of bars closed in all. They
        either follow the bars held now (``count - len(starts) == self.count``) or are the last
        ``min(count, capacity)`` bars. Neither the indicators nor the aggregates are fed: the
        caller sets the handles (`IndicatorHandle.restore`) and the aggregated series itself.
        """
        k = len(starts)
        if values.shape != (5, k):
            raise ValueError(f"restore_closed: values of shape {values.shape} for {k} bars")
        cap = self.capacity
        if count - k != self.count and k < min(count, cap):
            raise ValueError(f"restore_closed: {k} bars cannot bring {self.count} closed bars to {count}")
        if k > cap:
            starts, values, k = starts[-cap:], values[:, -cap:], cap
        p = self._pos
        first = min(k, cap - p)  # written at p, p + 1, ...; the rest wraps to the ring's start
        for ring, row in zip((*self._cols, self._starts), (*values.tolist(), np.asarray(starts).tolist()), strict=True):
            ring[p : p + first] = row[:first]
            ring[: k - first] = row[first:]
        self._pos = (p + k) % cap
        self.count = count
        self.forming = None
        if k:
            self.start_ms = int(starts[-1])

    def aggregate_into(self, target: CandleSeries) -> None:
        """Feed this series' closed bars into ``target`` (a higher timeframe, same symbol)."""
        src_ms, dst_ms = check_aggregation(self.timeframe, target.timeframe)
        if target.source is not None:
            raise ValueError(f"{target.symbol} {target.timeframe} is already aggregated from {target.source}")
        target.source = self.timeframe
        self._children.append(_Aggregator(target, src_ms, dst_ms, self._anomalies))


class _Aggregator:
    """Builds the bars of a higher timeframe from closed bars of a lower one."""

    __slots__ = (
        "target", "src_ms", "tf_ms", "bucket", "o", "h", "lo", "c", "v",
        "valid", "partial", "started", "last_start", "_anomalies",
    )

    def __init__(self, target: CandleSeries, src_ms: int, tf_ms: int, anomalies: AnomalyLog) -> None:
        self.target = target
        self.src_ms = src_ms
        self.tf_ms = tf_ms
        self.bucket = -1
        self.o = self.h = self.lo = self.c = self.v = NAN
        self.valid = True
        self.partial = False
        self.started = False
        self.last_start = -1
        self._anomalies = anomalies

    def on_source_bar(self, start: int, o: float, h: float, lo: float, c: float, v: float, valid: bool) -> list[CandleSeries]:
        closed: list[CandleSeries] = []
        if start <= self.last_start:
            return closed
        self.last_start = start
        bucket = start - start % self.tf_ms
        if self.bucket >= 0 and bucket != self.bucket:
            # the lower bar that should have ended the forming bar never came (a gap)
            closed.extend(self._close())
        if self.bucket < 0:
            self.bucket = bucket
            self.partial = not self.started and start != bucket
            self.started = True
            self.o, self.h, self.lo, self.c, self.v = o, h, lo, c, v
            self.valid = valid
        elif valid and self.valid:
            self.h = max(self.h, h)
            self.lo = min(self.lo, lo)
            self.c = c
            self.v += v
        else:
            self.valid = False
        if start + self.src_ms == bucket + self.tf_ms:
            closed.extend(self._close())
        return closed

    def _close(self) -> list[CandleSeries]:
        bucket = self.bucket
        self.bucket = -1
        if self.partial:
            self._anomalies.record(
                Anomaly.PARTIAL_BAR,
                f"symbol={self.target.symbol} tf={self.target.timeframe} start_ms={bucket} (history began inside it)",
            )
            return []
        if not self.valid:
            return self.target.append_closed(bucket, NAN, NAN, NAN, NAN, NAN)
        return self.target.append_closed(bucket, self.o, self.h, self.lo, self.c, self.v)
