"""Firing (LANGUAGE.md §5) with real rule files through the compiler: `crosses`, `for N bars`,
`for DURATION`, unknown during warm-up, live rules on ticker and account updates, priority."""

from __future__ import annotations

from pathlib import Path

from engine_kit import MINUTE, SYMBOL, T0, file_harness

from rulebot.journal import EntryKind
from rulebot.model import TickerUpdate

HEAD = "symbol: BTCUSDT\ntimeframe: 1m\nrisk:\n  max_position: 1\nrules:\n"


def fired_at(h, closes: list[float], name: str) -> list[int]:  # noqa: ANN001
    """Indices of the bars (closing at ``closes``) at whose close rule ``name`` fired."""
    out = []
    for i, c in enumerate(closes):
        before = h.slot(name).state.fire_seq
        h.bar(c, c, c, c)
        if h.slot(name).state.fire_seq > before:
            out.append(i)
    return out


def test_crosses_above_compares_with_the_previous_bar_close(tmp_path: Path) -> None:
    h = file_harness(HEAD + """\
  - name: up
    when: close crosses above 100
    then: notify "up"
    trigger: level
""", tmp_path)
    assert fired_at(h, [99, 101, 102, 99, 100, 101, 101], "up") == [1, 5]


def test_crosses_is_unknown_at_the_first_evaluation(tmp_path: Path) -> None:
    h = file_harness(HEAD + "  - name: up\n    when: close crosses above 100\n    then: notify \"x\"\n", tmp_path)
    assert fired_at(h, [101, 102], "up") == []


def test_for_n_bars_needs_the_condition_at_each_of_the_last_closes(tmp_path: Path) -> None:
    h = file_harness(HEAD + """\
  - name: held
    when: close > 100 for 3 bars
    then: notify "held"
    trigger: level
""", tmp_path)
    assert fired_at(h, [101, 101, 101, 101, 99, 101, 101, 101], "held") == [2, 3, 7]


def test_edge_rule_fires_once_per_time_the_condition_becomes_true(tmp_path: Path) -> None:
    h = file_harness(HEAD + "  - name: above\n    when: close > 100\n    then: notify \"x\"\n", tmp_path)
    assert fired_at(h, [101, 102, 99, 103, 104], "above") == [0, 3]


def test_an_indicator_is_unknown_until_its_warm_up_is_done(tmp_path: Path) -> None:
    h = file_harness(HEAD + """\
  - name: rsi known
    when: rsi(3) >= 0
    then: notify "x"
    trigger: level
""", tmp_path)
    # RSI(3) (ta: Wilder smoothing, minimum 3 periods) is known from the third close on
    assert fired_at(h, [100, 101, 102, 103, 104], "rsi known") == [2, 3, 4]


def test_priority_orders_the_actions_of_rules_firing_on_one_bar(tmp_path: Path) -> None:
    h = file_harness(HEAD + """\
  - name: low
    when: close > 0
    then: notify "low"
  - name: high
    when: close > 0
    then: notify "high"
    priority: 2
""", tmp_path)
    h.bar(100, 100, 100, 100)
    assert [e.rule for e in h.journal.entries(kind=EntryKind.FIRE)] == ["high", "low"]


def ticker(ts: int, last: float) -> TickerUpdate:
    return TickerUpdate(SYMBOL, ts, ts, False, last=last)


def test_a_live_rule_is_evaluated_on_ticker_updates(tmp_path: Path) -> None:
    h = file_harness(HEAD + "  - name: spike\n    when: price > 100\n    then: notify \"x\"\n", tmp_path)
    h.bar(90, 90, 90, 90)
    engine = h.engine
    for i, last in enumerate([95.0, 101.0, 102.0, 99.0, 105.0]):
        ts = T0 + MINUTE + 1000 * (i + 1)
        h.clock.advance_to(ts)
        engine.process(ticker(ts, last))
    assert h.slot("spike").state.fire_seq == 2


def test_for_a_duration_fires_once_the_condition_held_that_long_even_without_updates(tmp_path: Path) -> None:
    h = file_harness(HEAD + """\
  - name: held
    when: price > 100 for 2m
    then: notify "held"
""", tmp_path)
    engine = h.engine
    engine.start()
    start = T0 + 10_000
    h.clock.advance_to(start)
    engine.process(ticker(start, 101.0))
    assert h.slot("held").state.fire_seq == 0
    # no more ticker updates: the minute ticks re-evaluate the rule
    for minute in range(1, 4):
        h.clock.advance_to(T0 + minute * MINUTE)
        engine.run_timers()
        assert h.slot("held").state.fire_seq == (1 if minute == 3 else 0)
    fire = h.journal.entries(kind=EntryKind.FIRE)[0]
    assert fire.ts_ms - start >= 2 * MINUTE


def test_a_live_rule_on_the_position_is_evaluated_on_account_updates(tmp_path: Path) -> None:
    h = file_harness(HEAD + """\
  - name: enter
    when: close > 100 and position is flat
    then: buy 0.01
  - name: entered
    when: position > 0
    then: notify "in"
""", tmp_path)
    h.bar(100_000, 100_000, 100_000, 100_000)  # the buy fires at this close
    assert h.slot("entered").state.fire_seq == 0
    h.bar(100_000, 100_000, 100_000, 100_000)  # filled at this open: the position update makes `entered` fire
    assert h.slot("entered").state.fire_seq == 1
    fire = [e for e in h.journal.entries(kind=EntryKind.FIRE) if e.rule == "entered"][0]
    assert dict(fire.fields)["summary"] == "account"
