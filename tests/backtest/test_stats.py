"""Backtest statistics against values worked out by hand, and the JSON form of a result."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.backtest import stats
from rulebot.backtest.result import (
    BacktestResult,
    EquityCurve,
    FireMark,
    RuleStats,
    Trade,
    TradeSide,
)
from rulebot.model.enums import ExitReason

DAY = 86_400_000
HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def curve(points: list[tuple[int, float]]) -> EquityCurve:
    return EquityCurve(
        np.array([t for t, _ in points], dtype=np.int64),
        np.array([v for _, v in points], dtype=np.float64),
    )


def trade(pnl: float, entry: int = T0, exit_: int = T0 + HOUR, fee: float = 1.0) -> Trade:
    return Trade(
        symbol="BTCUSDT",
        side=TradeSide.LONG,
        qty=0.01,
        entry_time_ms=entry,
        entry_price=60_000.0,
        exit_time_ms=exit_,
        exit_price=60_000.0 + pnl * 100,
        pnl=pnl,
        fee=fee,
        exit_reason=ExitReason.TP,
        rule="dip",
    )


# --- drawdown --------------------------------------------------------------------------


def test_max_drawdown_peak_to_trough() -> None:
    # peaks 100, 120, 120, 130, 130 -> falls 0, 0, 30, 0, 13; 30/120 = 25 %, 13/130 = 10 %
    dd = stats.max_drawdown(np.array([100.0, 120.0, 90.0, 130.0, 117.0]))
    assert dd.amount == pytest.approx(30.0)
    assert dd.fraction == pytest.approx(0.25)


def test_max_drawdown_amount_and_fraction_from_different_falls() -> None:
    # 100 -> 80 is 20 (20 %); 1000 -> 850 is 150 (15 %): largest amount 150, largest share 20 %
    dd = stats.max_drawdown(np.array([100.0, 80.0, 1000.0, 850.0]))
    assert dd.amount == pytest.approx(150.0)
    assert dd.fraction == pytest.approx(0.20)


def test_no_drawdown_on_rising_or_empty_equity() -> None:
    assert stats.max_drawdown(np.array([1.0, 2.0, 2.0, 3.0])) == stats.Drawdown(0.0, 0.0)
    assert stats.max_drawdown(np.array([], dtype=np.float64)) == stats.Drawdown(0.0, 0.0)


def test_drawdown_amounts_series() -> None:
    got = stats.drawdown_amounts(np.array([10.0, 8.0, 12.0, 9.0]))
    assert got.tolist() == [0.0, 2.0, 0.0, 3.0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=1, max_size=40))
def test_max_drawdown_equals_brute_force(values: list[float]) -> None:
    # the largest fall from any earlier point to any later one, checked pair by pair
    amount = max(values[i] - values[j] for i in range(len(values)) for j in range(i, len(values)))
    share = max(
        (values[i] - values[j]) / values[i]
        for i in range(len(values))
        for j in range(i, len(values))
    )
    dd = stats.max_drawdown(np.array(values))
    assert dd.amount == pytest.approx(amount)
    assert dd.fraction == pytest.approx(share)
    assert 0.0 <= dd.fraction < 1.0


# --- daily returns, Sharpe, Sortino ----------------------------------------------------

# 1000 at the start; day 0 ends at 1100 (+10 %), day 1 at 1045 (-5 %), day 3 at 1065.9 (+2 %);
# day 2 has no data and is skipped; the points inside each day must not count.
DAILY_CURVE = [
    (T0, 1000.0),
    (T0 + 6 * HOUR, 1300.0),
    (T0 + DAY - 60_000, 1100.0),
    (T0 + DAY, 900.0),
    (T0 + 2 * DAY - 1, 1045.0),
    (T0 + 3 * DAY + 5 * HOUR, 1065.9),
]


def test_daily_closes_take_the_last_point_of_each_utc_day() -> None:
    days, closes = stats.daily_closes(curve(DAILY_CURVE))
    assert days.tolist() == [T0, T0 + DAY, T0 + 3 * DAY]
    assert closes.tolist() == pytest.approx([1100.0, 1045.0, 1065.9])


def test_daily_returns_start_from_the_first_equity() -> None:
    assert stats.daily_returns(curve(DAILY_CURVE)).tolist() == pytest.approx([0.10, -0.05, 0.02])


def test_sharpe_by_hand() -> None:
    # mean = 0.07 / 3 = 7/300; deviations 23/300, -22/300, -1/300;
    # sample variance = (529 + 484 + 1) / 90000 / 2 = 169/30000
    expected = (7 / 300) / math.sqrt(169 / 30000) * math.sqrt(365)
    assert expected == pytest.approx(5.93937, rel=1e-5)
    assert stats.sharpe(stats.daily_returns(curve(DAILY_CURVE))) == pytest.approx(expected)


def test_sortino_by_hand() -> None:
    # only -0.05 is below 0: downside deviation = sqrt(0.05² / 3)
    expected = (7 / 300) / math.sqrt(0.0025 / 3) * math.sqrt(365)
    assert expected == pytest.approx(15.44237, rel=1e-5)
    assert stats.sortino(stats.daily_returns(curve(DAILY_CURVE))) == pytest.approx(expected)


def test_ratios_undefined_without_spread_or_losses() -> None:
    assert stats.sharpe(np.array([0.01])) is None
    assert stats.sharpe(np.array([0.01, 0.01, 0.01])) is None
    assert stats.sortino(np.array([0.01, 0.02])) is None
    assert stats.sortino(np.array([-0.01])) is None


# --- trades ----------------------------------------------------------------------------


def test_win_rate_and_profit_factor_by_hand() -> None:
    pnls = [50.0, -20.0, 30.0, -10.0, 0.0]
    assert stats.win_rate(pnls) == pytest.approx(2 / 5)  # break-even is not a win
    assert stats.profit_factor(pnls) == pytest.approx(80 / 30)


def test_profit_factor_without_losses_is_none() -> None:
    assert stats.profit_factor([5.0, 0.0]) is None
    assert stats.profit_factor([]) is None
    assert stats.win_rate([]) is None


def test_exposure_counts_overlaps_once_and_clips_to_the_run() -> None:
    # union inside [0, 100]: 10-40, 60-70, 90-100 = 30 + 10 + 10
    assert stats.exposure([(60, 70), (10, 30), (20, 40), (90, 120)], 0, 100) == pytest.approx(0.5)
    assert stats.exposure([(-10, 5)], 0, 100) == pytest.approx(0.05)
    assert stats.exposure([], 0, 100) == 0.0
    assert stats.exposure([(0, 1)], 5, 5) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=12))
def test_exposure_equals_minute_count(pairs: list[tuple[int, int]]) -> None:
    intervals = [(min(a, b), max(a, b)) for a, b in pairs]
    covered = sum(1 for m in range(40) if any(lo <= m < hi for lo, hi in intervals))
    assert stats.exposure(intervals, 0, 40) == pytest.approx(covered / 40)


# --- a whole result --------------------------------------------------------------------


def sample_result() -> BacktestResult:
    trades = (
        trade(50.0, T0 + HOUR, T0 + 3 * HOUR, fee=2.0),
        Trade(
            symbol="BTCUSDT",
            side=TradeSide.SHORT,
            qty=0.5,
            entry_time_ms=T0 + DAY,
            entry_price=61_000.0,
            exit_time_ms=T0 + DAY + 30_500,
            exit_price=61_100.0,
            pnl=-55.0,
            fee=5.0,
            exit_reason=ExitReason.SL,
            rule="fade",
            tp_price=59_780.0,
            sl_price=61_100.0,
        ),
    )
    return BacktestResult(
        symbols=("BTCUSDT",),
        timeframe="1m",
        bars=2880,
        seconds=0.5,
        start_ms=T0,
        end_ms=T0 + 2 * DAY,
        initial_balance=1000.0,
        final_equity=995.0,
        trades=trades,
        equity=curve([(T0, 1000.0), (T0 + 3 * HOUR, 1050.0), (T0 + 2 * DAY - 1, 995.0)]),
        fires=(FireMark(T0 + HOUR - 60_000, "dip", "BTCUSDT"),),
        rule_stats=(
            RuleStats("dip", fired=3, orders=1, rejections=(("max_position", 2),)),
            RuleStats("fade", fired=1, orders=1),
        ),
        data_warnings=("1 gap in BTCUSDT",),
    )


def test_summarize_a_result() -> None:
    s = sample_result().summary()
    assert (s.trades, s.wins, s.losses) == (2, 1, 1)
    assert s.win_rate == pytest.approx(0.5)
    assert s.net_pnl == pytest.approx(-5.0)
    assert s.return_fraction == pytest.approx(-0.005)
    assert s.max_drawdown == pytest.approx(55.0)  # 1050 -> 995
    assert s.max_drawdown_fraction == pytest.approx(55 / 1050)
    assert s.profit_factor == pytest.approx(50 / 55)
    assert s.fees == pytest.approx(7.0)
    # 2 h + 30.5 s in position out of 2 days
    assert s.exposure == pytest.approx((2 * HOUR + 30_500) / (2 * DAY))
    # daily returns 1/20 and -55/1050 = -11/210; mean -1/840; deviations ±43/840, so the
    # sample std is √2·43/840; the downside deviation is √((11/210)² / 2)
    assert s.sharpe == pytest.approx(-math.sqrt(365) / (43 * math.sqrt(2)))
    assert s.sortino == pytest.approx(-math.sqrt(2) * math.sqrt(365) / 44)


def test_json_document() -> None:
    doc = sample_result().to_json_dict()
    text = json.dumps(doc, allow_nan=False)  # only JSON types, no NaN or infinity
    assert json.loads(text) == doc
    for key in ("bars", "seconds", "final_equity", "net_pnl", "fees", "max_drawdown", "trades"):
        assert key in doc
    assert doc["bars"] == 2880
    assert doc["bars_per_s"] == pytest.approx(5760.0)
    assert doc["start"] == "2024-01-01T00:00:00Z"
    assert doc["return_pct"] == pytest.approx(-0.5)
    assert doc["win_rate_pct"] == pytest.approx(50.0)
    assert doc["trades"][1] == {
        "symbol": "BTCUSDT",
        "side": "short",
        "qty": 0.5,
        "entry_time": "2024-01-02T00:00:00Z",
        "entry_price": 61_000.0,
        "exit_time": "2024-01-02T00:00:30.500Z",
        "exit_price": 61_100.0,
        "pnl": -55.0,
        "fee": 5.0,
        "exit_reason": "sl",
        "rule": "fade",
        "tp": 59_780.0,
        "sl": 61_100.0,
    }
    assert doc["rules"][0] == {
        "rule": "dip",
        "fired": 3,
        "orders": 1,
        "rejections": [{"reason": "max_position", "count": 2}],
    }
    assert doc["equity_daily"] == [
        {"date": "2024-01-01", "equity": 1050.0},
        {"date": "2024-01-02", "equity": 995.0},
    ]
    assert doc["warnings"] == ["1 gap in BTCUSDT"]


def test_json_undefined_statistics_are_null() -> None:
    empty = BacktestResult(
        symbols=("BTCUSDT",),
        timeframe="1m",
        bars=0,
        seconds=0.0,
        start_ms=T0,
        end_ms=T0,
        initial_balance=1000.0,
        final_equity=1000.0,
        trades=(),
        equity=curve([(T0, 1000.0)]),
    )
    doc = empty.to_json_dict()
    json.dumps(doc, allow_nan=False)
    for key in ("win_rate_pct", "profit_factor", "sharpe", "sortino", "exposure_pct", "bars_per_s"):
        assert doc[key] is None


@pytest.mark.parametrize(
    "change",
    [
        {"side": "up"},
        {"exit_reason": "timeout"},
        {"qty": 0.0},
        {"entry_time_ms": T0 + 2 * HOUR},
    ],
)
def test_trade_rejects_unknown_words_and_bad_numbers(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(trade(1.0), **change)


def test_trade_reads_plain_words_as_enums() -> None:
    words: dict[str, Any] = {"side": "short", "exit_reason": "trail"}
    t = dataclasses.replace(trade(1.0), **words)
    assert (t.side, t.exit_reason) == (TradeSide.SHORT, ExitReason.TRAIL)


def test_equity_curve_is_read_only_and_checked() -> None:
    c = curve([(T0, 1.0), (T0 + 1, 2.0)])
    with pytest.raises(ValueError):
        c.values[0] = 5.0
    with pytest.raises(ValueError):
        curve([(T0 + 1, 1.0), (T0, 2.0)])
    with pytest.raises(ValueError):
        EquityCurve(np.array([T0]), np.array([1.0, 2.0]))
