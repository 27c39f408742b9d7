"""What a backtest produced: trades, the equity curve, rule activity, and its JSON form.

These are plain frozen records filled in by the replay runner and read by the statistics,
the report and the CLI. Prices and money are floats here: a result is for reading, and the
exact Decimal values already went through the action layer when the orders were made.
The JSON schema written by :meth:`BacktestResult.to_json_dict` is documented in
``docs/backtest.md``; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from rulebot.backtest import stats
from rulebot.model.enums import ExitReason

JSON_SCHEMA_ID = "rulebot.backtest/1"


class TradeSide(str, Enum):
    """The side of a round-trip trade (the position's direction, not an order's side)."""

    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip: a position opened by a rule and closed, all of it, later.

    ``pnl`` is net of ``fee`` (entry and exit fees together). ``tp_price`` and ``sl_price``
    are the take-profit and stop-loss levels attached when the position opened, when the
    rule set them; the report draws them.
    """

    symbol: str
    side: TradeSide
    qty: float
    entry_time_ms: int
    entry_price: float
    exit_time_ms: int
    exit_price: float
    pnl: float
    fee: float
    exit_reason: ExitReason
    rule: str
    tp_price: float | None = None
    sl_price: float | None = None

    def __post_init__(self) -> None:
        # Coerce the plain strings the brief's callers may pass ("long", "tp") into the
        # enums once, so nothing downstream has to accept both.
        object.__setattr__(self, "side", TradeSide(self.side))
        object.__setattr__(self, "exit_reason", ExitReason(self.exit_reason))
        if self.qty <= 0:
            raise ValueError(f"trade qty must be positive, got {self.qty}")
        if self.exit_time_ms < self.entry_time_ms:
            raise ValueError(
                f"trade exits at {self.exit_time_ms} before it enters at {self.entry_time_ms}"
            )

    @property
    def is_win(self) -> bool:
        """A win is a trade whose net PnL (after fees) is above zero."""
        return self.pnl > 0


@dataclass(frozen=True, slots=True)
class RuleStats:
    """What one rule did over the run; ``rejections`` counts each refusal reason."""

    rule: str
    fired: int
    orders: int
    rejections: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class FireMark:
    """One firing of a rule, for the report's timeline."""

    ts_ms: int
    rule: str
    symbol: str


@dataclass(frozen=True, slots=True, eq=False)
class EquityCurve:
    """Account equity over time: ``times_ms`` (epoch ms, ascending) and ``values``.

    The runner records one point per bar close (equity marked to that close), and the
    first point is the initial balance at the start of the data. The arrays are made
    read-only so a result cannot be changed after the fact.
    """

    times_ms: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        times = np.asarray(self.times_ms, dtype=np.int64)
        values = np.asarray(self.values, dtype=np.float64)
        if times.ndim != 1 or times.shape != values.shape:
            raise ValueError(
                f"equity times and values must be 1-D and of one length, "
                f"got {times.shape} and {values.shape}"
            )
        if times.size > 1 and bool(np.any(np.diff(times) < 0)):
            raise ValueError("equity times must be ascending")
        times.setflags(write=False)
        values.setflags(write=False)
        object.__setattr__(self, "times_ms", times)
        object.__setattr__(self, "values", values)


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    """Everything one backtest run produced.

    ``start_ms`` is the open time of the first bar replayed and ``end_ms`` the close time
    of the last one, so ``end_ms - start_ms`` is the time span the exposure is measured
    against. ``seconds`` is the wall time of the run. ``trades`` are in exit order.
    """

    symbols: tuple[str, ...]
    timeframe: str
    bars: int
    seconds: float
    start_ms: int
    end_ms: int
    initial_balance: float
    final_equity: float
    trades: tuple[Trade, ...]
    equity: EquityCurve
    fires: tuple[FireMark, ...] = ()
    rule_stats: tuple[RuleStats, ...] = ()
    data_warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end_ms < self.start_ms:
            raise ValueError(f"backtest ends at {self.end_ms} before it starts at {self.start_ms}")
        if self.initial_balance <= 0:
            raise ValueError(f"initial balance must be positive, got {self.initial_balance}")

    def summary(self) -> stats.Summary:
        """The summary statistics of this run (see :mod:`rulebot.backtest.stats`)."""
        return stats.summarize(self)

    def to_json_dict(self) -> dict[str, Any]:
        """The result as the JSON document of ``rulebot backtest --json``.

        Only JSON types come out (no NaN or infinity: a statistic that is undefined is
        ``None``); times are ISO-8601 UTC strings. The schema is in ``docs/backtest.md``.
        """
        summary = self.summary()
        return {
            "schema": JSON_SCHEMA_ID,
            "symbols": list(self.symbols),
            "timeframe": self.timeframe,
            "start": iso_utc(self.start_ms),
            "end": iso_utc(self.end_ms),
            "bars": self.bars,
            "seconds": self.seconds,
            "bars_per_s": self.bars / self.seconds if self.seconds > 0 else None,
            "initial_balance": self.initial_balance,
            "final_equity": self.final_equity,
            "net_pnl": summary.net_pnl,
            "return_pct": _pct(summary.return_fraction),
            "fees": summary.fees,
            "max_drawdown": summary.max_drawdown,
            "max_drawdown_pct": _pct(summary.max_drawdown_fraction),
            "trades_count": summary.trades,
            "wins": summary.wins,
            "losses": summary.losses,
            "win_rate_pct": _pct(summary.win_rate),
            "profit_factor": summary.profit_factor,
            "sharpe": summary.sharpe,
            "sortino": summary.sortino,
            "exposure_pct": _pct(summary.exposure),
            "rules": [_rule_json(r) for r in self.rule_stats],
            "trades": [_trade_json(t) for t in self.trades],
            "equity_daily": [
                {"date": _iso_date(int(day_ms)), "equity": float(value)}
                for day_ms, value in zip(*stats.daily_closes(self.equity), strict=True)
            ],
            "warnings": list(self.data_warnings),
        }


def iso_utc(ts_ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC (``2024-01-01T00:05:00Z``; milliseconds if any)."""
    moment = datetime.fromtimestamp(ts_ms // 1000, tz=UTC)  # whole seconds: no float rounding
    if ts_ms % 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_date(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms // 1000, tz=UTC).strftime("%Y-%m-%d")


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else fraction * 100.0


def _trade_json(trade: Trade) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "side": trade.side.value,
        "qty": trade.qty,
        "entry_time": iso_utc(trade.entry_time_ms),
        "entry_price": trade.entry_price,
        "exit_time": iso_utc(trade.exit_time_ms),
        "exit_price": trade.exit_price,
        "pnl": trade.pnl,
        "fee": trade.fee,
        "exit_reason": trade.exit_reason.value,
        "rule": trade.rule,
        "tp": trade.tp_price,
        "sl": trade.sl_price,
    }


def _rule_json(rule: RuleStats) -> dict[str, Any]:
    return {
        "rule": rule.rule,
        "fired": rule.fired,
        "orders": rule.orders,
        "rejections": [{"reason": reason, "count": count} for reason, count in rule.rejections],
    }
