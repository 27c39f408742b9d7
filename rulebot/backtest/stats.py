"""Summary statistics of a backtest, as pure functions of its trades and equity curve.

Conventions (also in ``docs/backtest.md``):

* fractions, not percent: a return of 12.5% is ``0.125`` here (the JSON says percent);
* a statistic that is undefined for the data at hand is ``None``, never NaN or infinity;
* Sharpe and Sortino use **daily** returns of the equity curve: the last equity of each UTC
  day that has data, each day against the one before and the first day against the curve's
  first value (the initial balance); days without data are skipped, not filled. They are
  annualised with ``sqrt(365)`` because crypto trades every day, with a risk-free rate of 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from rulebot.backtest.result import BacktestResult, EquityCurve, Trade

DAY_MS = 86_400_000
TRADING_DAYS_PER_YEAR = 365

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The deepest fall of equity below its running peak.

    ``amount`` (in the settle coin) and ``fraction`` (of the peak) are each the largest of
    their own kind; they can come from different falls when the account grew in between.
    """

    amount: float
    fraction: float


@dataclass(frozen=True, slots=True)
class Summary:
    """The numbers of the summary table; fractions, ``None`` where undefined."""

    trades: int
    wins: int
    losses: int
    win_rate: float | None
    net_pnl: float
    return_fraction: float
    max_drawdown: float
    max_drawdown_fraction: float
    sharpe: float | None
    sortino: float | None
    profit_factor: float | None
    exposure: float | None
    fees: float


def running_peak(values: FloatArray) -> FloatArray:
    """The highest equity seen up to each point."""
    return np.maximum.accumulate(np.asarray(values, dtype=np.float64))


def drawdown_amounts(values: FloatArray) -> FloatArray:
    """How far below its running peak the equity is at each point (0 at a new high)."""
    values = np.asarray(values, dtype=np.float64)
    return running_peak(values) - values


def max_drawdown(values: FloatArray) -> Drawdown:
    """Peak-to-trough drawdown of an equity series; zero for an empty or rising one."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return Drawdown(0.0, 0.0)
    peak = running_peak(values)
    falls = peak - values
    # A peak at or below zero has no meaningful fraction; such points count as 0 there.
    fractions = np.divide(falls, peak, out=np.zeros_like(falls), where=peak > 0)
    return Drawdown(float(falls.max()), float(fractions.max()))


def daily_closes(curve: EquityCurve) -> tuple[IntArray, FloatArray]:
    """The last equity of each UTC day that has points: (day start in epoch ms, equity)."""
    times = curve.times_ms
    if times.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    days = times // DAY_MS
    # The curve is ascending, so a day's last point is where the next point's day differs.
    last = np.flatnonzero(np.append(days[1:] != days[:-1], True))
    return days[last] * DAY_MS, curve.values[last].astype(np.float64)


def daily_returns(curve: EquityCurve) -> FloatArray:
    """Simple returns from each UTC day's close to the next (see the module docstring)."""
    _, closes = daily_closes(curve)
    if closes.size == 0:
        return np.empty(0, dtype=np.float64)
    previous = np.concatenate(([curve.values[0]], closes[:-1]))
    return closes / previous - 1.0


def sharpe(returns: FloatArray) -> float | None:
    """Annualised Sharpe ratio of daily returns (mean / sample std × √365, risk-free 0).

    ``None`` with fewer than two returns or when they do not vary.
    """
    returns = np.asarray(returns, dtype=np.float64)
    if returns.size < 2:
        return None
    spread = float(np.std(returns, ddof=1))
    if spread == 0.0:
        return None
    return float(np.mean(returns)) / spread * math.sqrt(TRADING_DAYS_PER_YEAR)


def sortino(returns: FloatArray) -> float | None:
    """Annualised Sortino ratio of daily returns, target 0.

    Downside deviation = √(mean of min(r, 0)²) over all days. ``None`` with fewer than two
    returns or when no day lost money.
    """
    returns = np.asarray(returns, dtype=np.float64)
    if returns.size < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if downside == 0.0:
        return None
    return float(np.mean(returns)) / downside * math.sqrt(TRADING_DAYS_PER_YEAR)


def win_rate(pnls: Sequence[float]) -> float | None:
    """Share of trades with net PnL above zero (break-even counts as not won); ``None`` if none."""
    if not pnls:
        return None
    return sum(1 for p in pnls if p > 0) / len(pnls)


def profit_factor(pnls: Sequence[float]) -> float | None:
    """Gross profit / gross loss of net trade PnLs.

    ``None`` when no trade lost money (the ratio would be infinite, which JSON cannot say).
    """
    gross_loss = -sum(p for p in pnls if p < 0)
    if gross_loss == 0:
        return None
    return sum(p for p in pnls if p > 0) / gross_loss


def exposure(intervals: Sequence[tuple[int, int]], start_ms: int, end_ms: int) -> float | None:
    """Fraction of ``[start_ms, end_ms]`` during which at least one position was open.

    Overlapping positions (several symbols, hedge mode) count once. ``None`` for an empty span.
    """
    span = end_ms - start_ms
    if span <= 0:
        return None
    covered = 0
    reach = start_ms
    for entry, exit_ in sorted(intervals):
        lo = max(entry, reach)
        hi = min(exit_, end_ms)
        if hi > lo:
            covered += hi - lo
        reach = max(reach, hi)
    return covered / span


def summarize(result: BacktestResult) -> Summary:
    """All statistics of the summary table for one result."""
    trades: tuple[Trade, ...] = result.trades
    pnls = [t.pnl for t in trades]
    drawdown = max_drawdown(result.equity.values)
    daily = daily_returns(result.equity)
    net = result.final_equity - result.initial_balance
    return Summary(
        trades=len(trades),
        wins=sum(1 for p in pnls if p > 0),
        losses=sum(1 for p in pnls if p < 0),
        win_rate=win_rate(pnls),
        net_pnl=net,
        return_fraction=net / result.initial_balance,
        max_drawdown=drawdown.amount,
        max_drawdown_fraction=drawdown.fraction,
        sharpe=sharpe(daily),
        sortino=sortino(daily),
        profit_factor=profit_factor(pnls),
        exposure=exposure(
            [(t.entry_time_ms, t.exit_time_ms) for t in trades], result.start_ms, result.end_ms
        ),
        fees=sum(t.fee for t in trades),
    )
