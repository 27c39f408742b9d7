"""The backtest runner on hand-made candles: trades, exit reasons, fees, equity, rule stats."""

from __future__ import annotations

import dataclasses
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bt_kit import BREAKOUT_RULES, HAND_BARS, MIN, T0, csv_text, write
from rulebot.backtest.errors import CannotRun, RuleFileError
from rulebot.backtest.options import DataSpec
from rulebot.backtest.runner import BacktestConfig, run_backtest
from rulebot.backtest.trades import FillTape, build_trades
from rulebot.model.clock import SimClock
from rulebot.model.enums import ExitReason, Side
from rulebot.model.events import Execution, PositionUpdate

TAKER = 0.00055


@pytest.fixture()
def hand(tmp_path: Path) -> BacktestConfig:
    rules = write(tmp_path / "breakout.yaml", BREAKOUT_RULES)
    data = write(tmp_path / "bars.csv", csv_text(HAND_BARS))
    return BacktestConfig(files=(rules,), data=(DataSpec(data),))


def fee(price: float, qty: float) -> float:
    return price * qty * TAKER


def test_the_trades_worked_out_by_hand(hand: BacktestConfig) -> None:
    result = run_backtest(hand)
    got = [(t.side.value, t.qty, t.entry_time_ms, t.entry_price, t.exit_time_ms, t.exit_price,
            t.exit_reason, t.rule, t.tp_price, t.sl_price) for t in result.trades]
    assert got == [
        ("long", 0.5, T0 + 2 * MIN, 106.0, T0 + 3 * MIN + 30_000, 116.6, ExitReason.TP, "breakout", 116.6, 95.4),
        ("long", 0.5, T0 + 4 * MIN, 110.0, T0 + 7 * MIN, 100.9, ExitReason.RULE, "breakout", 121.0, 99.0),
        # take profit and stop loss round toward the entry: 116.05 -> 116.0, 94.95 -> 95.0
        ("long", 0.5, T0 + 9 * MIN, 105.5, T0 + 10 * MIN, 105.8, ExitReason.END, "breakout", 116.0, 95.0),
    ]
    expected = [((116.6, 106.0)), ((100.9, 110.0)), ((105.8, 105.5))]
    for trade, (exit_, entry) in zip(result.trades, expected, strict=True):
        assert trade.fee == pytest.approx(fee(entry, 0.5) + fee(exit_, 0.5), abs=1e-8)
        assert trade.pnl == pytest.approx((exit_ - entry) * 0.5 - trade.fee, abs=1e-8)


def test_equity_is_marked_to_each_close_and_ends_at_the_net_result(hand: BacktestConfig) -> None:
    result = run_backtest(hand)
    curve = result.equity
    assert curve.times_ms.tolist() == [T0] + [T0 + (i + 1) * MIN for i in range(len(HAND_BARS))]
    values = curve.values
    assert values[0] == values[1] == values[2] == 10_000.0  # nothing open until bar 2's open
    # bar 2 closes at 107 with 0.5 bought at 106, its fee paid
    assert values[3] == pytest.approx(10_000 - fee(106, 0.5) + 0.5 * (107 - 106))
    first = result.trades[0].pnl
    assert values[4] == pytest.approx(10_000 + first)  # flat again after the take profit
    assert values[6] == pytest.approx(10_000 + first - fee(110, 0.5) + 0.5 * (104.8 - 110))
    net = sum(t.pnl for t in result.trades)
    assert result.final_equity == pytest.approx(10_000 + net)
    assert values[-1] == result.final_equity
    summary = result.summary()
    assert summary.fees == pytest.approx(sum(t.fee for t in result.trades))
    assert summary.trades == 3 and summary.wins == 2 and summary.losses == 1


def test_rule_stats_count_fires_orders_and_refusals_by_reason(hand: BacktestConfig) -> None:
    result = run_backtest(hand)
    stats = {r.rule: r for r in result.rule_stats}
    assert [r.rule for r in result.rule_stats] == ["breakout", "too big", "exit low"]  # file order
    assert (stats["breakout"].fired, stats["breakout"].orders, stats["breakout"].rejections) == (3, 3, ())
    assert (stats["too big"].fired, stats["too big"].orders) == (3, 0)
    assert stats["too big"].rejections == (("max_position", 3),)
    assert (stats["exit low"].fired, stats["exit low"].orders) == (1, 1)
    assert [(f.ts_ms, f.rule) for f in result.fires if f.rule == "exit low"] == [(T0 + 7 * MIN, "exit low")]
    assert result.bars == len(HAND_BARS) and result.data_warnings == ()


def test_fees_and_balance_come_from_the_config(hand: BacktestConfig) -> None:
    free = run_backtest(dataclasses.replace(hand, fee_taker=Decimal(0), balance=Decimal(500)))
    assert all(t.fee == 0 for t in free.trades)
    assert free.initial_balance == 500.0
    assert free.final_equity == pytest.approx(500 + (116.6 - 106 + 100.9 - 110 + 105.8 - 105.5) * 0.5)
    slipped = run_backtest(dataclasses.replace(hand, slippage_ticks=2))
    assert [t.entry_price for t in slipped.trades] == [106.2, 110.2, 105.7]  # buys pay 2 ticks more


def test_bars_before_from_only_warm_up(hand: BacktestConfig) -> None:
    result = run_backtest(dataclasses.replace(hand, start_ms=T0 + 2 * MIN, end_ms=T0 + 8 * MIN))
    assert result.start_ms == T0 + 2 * MIN and result.end_ms == T0 + 8 * MIN
    assert result.bars == 6
    # bar 1's signal is warm-up: nothing is bought at bar 2's open; bar 2's close buys at bar 3's
    # open (107: take profit 117.7, above bar 3's high), and bar 6's close sells at bar 7's open
    assert [(t.entry_time_ms, t.entry_price, t.exit_price, t.exit_reason) for t in result.trades] == [
        (T0 + 3 * MIN, 107.0, 100.9, ExitReason.RULE)
    ]


def test_a_rule_file_with_errors_is_refused_with_its_diagnostics(tmp_path: Path, hand: BacktestConfig) -> None:
    bad = write(tmp_path / "bad.yaml", BREAKOUT_RULES.replace("close > 105", "closs > 105"))
    with pytest.raises(RuleFileError) as caught:
        run_backtest(dataclasses.replace(hand, files=(bad,)))
    assert any(d.is_error and "closs" in d.message for a in caught.value.analyses for d in a.diagnostics)


def test_data_that_cannot_be_replayed_is_refused(tmp_path: Path, hand: BacktestConfig) -> None:
    with pytest.raises(CannotRun, match="no such file"):
        run_backtest(dataclasses.replace(hand, data=(DataSpec(tmp_path / "missing.csv"),)))
    with pytest.raises(CannotRun, match="no bars from 2025-01-01"):
        run_backtest(dataclasses.replace(hand, start_ms=1_735_689_600_000))


def execution(n: int, side: Side, price: str, qty: str, fee_: str, reason: str = "", link: str = "") -> Execution:
    return Execution("BTCUSDT", T0 + n, T0 + n, f"e{n}", f"o{n}", link, side, price, qty, fee_, False, reason)


def test_partial_closes_split_the_entry_and_its_fees() -> None:
    tape = FillTape(SimClock(T0))
    fills = [
        execution(1, Side.SELL, "200", "0.3", "0.6", link="L1"),  # a short, in two entries
        execution(2, Side.SELL, "203", "0.1", "0.2", link="L2"),
        execution(3, Side.BUY, "190", "0.1", "0.1", reason="tp"),  # a quarter closed
        execution(4, Side.BUY, "210", "0.3", "0.3", reason="sl"),  # the rest
    ]
    for i, fill in enumerate(fills):
        tape.record(fill)
        if i == 0:
            tape.record(PositionUpdate("BTCUSDT", T0, T0, 0, 0.3, Side.SELL, 200.0, None, 10.0, 0.0, 190.0, 210.0))
    trades = build_trades(tape, {"L1": "fade", "L2": "add"})
    entry = (200 * 0.3 + 203 * 0.1) / 0.4
    assert [(t.side.value, t.qty, t.exit_reason.value, t.rule, t.tp_price, t.sl_price) for t in trades] == [
        ("short", 0.1, "tp", "fade", 190.0, 210.0),
        ("short", 0.3, "sl", "fade", 190.0, 210.0),
    ]
    assert [t.entry_price for t in trades] == pytest.approx([entry, entry])
    assert trades[0].fee == pytest.approx(0.8 / 4 + 0.1)
    assert trades[1].fee == pytest.approx(0.8 * 3 / 4 + 0.3)
    assert trades[0].pnl == pytest.approx((entry - 190) * 0.1 - trades[0].fee)
    assert trades[1].pnl == pytest.approx((entry - 210) * 0.3 - trades[1].fee)


def test_an_exit_with_nothing_open_is_a_bug_not_a_trade() -> None:
    tape = FillTape(SimClock(T0))
    tape.record(execution(1, Side.SELL, "100", "0.1", "0", reason="rule"))
    with pytest.raises(ValueError, match="closes more than is open"):
        build_trades(tape, {})


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "generate_candles", Path(__file__).resolve().parents[2] / "examples" / "generate_candles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("candles") / "four_days.csv.gz"
    module.write(module.generate(4, 11), path)
    return path


@pytest.mark.parametrize("rules", EXAMPLES, ids=lambda p: p.name)
def test_the_fast_replay_gives_the_event_by_event_result(generated: Path, rules: Path) -> None:
    from rulebot.backtest.data import load_market_data
    from rulebot.backtest.runner import load_rule_files, replay, traded_symbols

    config = BacktestConfig(files=(rules,), data=(DataSpec(generated),), start_ms=T0 + 86_400_000,
                            balance=Decimal(100_000))
    analyses = load_rule_files(config.files, {})
    data = load_market_data(config.data, traded_symbols(analyses))
    slow, fast = replay(analyses, data, config, event_by_event=True), replay(analyses, data, config)
    a, b = slow.to_json_dict(), fast.to_json_dict()
    for key in ("seconds", "bars_per_s"):
        del a[key], b[key]
    assert a == b
    assert slow.equity.values.tolist() == fast.equity.values.tolist()
    assert slow.fires == fast.fires
