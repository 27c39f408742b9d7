"""What the report shows, reduced to a size a browser draws at once, and formatted.

Long runs are thinned for display only — the statistics always use the full data: candles
are resampled to a coarser Bybit interval so that at most ``MAX_DISPLAY_CANDLES`` are drawn
(the chart title says so), the equity curve keeps each bucket's lowest, highest and last
point (so the deepest drawdown stays visible), and fires are counted per bucket. Pure numpy;
no plotting library is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rulebot.backtest.result import BacktestResult, EquityCurve
from rulebot.backtest.stats import Summary, running_peak

MAX_DISPLAY_CANDLES = 5_000
MAX_EQUITY_POINTS = 15_000
MINUTE_MS = 60_000
# Bybit's kline intervals, the steps a chart may be resampled to.
DISPLAY_STEPS: tuple[tuple[str, int], ...] = (
    ("1m", MINUTE_MS),
    ("3m", 3 * MINUTE_MS),
    ("5m", 5 * MINUTE_MS),
    ("15m", 15 * MINUTE_MS),
    ("30m", 30 * MINUTE_MS),
    ("1h", 60 * MINUTE_MS),
    ("2h", 120 * MINUTE_MS),
    ("4h", 240 * MINUTE_MS),
    ("6h", 360 * MINUTE_MS),
    ("12h", 720 * MINUTE_MS),
    ("1d", 1440 * MINUTE_MS),
    ("1w", 10_080 * MINUTE_MS),
)
# Weekly bars start on Monday like Bybit's; 1970-01-05, four days after the epoch, was one.
WEEK_OFFSET_MS = 4 * 1440 * MINUTE_MS


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class CandleSeries:
    """OHLC bars of one symbol: ``ts_ms`` is each bar's open time in epoch ms, ascending."""

    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray

    def __post_init__(self) -> None:
        ts = np.asarray(self.ts_ms, dtype=np.int64)
        object.__setattr__(self, "ts_ms", ts)
        for name in ("open", "high", "low", "close"):
            column = np.asarray(getattr(self, name), dtype=np.float64)
            if column.shape != ts.shape or ts.ndim != 1:
                raise ValueError(f"candle column {name!r} has shape {column.shape}, ts {ts.shape}")
            object.__setattr__(self, name, column)

    def __len__(self) -> int:
        return int(self.ts_ms.size)


@dataclass(frozen=True, slots=True, eq=False)
class DisplayCandles:
    """Candles as drawn, with the interval they show and the one they came from."""

    candles: CandleSeries
    step: str
    step_ms: int
    source_step: str
    source_bars: int

    @property
    def resampled(self) -> bool:
        return self.step != self.source_step

    def title(self, symbol: str) -> str:
        """The chart title; it says when the candles were resampled for display."""
        if not self.resampled:
            return f"{symbol} — {self.step} candles"
        return (
            f"{symbol} — {self.step} candles, resampled from {self.source_bars:,} "
            f"{self.source_step} bars for display"
        )


def step_label(step_ms: int) -> str:
    for label, ms in DISPLAY_STEPS:
        if ms == step_ms:
            return label
    return f"{step_ms / MINUTE_MS:g}m"


def _bar_ms(ts_ms: IntArray) -> int:
    if ts_ms.size < 2:
        return MINUTE_MS
    return max(int(np.median(np.diff(ts_ms))), 1)


def _bucket_offset(step_ms: int) -> int:
    return WEEK_OFFSET_MS if step_ms == DISPLAY_STEPS[-1][1] else 0


def resample_ohlc(candles: CandleSeries, step_ms: int) -> CandleSeries:
    """OHLC bars merged into buckets of ``step_ms`` aligned to UTC (weeks from Monday)."""
    if len(candles) == 0:
        return candles
    offset = _bucket_offset(step_ms)
    ids = (candles.ts_ms - offset) // step_ms
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    ends = np.append(starts[1:], ids.size) - 1
    return CandleSeries(
        ts_ms=ids[starts] * step_ms + offset,
        open=candles.open[starts],
        high=np.maximum.reduceat(candles.high, starts),
        low=np.minimum.reduceat(candles.low, starts),
        close=candles.close[ends],
    )


def candles_for_display(
    candles: CandleSeries, max_candles: int = MAX_DISPLAY_CANDLES
) -> DisplayCandles:
    """The candles at the finest Bybit interval that keeps at most ``max_candles`` on screen."""
    source_ms = _bar_ms(candles.ts_ms)
    source = step_label(source_ms)
    span_ms = int(candles.ts_ms[-1] - candles.ts_ms[0]) + source_ms if len(candles) else 0
    if len(candles) <= max_candles:
        return DisplayCandles(candles, source, source_ms, source, len(candles))
    for label, step_ms in DISPLAY_STEPS:
        # +1: a span that does not start on a bucket boundary touches one bucket more
        if step_ms > source_ms and span_ms // step_ms + 1 <= max_candles:
            return DisplayCandles(
                resample_ohlc(candles, step_ms), label, step_ms, source, len(candles)
            )
    label, step_ms = DISPLAY_STEPS[-1]
    return DisplayCandles(resample_ohlc(candles, step_ms), label, step_ms, source, len(candles))


def equity_for_display(
    curve: EquityCurve, max_points: int = MAX_EQUITY_POINTS
) -> tuple[IntArray, FloatArray, FloatArray]:
    """(times, equity, running peak) thinned to about ``max_points`` points.

    Each time bucket keeps its lowest, highest and last point, so troughs and new highs
    survive; the peak is taken from the full curve, so the shaded drawdown is exact.
    """
    times, values = curve.times_ms, curve.values
    peak = running_peak(values)
    if times.size <= max_points:
        return times, values, peak
    buckets = max(max_points // 3, 1)
    step = max((int(times[-1]) - int(times[0])) // buckets + 1, 1)
    ids = (times - times[0]) // step
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    by_low = np.lexsort((values, ids))  # within each bucket, ascending equity
    by_high = np.lexsort((-values, ids))
    lasts = np.append(starts[1:], ids.size) - 1
    keep = np.unique(np.concatenate(([0], by_low[starts], by_high[starts], lasts)))
    return times[keep], values[keep], peak[keep]


def rule_names(result: BacktestResult) -> list[str]:
    """Rules in the result's order, then any rule seen only in the fires, by name."""
    names = [r.rule for r in result.rule_stats]
    return names + sorted({f.rule for f in result.fires} - set(names))


def fire_counts(result: BacktestResult, step_ms: int) -> list[tuple[str, IntArray, IntArray]]:
    """Per rule, in :func:`rule_names` order: bucket start times and fires in each bucket."""
    times: dict[str, list[int]] = {name: [] for name in rule_names(result)}
    for fire in result.fires:
        times[fire.rule].append(fire.ts_ms)
    rows = []
    for name, stamps in times.items():
        ids, counts = np.unique(np.array(stamps, dtype=np.int64) // step_ms, return_counts=True)
        rows.append((name, ids * step_ms, counts.astype(np.int64)))
    return rows


def fmt_money(value: float) -> str:
    """Money with two decimals and thousands separators."""
    return f"{value:,.2f}"


def fmt_pct(fraction: float | None, when_none: str = "—") -> str:
    """A fraction as a percent with two decimals; ``when_none`` for an undefined value."""
    return when_none if fraction is None else f"{fraction * 100:,.2f}%"


def fmt_ratio(value: float | None, when_none: str = "—") -> str:
    """A ratio with two decimals; ``when_none`` for an undefined value."""
    return when_none if value is None else f"{value:,.2f}"


def summary_rows(result: BacktestResult, summary: Summary) -> list[tuple[str, str]]:
    """The summary table as (label, formatted value) rows, for the report and the terminal."""
    return [
        ("Trades", f"{summary.trades:,}"),
        ("Win rate", fmt_pct(summary.win_rate)),
        ("Net PnL", fmt_money(summary.net_pnl)),
        ("Return", fmt_pct(summary.return_fraction)),
        (
            "Max drawdown",
            f"{fmt_money(summary.max_drawdown)} ({fmt_pct(summary.max_drawdown_fraction)})",
        ),
        ("Sharpe (daily, ×√365)", fmt_ratio(summary.sharpe)),
        ("Sortino (daily, ×√365)", fmt_ratio(summary.sortino)),
        ("Profit factor", fmt_ratio(summary.profit_factor, "— (no losing trade)")),
        ("Exposure time", fmt_pct(summary.exposure)),
        ("Fees paid", fmt_money(summary.fees)),
        ("Initial balance", fmt_money(result.initial_balance)),
        ("Final equity", fmt_money(result.final_equity)),
    ]


def rule_rows(result: BacktestResult) -> list[tuple[str, str, str, str]]:
    """Per rule: name, times fired, orders, rejections counted by reason (or ``none``)."""
    return [
        (
            r.rule,
            f"{r.fired:,}",
            f"{r.orders:,}",
            ", ".join(f"{reason}: {count:,}" for reason, count in r.rejections) or "none",
        )
        for r in result.rule_stats
    ]
