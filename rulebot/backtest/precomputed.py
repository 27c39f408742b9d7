"""Whole-history candles and indicators of a backtest, and writing them into the market state.

The event-by-event replay updates every candle series and indicator one closed bar at a time
(``MarketState.apply``). A backtest knows all its bars in advance, so its fast path
(``rulebot.backtest.fastpath``) works the same values out once, vectorised:

* the bars of every aggregated timeframe exactly as the market's aggregators build them:
  buckets on UTC epoch multiples; a bucket closes when the lower bar that ends it arrives or,
  after a gap, when a lower bar of a later bucket does; a first bucket the data starts inside
  is dropped; a bucket with an unknown lower bar is unknown (NaN); volumes add up one lower
  bar after the other, as the aggregator adds them;
* each indicator with ``series.compute_series``, equal to the bar-by-bar kernels bit for bit.

``SymbolBars.sync(count)`` then writes what the market would hold after ``count`` bars of the
symbol: each series' last closed bars (as many as its ring keeps) and each indicator handle's
last values (as many as it keeps), the last price, and the market anomalies the bars raise.
Nothing else of the market is touched: its kernels and aggregators are not fed any more, so a
market synced this way must not be fed klines afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rulebot.backtest.replay import KlineSeries
from rulebot.market.anomalies import Anomaly, AnomalyLog
from rulebot.market.candles import CandleSeries
from rulebot.market.indicator_spec import Family, IndicatorSpec, family_of
from rulebot.market.indicators import IndicatorHandle
from rulebot.market.series import CandleArrays, compute_family, valid_mask
from rulebot.market.state import Changed, MarketState
from rulebot.market.timeframes import check_aggregation

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(eq=False)
class SeriesBars:
    """Every closed bar one candle series gets over the replay.

    ``values`` rows are open, high, low, close, volume (NaN for an unknown bar); ``closed_at``
    is the index of the replayed bar (of the symbol) whose arrival closed each bar, and
    ``count_at[k]`` the number of bars closed once replayed bar ``k`` arrived.
    """

    series: CandleSeries
    starts: IntArray
    values: FloatArray
    valid: BoolArray
    closed_at: IntArray
    count_at: IntArray
    tf_ms: int
    partial_at: int = -1  # the replayed bar at which a first, partial bucket was dropped
    partial_start: int = -1  # and that bucket's open time
    handles: list[tuple[IndicatorHandle, FloatArray]] = field(default_factory=list)
    closes: BoolArray | None = None  # whether a bar closes at each replayed bar (None: at every one)
    _families: dict[Family, tuple[FloatArray, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.all_valid = bool(self.valid.all())

    @property
    def timeframe(self) -> str:
        return self.series.timeframe

    def indicator(self, spec: IndicatorSpec) -> FloatArray:
        """The indicator's value after each of this series' bars (computed once per computation)."""
        family, output = family_of(spec)
        outputs = self._families.get(family)
        if outputs is None:
            v = self.values
            outputs = self._families[family] = compute_family(family, CandleArrays(v[0], v[1], v[2], v[3], v[4]))
        return outputs[output]

    def write(self, count: int, anomalies_from: int, anomalies: AnomalyLog) -> None:
        """Make the series and its handles hold the state after ``count`` of its bars closed;
        count in ``anomalies`` the unknown bars among those closed after ``anomalies_from``."""
        series = self.series
        have = series.count
        if count == have:
            return
        keep = min(count, series.capacity)
        lo = have if count - have < keep else count - keep
        series.restore_closed(self.starts[lo:count], self.values[:, lo:count], count)
        for handle, values in self.handles:
            held = handle.count
            size = min(count, handle.lookback + 1)
            first = held if count - held < size else count - size
            handle.restore(values[first:count].tolist(), count)
        if self.all_valid:
            return
        for i in np.flatnonzero(~self.valid[anomalies_from:count]).tolist():
            start = int(self.starts[anomalies_from + i])
            anomalies.record(Anomaly.INVALID_BAR, f"symbol={series.symbol} tf={series.timeframe} start_ms={start}")


class SymbolBars:
    """The replayed bars of one symbol and everything the market builds from them."""

    def __init__(self, market: MarketState, data: KlineSeries) -> None:
        self.symbol = data.symbol
        self.data = data
        self.n = len(data)
        self.interval_ms = data.interval_ms
        self.starts: IntArray = np.asarray(data.ts_ms, dtype=np.int64)
        self.close_ms: IntArray = self.starts + data.interval_ms
        self.live = market.live_fields(data.symbol)
        self.anomalies = market.anomalies
        self._state = market.symbol(data.symbol)
        raw = np.vstack([np.asarray(a, dtype=np.float64) for a in (data.open, data.high, data.low, data.close, data.volume)])
        self.raw = raw
        self._raw_close: list[float] = raw[3].tolist()
        base_series = market.candles(data.symbol, data.timeframe)
        valid = valid_mask(CandleArrays(raw[0], raw[1], raw[2], raw[3], raw[4]))
        values = raw if valid.all() else np.where(valid, raw, np.nan)
        index = np.arange(self.n, dtype=np.int64)
        self.base = SeriesBars(base_series, self.starts, values, valid, index, index + 1, base_series.tf_ms or data.interval_ms)
        self.ordered: list[SeriesBars] = []
        self._add(self.base)
        for sb in self.ordered:
            sb.handles = [(h, sb.indicator(h.spec)) for h in sb.series.indicators.handles()]
        self.by_timeframe = {sb.timeframe: sb for sb in self.ordered}
        self.synced = -1  # replayed bars written into the market (-1: not yet, the market is fresh)

    def _add(self, source: SeriesBars) -> None:
        """``source`` and, depth first in wiring order, the series aggregated from it."""
        self.ordered.append(source)
        for target in source.series.aggregates:
            self._add(self._aggregate(source, target))

    def _aggregate(self, src: SeriesBars, target: CandleSeries) -> SeriesBars:
        src_ms, dst_ms = check_aggregation(src.timeframe, target.timeframe)
        starts = src.starts
        m = len(starts)
        n = self.n
        if m == 0:
            empty = np.zeros(0, dtype=np.int64)
            return SeriesBars(target, empty, np.zeros((5, 0)), np.zeros(0, dtype=bool), empty,
                              np.zeros(n, dtype=np.int64), dst_ms, closes=np.zeros(n, dtype=bool))
        bucket = starts - starts % dst_ms
        first = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
        last = np.append(first[1:] - 1, m - 1)
        ends = starts[last] + src_ms == bucket[first] + dst_ms
        later = np.append(src.closed_at[first[1:]], -1)  # a gap: closed by the next lower bar
        close_pos = np.where(ends, src.closed_at[last], later)
        v = src.values
        valid = np.logical_and.reduceat(src.valid, first)
        out = np.empty((5, first.size))
        out[0] = v[0, first]
        out[1] = np.maximum.reduceat(v[1], first)
        out[2] = np.minimum.reduceat(v[2], first)
        out[3] = v[3, last]
        out[4] = _sequential_sums(v[4], first, last)
        out[:, ~valid] = np.nan
        keep = close_pos >= 0
        partial_at = -1
        if starts[0] != bucket[0]:  # the first lower bar opens inside its bucket
            keep[0] = False
            partial_at = int(close_pos[0])
        closed_at = close_pos[keep]
        count_at = np.searchsorted(closed_at, np.arange(n), side="right").astype(np.int64)
        closes = np.zeros(n, dtype=bool)
        closes[closed_at] = True
        return SeriesBars(target, bucket[first][keep], np.ascontiguousarray(out[:, keep]), valid[keep],
                          closed_at, count_at, dst_ms, partial_at, int(bucket[0]), closes=closes)

    def count_at(self, sb: SeriesBars, replayed: int) -> int:
        """Bars of ``sb`` closed once ``replayed`` bars of the symbol arrived."""
        return int(sb.count_at[replayed - 1]) if replayed > 0 else 0

    def sync(self, replayed: int) -> None:
        """Write the market's state after the first ``replayed`` bars of the symbol arrived."""
        before = max(self.synced, 0)
        if replayed == self.synced:
            return
        if replayed < before:
            raise ValueError(f"{self.symbol}: the market cannot go back from {before} bars to {replayed}")
        for sb in self.ordered:
            held = self.count_at(sb, before)
            sb.write(self.count_at(sb, replayed), held, self.anomalies)
            if sb.partial_at >= 0 and before <= sb.partial_at < replayed:
                self.anomalies.record(Anomaly.PARTIAL_BAR, f"symbol={self.symbol} tf={sb.timeframe} "
                                      f"start_ms={sb.partial_start} (history began inside it)")
        if replayed > 0:
            self.live.set_last(self._raw_close[replayed - 1])
        self.synced = replayed

    def changed_at(self, k: int) -> tuple[Changed, ...]:
        """What ``market.apply`` reports for replayed bar ``k``: the timeframes whose bar closed
        there, each once, in the order the aggregators close them."""
        state = self._state
        return tuple(state.bar_closed(sb.timeframe) for sb in self.ordered if sb.closes is None or sb.closes[k])


def _sequential_sums(x: FloatArray, first: IntArray, last: IntArray) -> FloatArray:
    """Sum of ``x[first[g]..last[g]]`` per group, added left to right as the aggregator does
    (numpy's own reductions add pairwise, which can differ in the last bit)."""
    acc = x[first].copy()
    sizes = last - first + 1
    for j in range(1, int(sizes.max())):
        rows = np.flatnonzero(sizes > j)
        acc[rows] += x[first[rows] + j]
    return acc
