"""MarketState as the engine uses it: events in, what changed out, cheap reads."""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
import pandas as pd
import pytest
from market_kit import arrays_of

import rulebot.market as market
from rulebot.market import (
    Changed,
    ChangeKind,
    IndicatorSpec,
    MarketState,
    compute_series,
    warmup_bars,
)
from rulebot.model.enums import Side
from rulebot.model.events import KlineUpdate, Shutdown, TickerUpdate, TimerFired, TradePrint

MIN = 60_000


def klines_of(df: pd.DataFrame, tf: str = "1m") -> list[KlineUpdate]:
    return [
        KlineUpdate(
            "BTCUSDT", tf, int(r.timestamp) + MIN - 1, 0, int(r.timestamp), r.open, r.high, r.low, r.close, r.volume, True
        )
        for r in df.itertuples()
    ]


def test_public_names_exist() -> None:
    assert sorted(set(market.__all__)) == sorted(market.__all__)
    for name in market.__all__:
        assert hasattr(market, name), name


def test_descriptors_are_interned_and_frozen() -> None:
    state = MarketState()
    a = state.apply(TradePrint("BTCUSDT", 1, 1, 10.0, 1.0, Side.BUY))
    b = state.apply(TradePrint("BTCUSDT", 2, 2, 11.0, 1.0, Side.SELL))
    assert a is b and a == (Changed(ChangeKind.TRADE, "BTCUSDT"),)
    with pytest.raises(AttributeError):
        a[0].symbol = "ETHUSDT"  # type: ignore[misc]


def test_events_that_are_not_market_data_change_nothing() -> None:
    state = MarketState()
    assert state.apply(TimerFired("job", 1, 1)) == ()
    assert state.apply(Shutdown(1, 1)) == ()


def test_indicators_through_klines_equal_the_whole_series(btc_1m: pd.DataFrame) -> None:
    df = btc_1m.iloc[:1500]
    state = MarketState(history=300)
    five = state.candles("BTCUSDT", "5m", aggregate_from="1m")
    rsi_1m = state.indicator("BTCUSDT", IndicatorSpec.make("rsi", (14,), "1m"), lookback=3)
    macd_5m = state.indicator("BTCUSDT", IndicatorSpec.make("macd_hist", (), "5m"))
    bb_5m = state.indicator("BTCUSDT", IndicatorSpec.make("bb_lower", (20, 2), "5m"))
    five_closes = 0
    for k in klines_of(df):
        changed = state.apply(k)
        assert changed[0] == Changed(ChangeKind.BAR_CLOSE, "BTCUSDT", "1m")
        five_closes += len(changed) - 1
    assert five_closes == five.count == 300
    expected = compute_series(IndicatorSpec.make("rsi", (14,)), arrays_of(df))
    assert rsi_1m.value == expected[-1]
    assert [rsi_1m.at(n) for n in range(4)] == expected[-1:-5:-1].tolist()
    with pytest.raises(IndexError):
        rsi_1m.at(4)
    five_bars = five.arrays()
    assert macd_5m.value == compute_series(macd_5m.spec, five_bars)[-1]
    assert bb_5m.value == compute_series(bb_5m.spec, five_bars)[-1]


def test_an_indicator_asked_for_late_replays_the_bars_kept(btc_1m: pd.DataFrame) -> None:
    df = btc_1m.iloc[:400]
    state = MarketState(history=400)
    state.load_bars("BTCUSDT", "1m", *(df[c].tolist() for c in ("timestamp", "open", "high", "low", "close", "volume")))
    spec = IndicatorSpec.make("ema", (50,))
    handle = state.indicator("BTCUSDT", spec, lookback=2)
    expected = compute_series(spec, arrays_of(df))
    assert [handle.at(n) for n in range(3)] == expected[-1:-4:-1].tolist()
    # a sibling output of a running computation: future values are right, past ones unknown
    upper = state.indicator("BTCUSDT", IndicatorSpec.make("bb_upper"))
    lower = state.indicator("BTCUSDT", IndicatorSpec.make("bb_lower"))
    assert not math.isnan(upper.value) and math.isnan(lower.value)
    state.apply(klines_of(btc_1m.iloc[400:401])[0])
    both = arrays_of(btc_1m.iloc[:401])
    assert lower.value == compute_series(lower.spec, both)[-1]
    assert handle.value == compute_series(spec, both)[-1]


def test_asking_for_more_history_keeps_what_is_known(btc_1m: pd.DataFrame) -> None:
    state = MarketState()
    spec = IndicatorSpec.make("sma", (3,))
    handle = state.indicator("BTCUSDT", spec, lookback=1)
    bars = klines_of(btc_1m.iloc[:20])
    for k in bars[:10]:
        state.apply(k)
    before = [handle.at(0), handle.at(1)]
    assert state.indicator("BTCUSDT", spec, lookback=4) is handle and handle.lookback == 4
    assert [handle.at(0), handle.at(1)] == before and math.isnan(handle.at(2))
    for k in bars[10:]:
        state.apply(k)
    expected = compute_series(spec, arrays_of(btc_1m.iloc[:20]))
    assert [handle.at(n) for n in range(5)] == expected[-1:-6:-1].tolist()


def test_history_loading_skips_bars_it_already_has(btc_1m: pd.DataFrame) -> None:
    df = btc_1m.iloc[:50]
    state = MarketState()
    columns = [df[c].tolist() for c in ("timestamp", "open", "high", "low", "close", "volume")]
    assert state.load_bars("BTCUSDT", "1m", *columns) == 50
    assert state.load_bars("BTCUSDT", "1m", *columns) == 0
    assert state.candles("BTCUSDT", "1m").count == 50


def test_warmup_bars_of_every_indicator_is_a_positive_count() -> None:
    for name in market.INDICATORS:
        params = (14,) if market.INDICATORS[name].params and market.INDICATORS[name].params[0].default is None else ()
        assert warmup_bars(IndicatorSpec.make(name, params)) >= 1


def test_spec_normalisation_and_errors() -> None:
    assert IndicatorSpec.make("RSI") == IndicatorSpec.make("rsi", (14,)) == IndicatorSpec("rsi", (14,), "1m")
    assert IndicatorSpec.make("macd", (8,), "60m", {"slow": 21}) == IndicatorSpec("macd", (8, 21, 9), "1h")
    assert IndicatorSpec.make("bb_upper", (20, 2)).params == (20, 2.0)
    bad: list[tuple[str, tuple[float, ...], str, dict[str, float], str]] = [
        ("rsii", (), "1m", {}, "unknown indicator 'rsii'"),
        ("sma", (), "1m", {}, "needs 'n'"),
        ("rsi", (0,), "1m", {}, "whole number"),
        ("rsi", (2.5,), "1m", {}, "whole number"),
        ("rsi", (14, 3), "1m", {}, "at most 1"),
        ("rsi", (), "1m", {"m": 3}, "no parameter 'm'"),
        ("rsi", (14,), "1m", {"n": 3}, "given twice"),
        ("bb_upper", (20, -1), "1m", {}, "positive"),
        ("rsi", (14,), "7m", {}, "unknown timeframe"),
    ]
    for name, args, timeframe, kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            IndicatorSpec.make(name, args, timeframe, kwargs)


def test_a_closed_bar_with_ten_indicators_costs_well_under_a_millisecond(btc_1m: pd.DataFrame) -> None:
    state = MarketState(history=500)
    names = [("rsi", ()), ("ema", (50,)), ("sma", (20,)), ("macd_hist", ()), ("bb_lower", ()), ("atr", ()),
             ("adx", ()), ("stoch", ()), ("donchian_upper", ()), ("mfi", ())]
    for name, params in names:
        state.indicator("BTCUSDT", IndicatorSpec.make(name, params))
    timings = []
    for k in klines_of(btc_1m.iloc[:2000]):
        start = time.perf_counter()
        state.apply(k)
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings[100:])
    assert median < 1e-3, f"median {median * 1e6:.0f} us per closed bar"


def test_reading_a_live_field_is_an_attribute_load() -> None:
    state = MarketState()
    lives = [state.live_fields(f"S{i}USDT") for i in range(10)]
    for i in range(len(lives)):
        state.apply(TickerUpdate(f"S{i}USDT", 1, 1, True, last=100.0 + i, bid1=99.0 + i, ask1=101.0 + i))
    rules = [(lambda live=live, level=level: live.bid1 < level) for live in lives for level in np.linspace(90, 120, 10)]
    start = time.perf_counter()
    fired = sum(rule() for _ in range(100) for rule in rules)
    per_rule = (time.perf_counter() - start) / (100 * len(rules))
    assert fired == 100 * sum(99.0 + i < level for i in range(10) for level in np.linspace(90, 120, 10))
    assert per_rule < 5e-6, f"{per_rule * 1e9:.0f} ns per rule"
