"""The firing rules of LANGUAGE.md §5 on hand-made compiled rules: edge, level, unknown, blocks
(cooldown, in flight, paused), priority, refusals, pause and halt."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_kit import (
    CANCEL_ALL,
    HALT,
    MINUTE,
    PAUSE,
    SYMBOL,
    Inbox,
    Switch,
    buy,
    harness,
    rule,
    say,
)

from rulebot.actions.risk import Money, RiskLimits
from rulebot.journal import EntryKind
from rulebot.model import OrderType


def fires(h, kind: EntryKind = EntryKind.FIRE) -> list[str]:  # noqa: ANN001
    return [e.rule for e in h.journal.entries(kind=kind)]


def run(values: list[bool | None], *, level: bool = False, cooldown_ms: int | None = None) -> list[int]:
    """Bar indices at which a rule with these successive condition values fired."""
    sw = Switch()
    h = harness([rule("r", sw, [say("x")], level=level, cooldown_ms=cooldown_ms)])
    fired = []
    for i, v in enumerate(values):
        sw.value = v
        before = h.slot("r").state.fire_seq
        h.bar()
        if h.slot("r").state.fire_seq > before:
            fired.append(i)
    return fired


def test_edge_fires_once_while_true_and_again_after_false() -> None:
    assert run([True, True, True, False, True, True]) == [0, 4]


def test_edge_unknown_neither_rearms_nor_fires() -> None:
    assert run([True, None, True, None, None]) == [0]
    assert run([None, None, True]) == [2]


def test_level_fires_at_every_true_evaluation() -> None:
    assert run([True, True, False, True, None, True], level=True) == [0, 1, 3, 5]


def test_cooldown_blocks_after_firing() -> None:
    assert run([True] * 7, level=True, cooldown_ms=3 * MINUTE) == [0, 3, 6]


def test_a_false_evaluation_while_blocked_does_not_rearm() -> None:
    # blocked by the cooldown at bars 1-2: the false at bar 1 changes nothing, so the edge rule
    # stays disarmed until a false evaluation outside the block (bar 4)
    assert run([True, False, True, True, False, True], cooldown_ms=3 * MINUTE) == [0, 5]


def test_an_order_in_flight_blocks_its_rule_until_it_is_no_longer_open() -> None:
    sw = Switch(True)
    h = harness([rule("dip", sw, [buy(0.01, order_type=OrderType.LIMIT, price=90_000.0)], level=True)])
    h.bar(100_000.0)
    st = h.slot("dip").state
    assert st.fire_seq == 1 and len(st.in_flight) == 1
    h.bars(3)  # the limit rests: the level rule is blocked
    assert st.fire_seq == 1
    h.bar(95_000.0, 95_000.0, 89_000.0, 94_000.0)  # trades through 90,000: filled, then fires again at the close
    assert h.engine.accounts.fields(SYMBOL).position == pytest.approx(0.01)
    assert st.fire_seq == 2 and len(st.in_flight) == 1


def test_a_market_order_is_in_flight_until_the_next_open() -> None:
    sw = Switch(True)
    h = harness([rule("in", sw, [buy(0.01)], level=True)])
    h.bar()
    assert h.slot("in").state.in_flight
    h.bar()  # filled at this open, before the rules at its close: fires again
    assert h.slot("in").state.fire_seq == 2
    assert h.engine.accounts.fields(SYMBOL).position == pytest.approx(0.01)


def test_unknown_never_fires_a_level_rule() -> None:
    assert run([None, None, None], level=True) == []


def test_rules_firing_on_one_event_act_by_priority_then_file_order() -> None:
    inbox = Inbox()
    rules = [
        rule("first in file", Switch(True), [say("a")], index=0),
        rule("urgent", Switch(True), [say("b")], index=1, priority=5),
        rule("second in file", Switch(True), [say("c")], index=2),
    ]
    h = harness(rules, notifier=inbox)
    h.bar()
    assert fires(h) == ["urgent", "first in file", "second in file"]
    assert inbox.texts == ["b", "a", "c"]


def test_a_refused_action_is_journalled_and_skips_the_rest_of_the_rule() -> None:
    inbox = Inbox()
    h = harness([rule("big", Switch(True), [say("before"), buy(0.5), say("after")])],
                limits=RiskLimits(max_position=Decimal("0.1")), notifier=inbox)
    h.bar()
    assert inbox.texts == ["before"]
    rejections = h.journal.entries(kind=EntryKind.REJECTION)
    assert len(rejections) == 1 and "max_position" in rejections[0].summary
    assert h.journal.entries(kind=EntryKind.ORDER) == []
    assert not h.slot("big").state.in_flight


def test_an_exchange_refusal_is_journalled_never_retried_and_does_not_block() -> None:
    h = harness([rule("huge", Switch(True), [buy(5.0)])], balance="1000")
    h.bar()
    rejections = h.journal.entries(kind=EntryKind.REJECTION)
    assert [dict(r.fields)["code"] for r in rejections] == ["110007"]
    orders = h.journal.entries(kind=EntryKind.ORDER)
    assert [dict(o.fields)["status"] for o in orders] == ["rejected"]
    assert not h.slot("huge").state.in_flight
    h.bar()  # an edge rule that stays true does not fire again: nothing is sent twice
    assert len(h.journal.entries(kind=EntryKind.ORDER)) == 1


def test_pause_blocks_the_rule_from_then_on() -> None:
    inbox = Inbox()
    h = harness([rule("once", Switch(True), [say("hi"), PAUSE, say("never")], level=True)], notifier=inbox)
    h.bars(3)
    assert inbox.texts == ["hi"]
    assert h.slot("once").state.paused
    assert [e.summary for e in h.journal.entries(kind=EntryKind.EVENT) if "pause" in e.summary]


def test_halt_blocks_every_rule_of_the_file_and_cancels_its_open_orders() -> None:
    stop = Switch(False)
    h = harness([
        rule("rest", Switch(True), [buy(0.01, order_type=OrderType.LIMIT, price=90_000.0)], index=0),
        rule("other", Switch(True), [say("x")], index=1, level=True),
        rule("stop", stop, [HALT], index=2),
    ])
    h.bar()
    assert h.engine.accounts.fields(SYMBOL).open_orders == 1
    stop.value = True
    h.bar()
    assert all(h.slot(n).state.paused for n in ("rest", "other", "stop"))
    assert h.engine.accounts.fields(SYMBOL).open_orders == 0
    assert not h.slot("rest").state.in_flight
    fired = h.slot("other").state.fire_seq
    h.bars(2)
    assert h.slot("other").state.fire_seq == fired


def test_cancel_orders_unblocks_the_rule_whose_order_rested() -> None:
    cancel = Switch(False)
    h = harness([
        rule("rest", Switch(True), [buy(0.01, order_type=OrderType.LIMIT, price=90_000.0)], level=True),
        rule("cancel", cancel, [CANCEL_ALL], index=1),
    ])
    h.bar()
    assert h.slot("rest").state.in_flight
    cancel.value = True
    h.bar()
    assert not h.slot("rest").state.in_flight
    h.bar()
    assert h.slot("rest").state.fire_seq == 2


def test_a_condition_that_raises_is_unknown_logged_once_and_the_engine_goes_on(caplog) -> None:  # noqa: ANN001
    def broken() -> bool:
        return 1 / 0 > 1

    ok = Switch(True)
    h = harness([rule("broken", broken, [say("x")], level=True), rule("ok", ok, [say("y")], index=1, level=True)])
    h.bars(3)
    assert h.slot("broken").state.fire_seq == 0
    assert h.slot("ok").state.fire_seq == 3
    assert h.engine.bad.count("eval:ZeroDivisionError") == 3
    assert sum("ZeroDivisionError" in r.getMessage() for r in caplog.records) == 1


def test_a_daily_loss_breach_halts_the_file() -> None:
    h = harness([rule("churn", Switch(True), [buy(0.01)], level=True), rule("other", Switch(True), [say("x")],
                index=1, level=True)], limits=RiskLimits(max_daily_loss=Money(amount=Decimal("0.5"), coin="USDT")))
    h.bar()  # the first order goes out
    h.bar()  # it filled at this open and paid 0.55 USDT of fees: the next order breaches the limit
    assert h.engine.accounts.fields(SYMBOL).pnl_today == pytest.approx(-0.55)
    rejections = h.journal.entries(kind=EntryKind.REJECTION)
    assert [dict(r.fields)["code"] for r in rejections] == ["max_daily_loss"]
    assert h.slot("churn").state.paused and h.slot("other").state.paused
    assert any(e.summary.startswith("halt") for e in h.journal.entries(kind=EntryKind.EVENT))


def test_a_paused_rule_fires_again_once_resumed() -> None:
    inbox = Inbox()
    h = harness([rule("once", Switch(True), [say("hi"), PAUSE], level=True)], notifier=inbox)
    h.bars(2)
    assert h.engine.resume("rules.yaml:once@BTCUSDT")
    assert not h.engine.resume("rules.yaml:nothing@BTCUSDT")
    h.bars(2)
    assert inbox.texts == ["hi", "hi"]
