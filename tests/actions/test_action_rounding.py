"""Rounding to tick and step (SIMULATION.md "Prices on the tick"), by example and by property."""

from __future__ import annotations

from decimal import Decimal

import pytest
from action_factories import BTC, rules
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.actions import ActionRejected, RejectCode, round_limit_price, round_qty, round_target, round_trail
from rulebot.actions.instruments import check_size, is_on_step, show, to_decimal
from rulebot.model import Side

D = Decimal
TICKS = [D("0.1"), D("0.10"), D("0.5"), D("0.05"), D("0.01"), D("0.0001"), D("1"), D("5"), D("0.00001")]
STEPS = [D("0.001"), D("0.01"), D("1"), D("0.1"), D("100"), D("0.5")]


def test_to_decimal_goes_through_the_string() -> None:
    assert to_decimal(0.1, "x") == D("0.1")  # Decimal(0.1) would be 0.1000000000000000055511...
    assert to_decimal(64000.3, "x") == D("64000.3")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), 1e16, "abc"])
def test_to_decimal_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(ActionRejected) as refused:
        to_decimal(bad, "price")  # type: ignore[arg-type]
    assert refused.value.rejection.code is RejectCode.OUT_OF_RANGE


def test_qty_rounds_down_to_the_step() -> None:
    assert round_qty(BTC, D("0.0019")) == D("0.001")
    assert round_qty(BTC, D("0.002")) == D("0.002")
    assert str(round_qty(BTC, D("0.1"))) == "0.100"  # carries the step's decimals, as Bybit shows them


def test_limit_prices_round_away_from_the_market() -> None:
    assert round_limit_price(BTC, D("64000.07"), Side.BUY) == D("64000.0")
    assert round_limit_price(BTC, D("64000.01"), Side.SELL) == D("64000.1")
    assert round_limit_price(BTC, D("64000.1"), Side.SELL) == D("64000.1")


def test_limit_price_rounding_to_zero_is_refused() -> None:
    with pytest.raises(ActionRejected, match="rounds to 0"):
        round_limit_price(BTC, D("0.05"), Side.BUY)


def test_targets_round_toward_the_entry() -> None:
    entry = D("64000")
    assert round_target(BTC, D("65279.898"), entry, "take profit") == D("65279.8")  # long tp: down
    assert round_target(BTC, D("63359.901"), entry, "stop loss") == D("63360.0")  # long sl: up
    assert round_target(BTC, D("62720.02"), entry, "take profit") == D("62720.1")  # short tp: up


def test_a_target_that_rounds_onto_the_entry_is_refused() -> None:
    with pytest.raises(ActionRejected) as refused:
        round_target(BTC, D("64000.05"), D("64000"), "take profit")
    assert refused.value.rejection.code is RejectCode.BAD_TARGET
    assert "rounds to 64000" in refused.value.rejection.reason


def test_trail_rounds_down_but_never_below_one_tick() -> None:
    assert round_trail(BTC, D("640.07")) == D("640.0")
    assert round_trail(BTC, D("0.03")) == D("0.1")


def test_below_minimum_size_names_the_numbers() -> None:
    with pytest.raises(ActionRejected) as refused:
        check_size(BTC, D("0.0004"), round_qty(BTC, D("0.0004")), D("64000"), reduce_only=False)
    assert refused.value.rejection.reason == "order size 0.0004 BTC is below the minimum 0.001 BTC"


def test_below_minimum_value_names_the_numbers() -> None:
    cheap = rules(min_order_qty=D("0.0001"), qty_step=D("0.0001"))
    with pytest.raises(ActionRejected) as refused:
        check_size(cheap, D("0.0005"), D("0.0005"), D("6400"), reduce_only=False)
    assert refused.value.rejection.reason == "order value 3.20 USDT is below the minimum 5 USDT"
    check_size(cheap, D("0.0005"), D("0.0005"), D("6400"), reduce_only=True)  # closes are exempt


def test_minimum_value_boundary_passes() -> None:
    check_size(BTC, D("0.001"), D("0.001"), D("5000"), reduce_only=False)  # exactly 5 USDT


def test_show_keeps_messages_short() -> None:
    assert show(D("0.000046875")) == "0.000046875"
    assert show(D("64000.00")) == "64000"
    assert show(D("1") / D("3")) == "0.3333333333"
    assert show(D("4.999"), 2) == "4.99"


prices = st.decimals(min_value=D("0.00001"), max_value=D("1000000"), places=6)


@settings(max_examples=300, deadline=None)
@given(tick=st.sampled_from(TICKS), price=prices, side=st.sampled_from(Side))
def test_limit_price_is_on_tick_and_never_worse(tick: Decimal, price: Decimal, side: Side) -> None:
    r = rules(tick_size=tick)
    try:
        rounded = round_limit_price(r, price, side)
    except ActionRejected as refused:
        assert refused.rejection.code is RejectCode.OUT_OF_RANGE
        assert price < tick  # only a price below one tick can round to nothing
        return
    assert is_on_step(rounded, tick) and rounded > 0
    if side is Side.BUY:
        assert price - tick < rounded <= price
    else:
        assert price <= rounded < price + tick


@settings(max_examples=300, deadline=None)
@given(step=st.sampled_from(STEPS), qty=st.decimals(min_value=D("0"), max_value=D("1e9"), places=8))
def test_qty_is_on_step_and_never_grows(step: Decimal, qty: Decimal) -> None:
    rounded = round_qty(rules(qty_step=step), qty)
    assert is_on_step(rounded, step)
    assert qty - step < rounded <= qty


@settings(max_examples=300, deadline=None)
@given(tick=st.sampled_from(TICKS), entry=prices, target=prices)
def test_targets_round_toward_entry_and_never_onto_it(tick: Decimal, entry: Decimal, target: Decimal) -> None:
    r = rules(tick_size=tick)
    try:
        rounded = round_target(r, target, entry, "take profit")
    except ActionRejected as refused:
        assert refused.rejection.code is RejectCode.BAD_TARGET
        assert abs(target - entry) < tick or target == entry  # only a target within a tick is refused
        return
    assert is_on_step(rounded, tick) and rounded > 0
    assert (rounded > entry) == (target > entry)  # same side of the entry
    assert abs(rounded - entry) <= abs(target - entry)  # toward the entry
    assert abs(rounded - target) < tick


@settings(max_examples=200, deadline=None)
@given(tick=st.sampled_from(TICKS), distance=prices)
def test_trail_is_on_tick_at_least_one_tick(tick: Decimal, distance: Decimal) -> None:
    rounded = round_trail(rules(tick_size=tick), distance)
    assert is_on_step(rounded, tick)
    assert rounded >= tick
    assert rounded <= max(distance, tick)
