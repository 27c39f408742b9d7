"""The example candle generator: deterministic, valid OHLC, no gaps, realistic enough."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "generate_candles.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_candles", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_candles"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gen = _load()
START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def test_same_seed_same_candles_other_seed_other_candles() -> None:
    a, b, c = gen.generate(2, seed=7), gen.generate(2, seed=7), gen.generate(2, seed=8)
    for name in ("open_ticks", "high_ticks", "low_ticks", "close_ticks", "volume_milli"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.close_ticks, c.close_ticks)
    assert gen.to_csv(a) == gen.to_csv(b)


def test_ohlc_invariants_and_no_gaps() -> None:
    c = gen.generate(10, seed=3)
    assert c.timestamp_ms.size == 10 * 1440
    assert c.timestamp_ms[0] == START_MS
    assert np.all(np.diff(c.timestamp_ms) == 60_000)
    assert np.all(c.low_ticks >= 1)
    assert np.all(c.low_ticks <= np.minimum(c.open_ticks, c.close_ticks))
    assert np.all(c.high_ticks >= np.maximum(c.open_ticks, c.close_ticks))
    assert np.all(c.open_ticks[1:] == c.close_ticks[:-1])  # each bar opens at the last close
    assert np.all(c.volume_milli >= 1)


def test_series_looks_like_btc_minutes() -> None:
    c = gen.generate(20, seed=11)
    close = c.close_ticks.astype(float)
    r = np.diff(np.log(close))
    a = np.abs(r)
    # real Bybit BTCUSDT 1m (2025-06): std 4.7e-4, kurtosis 13, acf(|r|, 1) 0.30, corr 0.71
    assert 2e-4 < r.std() < 1e-3
    kurtosis = float(np.mean((r - r.mean()) ** 4) / r.var() ** 2)
    assert kurtosis > 5  # fat tails
    assert np.corrcoef(a[:-1], a[1:])[0, 1] > 0.15  # volatility clusters
    bar_range = np.log(c.high_ticks / c.low_ticks) + 1.0 / c.open_ticks
    assert np.corrcoef(np.log(c.volume_milli), np.log(bar_range))[0, 1] > 0.5
    assert np.mean(c.high_ticks > c.low_ticks) > 0.95  # bars are rarely flat


def test_cli_writes_identical_gzip_csv_for_a_seed(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "c.csv.gz", tmp_path / "b.csv.gz"
    assert gen.main(["--days", "1", "--seed", "5", "-o", str(first)]) == 0
    assert gen.main(["--days", "1", "--seed", "5", "-o", str(second)]) == 0
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    assert digest[0] == digest[1]
    with gzip.open(first, "rt") as handle:
        assert handle.readline() == "timestamp,open,high,low,close,volume\n"
        frame = pd.read_csv(handle, header=None)
    assert len(frame) == 1440
    expected = gen.generate(1, seed=5)
    assert frame[0].tolist() == expected.timestamp_ms.tolist()
    prices = expected.prices()
    for column, name in enumerate(("open", "high", "low", "close"), start=1):
        printed = frame[column].to_numpy()
        assert np.allclose(printed, prices[name], rtol=0, atol=1e-6)
        assert np.allclose(printed * 10, np.rint(printed * 10), rtol=0, atol=1e-6)  # on the tick
    assert np.allclose(frame[5].to_numpy() * 1000, expected.volume_milli, rtol=0, atol=1e-6)


def test_cli_plain_csv_and_options(tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    args = ["--days", "0.5", "--seed", "1", "--start", "2023-03-01", "--price", "2000"]
    assert gen.main([*args, "--tick", "0.01", "-o", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["timestamp", "open", "high", "low", "close", "volume"]
    assert len(frame) == 720
    assert frame["timestamp"].iloc[0] == 1_677_628_800_000
    assert frame["open"].iloc[0] == 2000.0
    assert np.allclose(frame["close"] * 100, np.rint(frame["close"] * 100), atol=1e-6)


def test_cli_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        gen.main(["--days", "0", "-o", str(tmp_path / "x.csv")])
    with pytest.raises(SystemExit):
        gen.main(["--start", "yesterday", "-o", str(tmp_path / "x.csv")])
