"""Indicators against the spreadsheets ta tests itself with (data/ta-reference/, last 5 rows).

As ta's own tests: the last 5 rows, rtol 1e-5, atol 1e-8, after LANGUAGE.md's scale
conversions (StochRSI x 100, ROC / 100). Files with only a close column are fed bars with
open = high = low = close; cs-obv's first row has no volume (fed 0, which adds nothing);
cs-soo and cs-percentr leave the close blank on their warm-up rows (fed the high-low
midpoint: those rows' closes enter no compared value, but their highs and lows do).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from market_kit import TA_REFERENCE

from rulebot.market import AnomalyLog, CandleArrays, CandleSeries, IndicatorSpec, compute_series


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(TA_REFERENCE / f"{name}.csv")


def candles_of(df: pd.DataFrame) -> CandleArrays:
    cols = {c.lower(): c for c in df.columns}
    close = df[cols["close"]].to_numpy(dtype=np.float64)
    high = df[cols["high"]].to_numpy(dtype=np.float64) if "high" in cols else close.copy()
    low = df[cols["low"]].to_numpy(dtype=np.float64) if "low" in cols else close.copy()
    close = np.where(np.isnan(close), (high + low) / 2, close)
    volume = df[cols["volume"]].fillna(0.0).to_numpy(dtype=np.float64) if "volume" in cols else np.ones_like(close)
    # a sheet's open is not always inside its high-low range; the indicators here never read it
    return CandleArrays(close.copy(), high, low, close, volume)


def bar_by_bar(spec: IndicatorSpec, candles: CandleArrays) -> np.ndarray:
    series = CandleSeries("X", spec.timeframe, capacity=10, anomalies=AnomalyLog())
    handle = series.indicator(spec)
    out = []
    for i, bar in enumerate(zip(candles.open, candles.high, candles.low, candles.close, candles.volume, strict=True)):
        series.append_closed(i * 60_000, *map(float, bar))
        out.append(handle.value)
    return np.array(out)


# (file, expected column, indicator, parameters, factor applied to the sheet's column)
CASES = [
    ("cs-rsi", "RSI", "rsi", (14,), 1.0),
    ("cs-macd", "MACD_line", "macd", (12, 26, 9), 1.0),
    ("cs-macd", "MACD_signal", "macd_signal", (12, 26, 9), 1.0),
    ("cs-macd", "MACD_diff", "macd_hist", (12, 26, 9), 1.0),
    ("cs-atr", "ATR", "atr", (14,), 1.0),
    ("cs-atr2", "ATR", "atr", (10,), 1.0),
    ("cs-bbands", "MiddleBand", "bb_mid", (20, 2), 1.0),
    ("cs-bbands", "HighBand", "bb_upper", (20, 2), 1.0),
    ("cs-bbands", "LowBand", "bb_lower", (20, 2), 1.0),
    ("cs-bbands", "WidthBand", "bb_width", (20, 2), 0.01),
    ("cs-bbands", "PercentageBand", "bb_pct", (20, 2), 1.0),
    ("cs-wma", "WMA", "wma", (9,), 1.0),
    ("cs-cci", "CCI", "cci", (20,), 1.0),
    ("cs-percentr", "Williams_%R", "williams_r", (14,), 1.0),
    ("cs-soo", "SO", "stoch", (14, 3), 1.0),
    ("cs-soo", "SO_SIG", "stoch_signal", (14, 3), 1.0),
    ("cs-adx", "ADX", "adx", (14,), 1.0),
    ("cs-dc", "upper_band", "donchian_upper", (20,), 1.0),
    ("cs-dc", "lower_band", "donchian_lower", (20,), 1.0),
    ("cs-kc", "upper_band", "keltner_upper", (20,), 1.0),
    ("cs-kc", "lower_band", "keltner_lower", (20,), 1.0),
    ("cs-obv", "OBV", "obv", (), 1.0),
    ("cs-mfi", "MFI", "mfi", (14,), 1.0),
    ("cs-stochrsi", "StochRSI(14)", "stoch_rsi", (14,), 100.0),
    ("cs-roc", "ROC", "roc", (12,), 0.01),
    ("cs-vwap", "vwap", "vwap", (14,), 1.0),
]


@pytest.mark.parametrize(("file", "column", "name", "params", "factor"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_last_five_rows_match_the_sheet(file: str, column: str, name: str, params: tuple, factor: float) -> None:
    df = load(file)
    candles = candles_of(df)
    spec = IndicatorSpec.make(name, params)
    expected = df[column].to_numpy(dtype=np.float64)[-5:] * factor
    series = compute_series(spec, candles)
    np.testing.assert_allclose(series[-5:], expected, rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(bar_by_bar(spec, candles), series)


def test_psar_matches_the_sheet() -> None:
    df = load("cs-psar")
    candles = candles_of(df)
    spec = IndicatorSpec.make("psar")
    # the sheet splits the SAR by trend; the indicator is whichever side is in force
    expected = df["psar_up"].fillna(df["psar_down"]).to_numpy(dtype=np.float64)[-5:]
    series = compute_series(spec, candles)
    np.testing.assert_allclose(series[-5:], expected, rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(bar_by_bar(spec, candles), series)
    # every known value of the sheet, not only the tail (the first two bars are unknown here)
    known = ~np.isnan(df["psar_up"].fillna(df["psar_down"]).to_numpy(dtype=np.float64))
    known[:2] = False
    np.testing.assert_allclose(series[known], df["psar_up"].fillna(df["psar_down"]).to_numpy()[known], rtol=1e-5)
