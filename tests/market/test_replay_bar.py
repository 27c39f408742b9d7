"""`MarketState.replay_bar` (a replay's fused bar path) leaves the market exactly as ``apply_kline``
plus ``set_last`` of the bar's close would, whatever the bar: valid, invalid, duplicate, out of
order, forming, or on a series with aggregates."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from rulebot.market import IndicatorSpec, MarketState
from rulebot.model.events import KlineUpdate

MIN = 60_000
NAN = math.nan
FIELDS = ("open", "high", "low", "close", "volume")
SPECS = (("rsi", (14,)), ("ema", (9,)), ("bb_lower", (20, 2)), ("macd_hist", ()))


def _market(aggregated: bool) -> MarketState:
    state = MarketState(history=50)
    if aggregated:
        state.candles("BTCUSDT", "5m", aggregate_from="1m")
        state.indicator("BTCUSDT", IndicatorSpec.make("rsi", (14,), "5m"))
    for name, args in SPECS:
        state.indicator("BTCUSDT", IndicatorSpec.make(name, args, "1m"), lookback=3)
    return state


def _bars(df: pd.DataFrame) -> list[KlineUpdate]:
    """Closed bars of ``df`` with bad input mixed in: NaN and zero prices, a duplicate, an older
    bar, an unconfirmed (forming) kline then its confirmation, a bar of an unseen symbol."""
    bars = [
        KlineUpdate("BTCUSDT", "1m", int(r.timestamp) + MIN, 0, int(r.timestamp), r.open, r.high, r.low, r.close,
                    r.volume, True)
        for r in df.itertuples()
    ]
    out: list[KlineUpdate] = []
    for i, k in enumerate(bars):
        if i == 40:
            out.append(replace(k, open=NAN))
            continue
        if i == 41:
            out.append(replace(k, low=0.0))
            continue
        if i == 60:
            out.append(KlineUpdate("BTCUSDT", "1m", k.ts_event_ms - 1, 0, k.start_ms, k.open, k.high, k.low, k.close,
                                   k.volume, False))
        out.append(k)
        if i in (70, 90):
            out.append(k if i == 70 else bars[i - 5])  # a duplicate, an out-of-order bar
        if i == 100:
            out.append(KlineUpdate("ETHUSDT", "1m", k.ts_event_ms, 0, k.start_ms, 2.0, 3.0, 1.0, 2.5, 4.0, True))
    return out


def _snapshot(state: MarketState) -> object:
    series = {(s, tf): c for s in state.symbols() for tf, c in state.symbol(s).candles.items()}
    return (
        {key: (c.count, c.start_ms, c.forming, [getattr(c.arrays(), f).tolist() for f in FIELDS], c.starts().tolist(),
               [(h.value, h.count, [h.at(n) for n in range(min(h.count, h.lookback + 1))])
                for h in c.indicators.handles()])
         for key, c in series.items()},
        {s: (state.live_fields(s).price, state.live_fields(s).last) for s in state.symbols()},
        dict(state.anomaly_counts),
    )


@pytest.mark.parametrize("aggregated", [False, True])
def test_replay_bar_equals_apply_kline_then_last_price(btc_1m: pd.DataFrame, aggregated: bool) -> None:
    bars = _bars(btc_1m.iloc[:400])
    fused, plain = _market(aggregated), _market(aggregated)
    for k in bars:
        got = fused.replay_bar(k)
        plain.live_fields(k.symbol).set_last(k.close)
        assert got == plain.apply_kline(k)
    # NaN equal to NaN: compare the reprs of the snapshots
    assert repr(_snapshot(fused)) == repr(_snapshot(plain))
    assert fused.anomaly_counts  # the bad bars were seen and counted


def test_replay_bar_sets_the_last_price_before_a_bad_timeframe_fails() -> None:
    state = MarketState()
    bad = KlineUpdate("BTCUSDT", "7x", MIN, 0, 0, 1.0, 2.0, 0.5, 1.5, 1.0, True)
    with pytest.raises(ValueError):
        state.replay_bar(bad)
    assert state.live_fields("BTCUSDT").last == 1.5


def test_replay_bar_answers_are_interned() -> None:
    state = MarketState()
    a = state.replay_bar(KlineUpdate("BTCUSDT", "1m", MIN, 0, 0, 1.0, 2.0, 0.5, 1.5, 1.0, True))
    b = state.replay_bar(KlineUpdate("BTCUSDT", "1m", 2 * MIN, 0, MIN, 1.5, 2.0, 0.5, 1.0, 1.0, True))
    assert a is b and np.isclose(state.candles("BTCUSDT", "1m").close, 1.0)
