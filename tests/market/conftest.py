"""Shared data for the market tests: real Bybit candles.

Also makes ``market_kit`` (this folder's helpers) importable under pytest's importlib mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from market_kit import BTC_1M, SLICE


@pytest.fixture(scope="session")
def btc_1m() -> pd.DataFrame:
    """The first 20,000 one-minute candles of the real Bybit BTCUSDT series."""
    return pd.read_csv(BTC_1M, nrows=SLICE)


@pytest.fixture(scope="session")
def btc_1m_all() -> pd.DataFrame:
    """All 44,499 one-minute candles of the real Bybit BTCUSDT series."""
    return pd.read_csv(BTC_1M)
