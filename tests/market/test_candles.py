"""Candle series from klines and aggregated from a lower timeframe."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
from market_kit import BTC_15M

from rulebot.market import Anomaly, AnomalyLog, CandleField, CandleSeries, ChangeKind, MarketState
from rulebot.model.events import KlineUpdate

MIN = 60_000
T0 = 1_748_545_200_000  # 2025-05-29 19:00 UTC, a multiple of 1 h


def kline(
    start: int,
    price: float,
    *,
    confirm: bool = True,
    tf: str = "1m",
    ts: int | None = None,
    values: dict[str, float] | None = None,
) -> KlineUpdate:
    bar = {"open": price, "high": price + 1, "low": price - 1, "close": price, "volume": 2.0, **(values or {})}
    return KlineUpdate("BTCUSDT", tf, ts if ts is not None else start + MIN - 1, 0, start, confirm=confirm, **bar)


def series(capacity: int = 100) -> CandleSeries:
    return CandleSeries("BTCUSDT", "1m", capacity, AnomalyLog())


def test_only_a_confirmed_kline_closes_a_bar() -> None:
    s = series()
    assert s.on_kline(kline(T0, 100.0, confirm=False, ts=T0 + 10)) == []
    assert s.forming is not None and s.forming.close == 100.0 and s.count == 0
    assert s.on_kline(kline(T0, 101.0, confirm=False, ts=T0 + 20)) == []
    assert s.forming.close == 101.0
    assert s.on_kline(kline(T0, 102.0)) == [s]
    assert s.forming is None and s.count == 1
    assert (s.open, s.close, s.start_ms) == (102.0, 102.0, T0)
    assert s.at(CandleField.HIGH) == 103.0 and math.isnan(s.at(CandleField.CLOSE, 1))


def test_out_of_order_and_duplicates_are_ignored_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    log = AnomalyLog()
    s = CandleSeries("BTCUSDT", "1m", 10, log)
    for i in range(5):
        s.on_kline(kline(T0 + i * MIN, 100.0 + i))
    with caplog.at_level(logging.WARNING, logger="rulebot.market.anomalies"):
        for _ in range(3):
            assert s.on_kline(kline(T0 + 4 * MIN, 1.0)) == []  # the last bar again
            assert s.on_kline(kline(T0 + 2 * MIN, 1.0)) == []  # an older bar
        s.on_kline(kline(T0 + 6 * MIN, 50.0, confirm=False, ts=T0 + 6 * MIN + 30))
        assert s.on_kline(kline(T0 + 6 * MIN, 49.0, confirm=False, ts=T0 + 6 * MIN + 10)) == []  # a late update
    assert log.count(Anomaly.DUPLICATE_BAR) == 3
    assert log.count(Anomaly.OUT_OF_ORDER_BAR) == 4
    assert s.close == 104.0 and s.count == 5 and s.forming is not None and s.forming.close == 50.0
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert sum("duplicate_bar" in m for m in messages) == 1 and sum("out_of_order_bar" in m for m in messages) == 1


@pytest.mark.parametrize(
    "values",
    [{"close": math.nan}, {"open": 0.0}, {"low": -5.0}, {"volume": -1.0}, {"high": 50.0}, {"volume": math.inf}],
)
def test_a_bad_bar_is_kept_with_unknown_values(values: dict[str, float]) -> None:
    log = AnomalyLog()
    s = CandleSeries("BTCUSDT", "1m", 10, log)
    s.on_kline(kline(T0, 100.0))
    assert s.on_kline(kline(T0 + MIN, 100.0, values=values)) == [s]
    assert s.count == 2 and s.start_ms == T0 + MIN
    assert all(math.isnan(s.at(f)) for f in CandleField)
    assert s.at(CandleField.CLOSE, 1) == 100.0
    assert log.count(Anomaly.INVALID_BAR) == 1


def test_a_bar_that_never_got_its_confirm_is_dropped() -> None:
    log = AnomalyLog()
    s = CandleSeries("BTCUSDT", "1m", 10, log)
    s.on_kline(kline(T0, 100.0, confirm=False))
    s.on_kline(kline(T0 + MIN, 101.0))
    assert s.count == 1 and s.start_ms == T0 + MIN
    assert log.count(Anomaly.MISSED_CONFIRM) == 1


def test_history_is_a_bounded_ring() -> None:
    s = series(capacity=5)
    for i in range(12):
        s.on_kline(kline(T0 + i * MIN, float(100 + i)))
    assert s.count == 12
    assert [s.at(CandleField.CLOSE, back) for back in range(5)] == [111.0, 110.0, 109.0, 108.0, 107.0]
    assert math.isnan(s.at(CandleField.CLOSE, 5)) and s.start_at(5) == -1
    np.testing.assert_array_equal(s.arrays().close, [107.0, 108.0, 109.0, 110.0, 111.0])
    np.testing.assert_array_equal(s.starts(), [T0 + i * MIN for i in range(7, 12)])


def resample(df: pd.DataFrame, rule: str) -> pd.DataFrame:
    """The reference: pandas resampling on UTC bucket starts."""
    frame = df.set_index(pd.to_datetime(df["timestamp"], unit="ms"))
    out = frame.resample(rule, label="left", closed="left").agg(
        {"timestamp": "first", "open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    out["start"] = out.index.as_unit("ms").astype("int64")
    return out.dropna().reset_index(drop=True)


@pytest.mark.parametrize(("tf", "rule"), [("5m", "5min"), ("15m", "15min"), ("1h", "1h"), ("4h", "4h"), ("1d", "1D")])
def test_aggregation_matches_resampling_of_real_minutes(btc_1m_all: pd.DataFrame, tf: str, rule: str) -> None:
    df = btc_1m_all.iloc[7:].reset_index(drop=True)  # start mid-bucket: the first bar is partial
    state = MarketState(history=200_000)
    target = state.candles("BTCUSDT", tf, aggregate_from="1m")
    state.load_bars("BTCUSDT", "1m", *(df[c].tolist() for c in ("timestamp", "open", "high", "low", "close", "volume")))
    expected = resample(df, rule)
    # drop the partial first bucket, and the last one unless its final minute arrived
    expected = expected[expected["timestamp"] == expected["start"]]
    last_minute = int(df["timestamp"].iloc[-1])
    if last_minute + MIN != int(expected["start"].iloc[-1]) + (target.tf_ms or 0):
        expected = expected.iloc[:-1]
    got = target.arrays()
    np.testing.assert_array_equal(target.starts(), expected["start"].to_numpy())
    for name in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(got, name), expected[name].to_numpy(), err_msg=name)
    np.testing.assert_allclose(got.volume, expected["volume"].to_numpy(), rtol=1e-12)
    assert state.anomalies.count(Anomaly.PARTIAL_BAR) == 1


def test_minutes_aggregate_to_bybits_own_15m_bars(btc_1m_all: pd.DataFrame) -> None:
    state = MarketState(history=5000)
    fifteen = state.candles("BTCUSDT", "15m", aggregate_from="1m")
    state.load_bars("BTCUSDT", "1m", *(btc_1m_all[c].tolist() for c in ("timestamp", "open", "high", "low", "close", "volume")))
    bybit = pd.read_csv(BTC_15M).set_index("timestamp")
    starts = fifteen.starts()
    ours = fifteen.arrays()
    shared = np.isin(starts, bybit.index.to_numpy())
    assert shared.sum() >= 2900
    theirs = bybit.loc[starts[shared]]
    for name in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(ours, name)[shared], theirs[name].to_numpy(), err_msg=name)
    np.testing.assert_allclose(ours.volume[shared], theirs["volume"].to_numpy(), rtol=1e-9)


def test_a_gap_closes_the_higher_bar_when_a_later_one_starts() -> None:
    state = MarketState()
    five = state.candles("BTCUSDT", "5m", aggregate_from="1m")
    minutes = [0, 1, 2, 3, 5, 6, 7, 8, 9]  # 00:04 is missing
    changes = [state.apply(kline(T0 + m * MIN, 100.0 + m)) for m in minutes]
    assert five.count == 2
    assert five.starts().tolist() == [T0, T0 + 5 * MIN]
    assert (five.arrays().close.tolist(), five.arrays().volume.tolist()) == ([103.0, 109.0], [8.0, 10.0])
    closes = [tuple(c.timeframe for c in change) for change in changes]
    assert closes[4] == ("1m", "5m")  # 00:05 arrived: 00:00-00:05 closes, one bar short
    assert closes[8] == ("1m", "5m")  # 00:09 ends the 00:05 bar
    assert all(c.kind is ChangeKind.BAR_CLOSE for change in changes for c in change)


def test_an_unknown_minute_makes_its_hour_unknown() -> None:
    state = MarketState()
    hour = state.candles("BTCUSDT", "1h", aggregate_from="1m")
    for m in range(60):
        state.apply(kline(T0 + m * MIN, 100.0, values={"close": 0.0} if m == 30 else None))
    assert hour.count == 1 and math.isnan(hour.close)


def test_timeframes_chain_and_refuse_bad_pairs() -> None:
    state = MarketState()
    state.candles("BTCUSDT", "5m", aggregate_from="1m")
    fifteen = state.candles("BTCUSDT", "15m", aggregate_from="5m")
    for m in range(15):
        state.apply(kline(T0 + m * MIN, 100.0 + m))
    assert fifteen.count == 1 and fifteen.open == 100.0 and fifteen.close == 114.0 and fifteen.high == 115.0
    with pytest.raises(ValueError, match="not a whole multiple"):
        state.candles("BTCUSDT", "3m", aggregate_from="5m")
    with pytest.raises(ValueError, match="unknown timeframe"):
        state.candles("BTCUSDT", "7m", aggregate_from="1m")
    with pytest.raises(ValueError, match="only fixed timeframes"):
        state.candles("BTCUSDT", "1w", aggregate_from="1d")
    assert state.candles("BTCUSDT", "15m", aggregate_from="5m") is fifteen
    with pytest.raises(ValueError, match="already aggregated from 5m"):
        state.candles("BTCUSDT", "15m", aggregate_from="1m")
