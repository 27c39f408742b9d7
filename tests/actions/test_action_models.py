"""The pydantic action models: strict, frozen, one discriminated union, invariants that hold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from action_factories import BTC
from pydantic import ValidationError

from rulebot.actions import (
    ActionRejected,
    CancelOrdersAction,
    ClosePositionAction,
    PlaceOrderAction,
    SetLeverageAction,
    SetTradingStopAction,
    TradingStopLeg,
    parse_action_json,
)
from rulebot.actions.models import build
from rulebot.model import CancelAll, CancelOrder, OrderType, Side, TimeInForce, TpslMode

D = Decimal
BASE: dict[str, object] = {
    "symbol": "BTCUSDT", "side": Side.BUY, "order_type": OrderType.LIMIT, "qty": D("0.010"),
    "price": D("64000.0"), "time_in_force": TimeInForce.GTC, "order_link_id": "rb-0123abcd-1",
}


def place(**changes: object) -> PlaceOrderAction:
    return PlaceOrderAction.model_validate({**BASE, **changes}, context={"rules": BTC})


def test_a_valid_order() -> None:
    assert place().qty == D("0.010")


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"qty": 0.01}, "Decimal"),  # strict: a float is not silently turned into a Decimal
    ({"qty": "0.01"}, "Decimal"),
    ({"side": "buy"}, "Side"),
    ({"qty": D("0")}, "greater than 0"),
    ({"qty": D("0.0105")}, "is not on the step"),
    ({"qty": D("1191")}, "outside"),
    ({"price": D("64000.05")}, "is not on the tick"),
    ({"price": None}, "a limit order needs a price"),
    ({"order_type": OrderType.MARKET}, "a market order takes no price"),
    ({"order_type": OrderType.MARKET, "price": None}, "immediate-or-cancel"),
    ({"reduce_only": True, "stop_loss": D("63000.0")}, "reduce-only"),
    ({"take_profit": D("63000.0")}, "wrong side"),
    ({"stop_loss": D("65000.0")}, "wrong side"),
    ({"tp_pct": D("2")}, "market order only"),
    ({"trail_pct": D("1"), "trailing_stop": D("10.0")}, "not both"),
    ({"order_link_id": "has space"}, "pattern"),
    ({"order_link_id": "x" * 37}, "pattern"),
    ({"symbol": "ETHUSDT"}, "does not match"),
    ({"qty": D("0.001"), "price": D("4000.0")}, "below the minimum"),
    ({"surprise": 1}, "Extra inputs"),
])
def test_invariants_are_enforced(changes: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        place(**changes)


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        place().qty = D("1")  # type: ignore[misc]


def test_build_turns_a_validation_error_into_an_invalid_rejection() -> None:
    with pytest.raises(ActionRejected) as refused:
        build(PlaceOrderAction, BTC, **{**BASE, "price": D("64000.05")})
    assert refused.value.rejection.reason == "price 64000.05 is not on the tick 0.10"


def test_leverage_is_checked_against_the_instrument() -> None:
    with pytest.raises(ValidationError, match="outside"):
        SetLeverageAction.model_validate({"symbol": "BTCUSDT", "leverage": D("101")}, context={"rules": BTC})
    with pytest.raises(ValidationError, match="not on the step"):
        SetLeverageAction.model_validate({"symbol": "BTCUSDT", "leverage": D("2.001")}, context={"rules": BTC})


def test_cancel_requests() -> None:
    assert CancelOrdersAction(symbol="BTCUSDT").requests() == (CancelAll("BTCUSDT"),)
    some = CancelOrdersAction(symbol="BTCUSDT", side=Side.BUY, order_link_ids=("a-1", "a-2"))
    assert some.requests() == (CancelOrder("BTCUSDT", "a-1"), CancelOrder("BTCUSDT", "a-2"))
    with pytest.raises(ValidationError, match="lists no orderLinkIds"):
        CancelOrdersAction(symbol="BTCUSDT", order_link_ids=("a-1",))


def test_a_close_holds_reduce_only_orders_with_distinct_ids() -> None:
    leg = place(side=Side.SELL, price=D("65000.0"), reduce_only=True)
    with pytest.raises(ValidationError, match="distinct"):
        ClosePositionAction(symbol="BTCUSDT", orders=(leg, leg))
    with pytest.raises(ValidationError, match="reduce-only"):
        ClosePositionAction(symbol="BTCUSDT", orders=(place(),))


def test_a_partial_trading_stop_needs_its_size() -> None:
    leg = TradingStopLeg(position_idx=0, stop_loss=D("60000.0"))
    with pytest.raises(ValidationError, match="needs the size"):
        SetTradingStopAction(symbol="BTCUSDT", tpsl_mode=TpslMode.PARTIAL, legs=(leg,))
    with pytest.raises(ValidationError, match="sets a take profit"):
        TradingStopLeg(position_idx=0)


def test_actions_round_trip_through_json_by_their_kind() -> None:
    order = place(take_profit=D("65280.00"), tag="dip")
    close = ClosePositionAction(symbol="BTCUSDT", orders=(place(side=Side.SELL, reduce_only=True,
                                                                   order_link_id="rb-0123abcd-1-L"),))
    stop = SetTradingStopAction(symbol="BTCUSDT", legs=(TradingStopLeg(position_idx=1, trailing_stop=D("640.0")),))
    for action in (order, close, stop):
        text = action.model_dump_json()
        back = parse_action_json(text)
        assert back == action and type(back) is type(action)
    assert '"qty":"0.010"' in order.model_dump_json()  # exact decimal strings, the step's decimals kept


def test_an_unknown_kind_gets_one_precise_error() -> None:
    with pytest.raises(ValidationError) as error:
        parse_action_json('{"kind": "teleport", "symbol": "BTCUSDT"}')
    assert error.value.error_count() == 1
    assert "union_tag_invalid" in str(error.value.errors()[0]["type"])
