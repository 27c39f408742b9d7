"""Parity (issue 3, "Done means"): on real 1-minute BTCUSDT candles, the RSI-dip strategy run
through the rule file, the engine and the paper exchange gives exactly the trades of the plain
loop in ``benchmarks/parity_loop.py`` (same entries, exits, prices, reasons, final balance)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from parity_loop import Params, Trade, rsi_ta, run_loop

from rulebot.backtest.replay import KlineSeries, kline_events, read_klines
from rulebot.engine.replay import Replay, prepare_replay
from rulebot.exchange.paper import PaperConfig
from rulebot.journal import EntryKind

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "klines" / "bybit_linear_BTCUSDT_1m_2025-05-29_2025-06-29.csv"
EXAMPLE = ROOT / "examples" / "rsi_dip.yaml"

# The strategy word for word as the issue states it: buy 1 (BTC) at market.
SPEC_RULES = """\
symbol: BTCUSDT
timeframe: 1m
settings:
  leverage: 3
risk:
  max_position: 1
rules:
  - name: buy the dip
    when: rsi(14) < 30 and position is flat
    then: buy 1 market tp 2% sl 1%
    trigger: level
  - name: exit when overbought
    when: rsi(14) > 70 and position > 0
    then: close market
    trigger: level
"""


@pytest.fixture(scope="module")
def candles() -> KlineSeries:
    return read_klines(DATA, "BTCUSDT")


def engine_trades(replay: Replay, series: KlineSeries) -> list[Trade]:
    """Round trips from the journal's fills. The paper exchange stamps a fill with its point of
    the bar's walk (the open at the bar's start); the exit at the end is stamped at the last close."""
    starts = series.ts_ms

    def bar_of(ts_ms: int) -> int:
        return min(int(np.searchsorted(starts, ts_ms, side="right")) - 1, len(starts) - 1)

    trades: list[Trade] = []
    entry: tuple[int, float] | None = None
    for fill in replay.journal.entries(kind=EntryKind.FILL):
        f = dict(fill.fields)
        bar, price = bar_of(fill.ts_ms), float(f["price"])
        if f["exit_reason"]:
            assert entry is not None, f"an exit without an entry at bar {bar}"
            trades.append(Trade(entry[0], entry[1], bar, price, f["exit_reason"]))
            entry = None
        else:
            assert entry is None, f"a second entry at bar {bar}"
            entry = (bar, price)
    assert entry is None
    return trades


def check_parity(replay: Replay, series: KlineSeries, params: Params) -> None:
    stats = replay.run(kline_events(series))
    expected, balance = run_loop(series.open, series.high, series.low, series.close, rsi_ta(series.close), params)
    got = engine_trades(replay, series)
    assert stats.rejected == 0
    assert len(expected) > 100  # the month has many signals: a parity of nothing proves nothing
    assert {t.reason for t in expected} >= {"sl", "rule"}
    assert got == expected
    assert replay.paper.account.balance == pytest.approx(balance, abs=1e-6)


def test_the_example_file_trades_exactly_like_the_plain_loop(candles: KlineSeries) -> None:
    replay = prepare_replay([str(EXAMPLE)], start_ms=int(candles.ts_ms[0]))
    check_parity(replay, candles, Params(qty=0.1))


def test_the_issue_strategy_buy_1_trades_exactly_like_the_plain_loop(candles: KlineSeries, tmp_path: Path) -> None:
    rules = tmp_path / "rsi_dip_1.yaml"
    rules.write_text(SPEC_RULES)
    config = PaperConfig(initial_balance=Decimal("1000000"))
    replay = prepare_replay([str(rules)], paper=config, start_ms=int(candles.ts_ms[0]))
    check_parity(replay, candles, Params(qty=1.0, balance=1_000_000.0))


def test_parity_holds_through_take_profits_and_gaps_on_a_volatile_month() -> None:
    # Spring 2021 (Binance spot candles, the same fill rules): 2% targets are reached, and the
    # file has two gaps, which neither side fills in
    series = read_klines(DATA.parent / "binance_spot_BTCUSDT_1m_2021-04-02_2021-05-20.csv", "BTCUSDT")
    assert series.report.problems  # the gaps
    replay = prepare_replay([str(EXAMPLE)], start_ms=int(series.ts_ms[0]))
    expected, _ = run_loop(series.open, series.high, series.low, series.close, rsi_ta(series.close), Params(qty=0.1))
    assert "tp" in {t.reason for t in expected}
    check_parity(replay, series, Params(qty=0.1))
