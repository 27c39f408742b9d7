"""Indicators on real BTCUSDT 1m candles: bar by bar == whole series == ta over the full history.

The ta oracle here calls ta directly (not through rulebot), applies LANGUAGE.md's scale
conversions, and is compared from the first bar `warmup_bars` says is known. Before that,
rulebot says unknown (NaN) where ta has NaN or a placeholder 0.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import ta
from market_kit import arrays_of

from rulebot.market import (
    INDICATORS,
    AnomalyLog,
    CandleArrays,
    CandleSeries,
    IndicatorSpec,
    compute_series,
    warmup_bars,
)

S = pd.Series

# (name, params) covering every indicator, with defaults and with other parameters
SPECS: list[tuple[str, tuple[float, ...]]] = [
    ("sma", (50,)), ("sma", (1,)), ("ema", (9,)), ("ema", (200,)), ("wma", (20,)), ("vwap", ()),
    ("psar", ()), ("bb_upper", ()), ("bb_mid", ()), ("bb_lower", ()), ("bb_pct", ()), ("bb_width", ()),
    ("bb_upper", (10, 1.5)), ("bb_pct", (10, 1.5)), ("keltner_upper", ()), ("keltner_lower", ()),
    ("keltner_upper", (5,)), ("donchian_upper", ()), ("donchian_lower", ()), ("highest", (55,)),
    ("lowest", (55,)), ("atr", ()), ("atr", (5,)), ("macd", ()), ("macd_signal", ()), ("macd_hist", ()),
    ("macd_hist", (5, 35, 5)), ("rsi", ()), ("rsi", (2,)), ("stoch", ()), ("stoch_signal", ()),
    ("stoch_signal", (5, 5)), ("stoch_rsi", ()), ("mfi", ()), ("adx", ()), ("adx", (7,)),
    ("williams_r", ()), ("cci", ()), ("roc", ()), ("change", (5,)), ("obv", ()),
]


def ta_oracle(spec: IndicatorSpec, c: CandleArrays) -> np.ndarray:
    """ta's value for every bar, converted to the language's scale."""
    name, p = spec.name, spec.params
    high, low, close, volume = S(c.high), S(c.low), S(c.close), S(c.volume)
    if name == "sma":
        out = ta.trend.SMAIndicator(close, p[0]).sma_indicator()
    elif name == "ema":
        out = ta.trend.EMAIndicator(close, p[0]).ema_indicator()
    elif name == "wma":
        out = ta.trend.WMAIndicator(close, p[0]).wma()
    elif name == "vwap":
        out = ta.volume.VolumeWeightedAveragePrice(high, low, close, volume, p[0]).volume_weighted_average_price()
    elif name == "psar":
        out = ta.trend.PSARIndicator(high, low, close, p[0], p[1]).psar()
    elif name.startswith("bb_"):
        bands = ta.volatility.BollingerBands(close, p[0], p[1])
        out = {
            "bb_upper": bands.bollinger_hband(), "bb_mid": bands.bollinger_mavg(), "bb_lower": bands.bollinger_lband(),
            "bb_pct": bands.bollinger_pband(), "bb_width": bands.bollinger_wband() / 100,
        }[name]
    elif name.startswith("keltner_"):
        kc = ta.volatility.KeltnerChannel(high, low, close, window=p[0], window_atr=10, original_version=False)
        out = kc.keltner_channel_hband() if name == "keltner_upper" else kc.keltner_channel_lband()
    elif name in ("donchian_upper", "highest"):
        out = ta.volatility.DonchianChannel(high, low, close, p[0]).donchian_channel_hband()
    elif name in ("donchian_lower", "lowest"):
        out = ta.volatility.DonchianChannel(high, low, close, p[0]).donchian_channel_lband()
    elif name == "atr":
        out = ta.volatility.AverageTrueRange(high, low, close, p[0]).average_true_range()
    elif name.startswith("macd"):
        macd = ta.trend.MACD(close, window_slow=p[1], window_fast=p[0], window_sign=p[2])
        out = {"macd": macd.macd(), "macd_signal": macd.macd_signal(), "macd_hist": macd.macd_diff()}[name]
    elif name == "rsi":
        out = ta.momentum.RSIIndicator(close, p[0]).rsi()
    elif name.startswith("stoch_rsi"):
        out = ta.momentum.StochRSIIndicator(close, p[0]).stochrsi() * 100
    elif name.startswith("stoch"):
        so = ta.momentum.StochasticOscillator(high, low, close, p[0], p[1])
        out = so.stoch() if name == "stoch" else so.stoch_signal()
    elif name == "mfi":
        out = ta.volume.MFIIndicator(high, low, close, volume, p[0]).money_flow_index()
    elif name == "adx":
        out = ta.trend.ADXIndicator(high, low, close, p[0]).adx()
    elif name == "williams_r":
        out = ta.momentum.WilliamsRIndicator(high, low, close, p[0]).williams_r()
    elif name == "cci":
        out = ta.trend.CCIIndicator(high, low, close, p[0]).cci()
    elif name == "roc":
        out = ta.momentum.ROCIndicator(close, p[0]).roc() / 100
    elif name == "change":
        out = close / close.shift(p[0]) - 1
    elif name == "obv":
        out = ta.volume.OnBalanceVolumeIndicator(close, volume).on_balance_volume()
    else:
        raise AssertionError(f"no oracle for {name}")
    return out.to_numpy(dtype=np.float64)


def bar_by_bar(specs: list[IndicatorSpec], candles: CandleArrays) -> dict[IndicatorSpec, np.ndarray]:
    """Feed the candles one closed bar at a time through a CandleSeries and its cache."""
    series = CandleSeries("BTCUSDT", "1m", capacity=50, anomalies=AnomalyLog())
    handles = {spec: series.indicator(spec) for spec in specs}
    out = {spec: np.empty(len(candles.close)) for spec in specs}
    columns = zip(*(a.tolist() for a in (candles.open, candles.high, candles.low, candles.close, candles.volume)), strict=True)
    for i, bar in enumerate(columns):
        series.append_closed(i * 60_000, *bar)
        for spec, handle in handles.items():
            out[spec][i] = handle.value
    return out


def test_every_language_indicator_is_covered() -> None:
    assert {name for name, _ in SPECS} == set(INDICATORS)


@pytest.fixture(scope="module")
def candles(btc_1m: pd.DataFrame) -> CandleArrays:
    return arrays_of(btc_1m)


@pytest.fixture(scope="module")
def specs() -> list[IndicatorSpec]:
    return [IndicatorSpec.make(name, params) for name, params in SPECS]


@pytest.fixture(scope="module")
def per_bar(specs: list[IndicatorSpec], candles: CandleArrays) -> dict[IndicatorSpec, np.ndarray]:
    return bar_by_bar(specs, candles)


def test_bar_by_bar_is_identical_to_the_whole_series(
    specs: list[IndicatorSpec], candles: CandleArrays, per_bar: dict[IndicatorSpec, np.ndarray]
) -> None:
    for spec in specs:
        np.testing.assert_array_equal(per_bar[spec], compute_series(spec, candles), err_msg=str(spec))


# ta runs these two as Python loops per window or per bar (about 2 s each on 20,000 bars):
# their oracle runs on the first 5,000 bars; every other one on all 20,000
SLOW_IN_TA = {"wma", "psar"}


def test_whole_series_equals_ta_over_the_full_history(specs: list[IndicatorSpec], candles: CandleArrays) -> None:
    short = CandleArrays(*(a[:5000] for a in (candles.open, candles.high, candles.low, candles.close, candles.volume)))
    for spec in specs:
        bars = short if spec.name in SLOW_IN_TA else candles
        mine = compute_series(spec, bars)
        expected = ta_oracle(spec, bars)
        start = warmup_bars(spec) - 1
        np.testing.assert_allclose(mine[start:], expected[start:], rtol=1e-9, atol=0, err_msg=str(spec))


def test_unknown_exactly_until_warmup(specs: list[IndicatorSpec], per_bar: dict[IndicatorSpec, np.ndarray]) -> None:
    for spec in specs:
        values = per_bar[spec]
        w = warmup_bars(spec)
        assert np.isnan(values[: w - 1]).all(), spec
        assert not np.isnan(values[w - 1]), spec


def test_scales_follow_the_language(specs: list[IndicatorSpec], candles: CandleArrays) -> None:
    def values(name: str, *params: float) -> np.ndarray:
        x = compute_series(IndicatorSpec.make(name, params), candles)
        return x[~np.isnan(x)]

    for name in ("rsi", "stoch", "stoch_signal", "stoch_rsi", "mfi", "adx"):
        x = values(name)
        assert x.min() >= 0 and x.max() <= 100 and x.max() > 1.5, name
    wr = values("williams_r")
    assert wr.min() >= -100 and wr.max() <= 0
    # fractions, not percentage points: 1-minute BTC moves are well under 10%
    for name in ("roc", "bb_width", "change"):
        assert np.abs(values(name, *((5,) if name == "change" else ()))).max() < 0.1, name
    close = candles.close
    np.testing.assert_allclose(values("change", 5), (close[5:] / close[:-5] - 1), rtol=1e-12)


def test_invalid_bars_are_skipped_by_both_paths(specs: list[IndicatorSpec], btc_1m: pd.DataFrame) -> None:
    df = btc_1m.iloc[:3000].copy()
    bad = [100, 101, 1500, 2999]
    df.loc[100, "close"] = np.nan
    df.loc[101, "low"] = 0.0
    df.loc[1500, "high"] = df.loc[1500, "low"] - 1  # high below low
    df.loc[2999, "volume"] = -1.0
    candles = arrays_of(df)
    clean = arrays_of(df.drop(index=bad).reset_index(drop=True))
    keep = np.ones(len(df), dtype=bool)
    keep[bad] = False
    per_bar = bar_by_bar(specs, candles)
    for spec in specs:
        series = compute_series(spec, candles)
        np.testing.assert_array_equal(per_bar[spec], series, err_msg=str(spec))
        assert np.isnan(series[bad]).all(), spec
        np.testing.assert_array_equal(series[keep], compute_series(spec, clean), err_msg=str(spec))


@pytest.mark.parametrize("length", [0, 1, 2, 3, 9, 13, 14, 27, 28, 29, 60])
def test_short_histories_agree_too(specs: list[IndicatorSpec], candles: CandleArrays, length: int) -> None:
    short = CandleArrays(*(a[:length] for a in (candles.open, candles.high, candles.low, candles.close, candles.volume)))
    per_bar = bar_by_bar(specs, short)
    for spec in specs:
        np.testing.assert_array_equal(per_bar[spec], compute_series(spec, short), err_msg=str(spec))


def test_flat_market_has_unknowns_not_errors() -> None:
    # a trading halt: the same price for 40 bars, zero volume (see data/README.md)
    n = 120
    close = np.concatenate([np.linspace(100.0, 110.0, 40), np.full(40, 110.0), np.linspace(110.0, 100.0, 40)])
    volume = np.concatenate([np.full(40, 5.0), np.zeros(40), np.full(40, 5.0)])
    candles = CandleArrays(close.copy(), close + 0.0, close.copy(), close.copy(), volume)
    specs = [IndicatorSpec.make(name, params) for name, params in SPECS]
    per_bar = bar_by_bar(specs, candles)
    for spec in specs:
        np.testing.assert_array_equal(per_bar[spec], compute_series(spec, candles), err_msg=str(spec))
        assert not np.isinf(per_bar[spec]).any()
    stoch = per_bar[IndicatorSpec.make("stoch")]
    assert np.isnan(stoch[79])  # highest == lowest over the window: 0/0 is unknown
    vwap = per_bar[IndicatorSpec.make("vwap")]
    assert np.isnan(vwap[79])  # no volume in the window
    assert len(stoch) == n


def test_rsi_on_a_year_of_minutes_is_fast(btc_1m_all: pd.DataFrame) -> None:
    close = np.resize(btc_1m_all["close"].to_numpy(dtype=np.float64), 525_600)
    candles = CandleArrays(close, close, close, close, np.ones_like(close))
    start = time.perf_counter()
    rsi = compute_series(IndicatorSpec.make("rsi", (14,)), candles)
    elapsed = time.perf_counter() - start
    assert not np.isnan(rsi[-1])
    assert elapsed < 1.0, f"rsi(14) over 525,600 bars took {elapsed:.2f} s"
