"""The HTML report and the PNG picture: produced, self-contained, with every trace."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rulebot.backtest.report import render_html, write_html_report
from rulebot.backtest.report_display import (
    CandleSeries,
    candles_for_display,
    equity_for_display,
    fire_counts,
    resample_ohlc,
    rule_rows,
    summary_rows,
)
from rulebot.backtest.report_plot import write_png_plot
from rulebot.backtest.result import (
    BacktestResult,
    EquityCurve,
    FireMark,
    RuleStats,
    Trade,
    TradeSide,
)
from rulebot.model.enums import ExitReason

MIN = 60_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
TRACE_NAMES = (
    "BTCUSDT candles",
    "take profit",
    "stop loss",
    "long entry",
    "short entry",
    "exit",
    "equity",
    "drawdown",
    "rule fires",
)


def in_chart(words: str, page: str) -> bool:
    """Whether the chart's JSON (which escapes non-ASCII) holds ``words``."""
    return json.dumps(words)[1:-1] in page


def walk(n: int, seed: int = 1) -> CandleSeries:
    rng = np.random.default_rng(seed)
    close = 60_000 * np.exp(np.cumsum(rng.normal(0, 5e-4, n)))
    open_ = np.concatenate(([60_000.0], close[:-1]))
    wick = np.abs(rng.normal(0, 20, n))
    return CandleSeries(
        ts_ms=T0 + np.arange(n, dtype=np.int64) * MIN,
        open=open_,
        high=np.maximum(open_, close) + wick,
        low=np.minimum(open_, close) - wick,
        close=close,
    )


def make_result(candles: CandleSeries, rule: str = "dip") -> BacktestResult:
    n = len(candles)
    ts = candles.ts_ms
    trades = (
        Trade(
            "BTCUSDT",
            TradeSide.LONG,
            0.1,
            int(ts[10]),
            60_000.0,
            int(ts[40]),
            61_200.0,
            118.0,
            2.0,
            ExitReason.TP,
            rule,
            tp_price=61_200.0,
            sl_price=59_400.0,
        ),
        Trade(
            "BTCUSDT",
            TradeSide.SHORT,
            0.1,
            int(ts[60]),
            60_500.0,
            int(ts[90]),
            61_105.0,
            -62.5,
            2.0,
            ExitReason.SL,
            "fade",
            tp_price=59_290.0,
            sl_price=61_105.0,
        ),
    )
    equity = 10_000 + np.concatenate((np.zeros(40), np.full(50, 118.0), np.full(n - 90, 55.5)))
    return BacktestResult(
        symbols=("BTCUSDT",),
        timeframe="1m",
        bars=n,
        seconds=0.25,
        start_ms=int(ts[0]),
        end_ms=int(ts[-1]) + MIN,
        initial_balance=10_000.0,
        final_equity=10_055.5,
        trades=trades,
        equity=EquityCurve(ts + MIN, equity),
        fires=(FireMark(int(ts[9]), rule, "BTCUSDT"), FireMark(int(ts[59]), "fade", "BTCUSDT")),
        rule_stats=(
            RuleStats(rule, 1, 1, (("max_position", 4),)),
            RuleStats("fade", 1, 1),
        ),
        data_warnings=("3 duplicate timestamps in btc.csv, first at 2024-01-01T00:05:00Z",),
    )


def test_html_report_is_self_contained_with_every_trace(tmp_path: Path) -> None:
    candles = walk(200)
    path = tmp_path / "report.html"
    write_html_report(make_result(candles), {"BTCUSDT": candles}, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # no script or stylesheet fetched from anywhere: plotly.js is inside the file
    assert not re.search(r"<script[^>]*\ssrc\s*=", text, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\shref\s*=\s*['\"]?https?:", text, re.IGNORECASE)
    assert "Plotly.newPlot" in text and len(text) > 1_000_000  # the library itself is inlined
    for name in TRACE_NAMES:
        assert f'"name":"{name}"' in text, name
    for label in ("Win rate", "Max drawdown", "Sharpe", "Sortino", "Profit factor", "Exposure"):
        assert label in text
    assert "max_position: 4" in text
    assert "3 duplicate timestamps" in text
    assert in_chart("BTCUSDT — 1m candles", text)  # 200 bars need no resampling


def test_user_text_is_escaped(tmp_path: Path) -> None:
    candles = walk(120)
    text = render_html(make_result(candles, rule="</script><b>x</b>"), {"BTCUSDT": candles})
    assert "</script><b>x</b>" not in text
    assert "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in text


def test_missing_candles_for_a_symbol_is_an_error() -> None:
    with pytest.raises(ValueError, match="BTCUSDT"):
        render_html(make_result(walk(120)), {})


def test_year_of_minutes_stays_small(tmp_path: Path) -> None:
    candles = walk(525_600, seed=2)
    result = make_result(candles)
    path = tmp_path / "year.html"
    write_html_report(result, {"BTCUSDT": candles}, path)
    text = path.read_text(encoding="utf-8")
    assert in_chart("BTCUSDT — 2h candles, resampled from 525,600 1m bars for display", text)
    assert path.stat().st_size < 8_000_000  # plotly.js is about 4.8 MB of it


def test_resample_ohlc_by_hand() -> None:
    # six 1-minute bars from 00:01; 3-minute buckets start at 00:00, 00:03, 00:06
    bars = CandleSeries(
        ts_ms=T0 + MIN * np.arange(1, 7),
        open=np.array([10.0, 11, 12, 13, 14, 15]),
        high=np.array([11.0, 15, 12.5, 13.5, 14.5, 16]),
        low=np.array([9.0, 10.5, 8, 12.5, 13.5, 14.5]),
        close=np.array([11.0, 12, 13, 14, 15, 15.5]),
    )
    got = resample_ohlc(bars, 3 * MIN)
    assert got.ts_ms.tolist() == [T0, T0 + 3 * MIN, T0 + 6 * MIN]
    assert got.open.tolist() == [10.0, 12.0, 15.0]
    assert got.high.tolist() == [15.0, 14.5, 16.0]
    assert got.low.tolist() == [9.0, 8.0, 14.5]
    assert got.close.tolist() == [12.0, 15.0, 15.5]


def test_weekly_buckets_start_on_monday() -> None:
    # 2024-01-01 was a Monday; 16 days of daily bars make 3 weeks from it
    bars = CandleSeries(
        ts_ms=T0 + 1440 * MIN * np.arange(16),
        open=np.ones(16),
        high=np.ones(16),
        low=np.ones(16),
        close=np.ones(16),
    )
    got = resample_ohlc(bars, 7 * 1440 * MIN)
    assert got.ts_ms.tolist() == [T0, T0 + 7 * 1440 * MIN, T0 + 14 * 1440 * MIN]


def test_display_picks_the_finest_interval_that_fits() -> None:
    shown = candles_for_display(walk(10_000), max_candles=5_000)
    assert (shown.step, shown.source_step, shown.resampled) == ("3m", "1m", True)
    assert len(shown.candles) == 3_334  # 10,000 minutes from 00:00 in 3-minute buckets
    small = candles_for_display(walk(50), max_candles=5_000)
    assert (small.step, small.resampled, len(small.candles)) == ("1m", False, 50)


def test_equity_thinning_keeps_the_trough_and_the_exact_peak() -> None:
    n = 100_000
    values = np.linspace(1_000.0, 2_000.0, n)
    values[31_337] = 500.0  # one deep, one-point trough
    values[70_001] = 2_500.0  # one spike high
    times = T0 + np.arange(n, dtype=np.int64) * MIN
    kept_t, kept_v, kept_peak = equity_for_display(EquityCurve(times, values), max_points=3_000)
    assert kept_t.size <= 3_000 + 1
    assert 500.0 in kept_v.tolist() and 2_500.0 in kept_v.tolist()
    assert kept_t[-1] == times[-1]
    after_spike = kept_t > times[70_001]
    assert np.all(kept_peak[after_spike] == 2_500.0)


def test_fire_counts_per_rule_and_bucket() -> None:
    result = make_result(walk(120))
    extra = (
        FireMark(T0 + 4 * MIN, "fade", "BTCUSDT"),
        FireMark(T0 + 5 * MIN, "fade", "BTCUSDT"),
        FireMark(T0 + 7 * MIN, "ghost", "BTCUSDT"),
    )
    result = dataclasses.replace(result, fires=result.fires + extra)
    rows = fire_counts(result, 5 * MIN)
    assert [name for name, _, _ in rows] == ["dip", "fade", "ghost"]
    by_name = {name: (starts.tolist(), counts.tolist()) for name, starts, counts in rows}
    assert by_name["dip"] == ([T0 + 5 * MIN], [1])  # fired at 00:09
    # 00:04 in the first bucket; 00:05 and 00:59 in their own
    assert by_name["fade"] == ([T0, T0 + 5 * MIN, T0 + 55 * MIN], [1, 1, 1])
    assert by_name["ghost"] == ([T0 + 5 * MIN], [1])


def test_png_plot_is_a_png(tmp_path: Path) -> None:
    from matplotlib.image import imread

    path = tmp_path / "equity.png"
    write_png_plot(make_result(walk(3_000)), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = imread(path).shape
    assert width > 800 and height > 400


def test_plot_libraries_load_only_when_a_report_is_written() -> None:
    code = (
        "import sys, rulebot.backtest.report, rulebot.backtest.report_plot\n"
        "print(sorted(m for m in ('plotly', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_summary_and_rule_rows_are_formatted_for_people() -> None:
    candles = walk(120)
    result = make_result(candles)
    rows = dict(summary_rows(result, result.summary()))
    assert rows["Trades"] == "2"
    assert rows["Win rate"] == "50.00%"
    assert rows["Net PnL"] == "55.50"
    assert rows["Profit factor"] == "1.89"  # 118 / 62.5
    assert rows["Initial balance"] == "10,000.00"
    assert rule_rows(result) == [
        ("dip", "1", "1", "max_position: 4"),
        ("fade", "1", "1", "none"),
    ]
    winners_only = dataclasses.replace(result, trades=result.trades[:1])
    assert dict(summary_rows(winners_only, winners_only.summary()))["Profit factor"] == (
        "— (no losing trade)"
    )
