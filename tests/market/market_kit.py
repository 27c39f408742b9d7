"""Paths to the shared real data and small helpers for the market tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rulebot.market import CandleArrays

# the shared folder sits beside the checkout (../shared from the repository root)
SHARED = Path(__file__).resolve().parents[3] / "shared"
DATA = SHARED / "data"
KLINES = DATA / "klines"
BTC_1M = KLINES / "bybit_linear_BTCUSDT_1m_2025-05-29_2025-06-29.csv"
BTC_15M = KLINES / "bybit_linear_BTCUSDT_15m_2023-11-29_2026-01-05.csv"
TA_REFERENCE = DATA / "ta-reference"
WS_BYBIT = DATA / "ws" / "bybit"
EXAMPLES = SHARED / "bybit-v5" / "examples"

SLICE = 20_000


def arrays_of(df: pd.DataFrame) -> CandleArrays:
    """The OHLCV columns of a candle frame as float arrays."""
    return CandleArrays(*(df[c].to_numpy(dtype=np.float64, copy=True) for c in ("open", "high", "low", "close", "volume")))
