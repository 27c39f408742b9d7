"""Model requests as pybit keyword arguments, checked against the request bodies of Bybit's V5 docs.

The expected bodies are copied from ../shared/bybit-v5/examples/rest_v5_*.json (docs commit
072c197d), so the test runs from a fresh clone; ``None`` values of the docs are left out, as
pybit drops them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rulebot.exchange.bybit.params import bybit_method, to_bybit_params
from rulebot.model import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Category,
    MarginMode,
    OrderType,
    PlaceOrder,
    PositionMode,
    SetLeverage,
    SetMarginMode,
    SetTpslMode,
    SetTradingStop,
    Side,
    SwitchPositionMode,
    TimeInForce,
    TpslMode,
    default_rules,
)

D = Decimal
BTC = default_rules("BTCUSDT")
LINEAR = Category.LINEAR

# rest_v5_order_create.json, "USDT Perp close long position (one-way mode)"
CLOSE_LONG = {
    "category": "linear", "symbol": "BTCUSDT", "side": "Sell", "orderType": "Limit", "qty": "1", "price": "30000",
    "timeInForce": "GTC", "positionIdx": 0, "orderLinkId": "usdt-test-02", "reduceOnly": True,
}
# rest_v5_order_create.json, "USDT Perp open long position (one-way mode)"
OPEN_LONG = {
    "category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "1", "price": "25000",
    "timeInForce": "GTC", "positionIdx": 0, "orderLinkId": "usdt-test-01", "reduceOnly": False,
    "takeProfit": "28000", "stopLoss": "20000", "tpslMode": "Partial", "tpOrderType": "Limit",
    "slOrderType": "Limit", "tpLimitPrice": "27500", "slLimitPrice": "20500",
}
# rest_v5_order_create.json, "Spot PostOnly normal order"
SPOT_POST_ONLY = {
    "category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1", "price": "15600",
    "timeInForce": "PostOnly", "orderLinkId": "spot-test-01", "isLeverage": 0, "orderFilter": "Order",
}
# rest_v5_order_amend.json
AMEND = {
    "category": "linear", "symbol": "ETHPERP", "orderLinkId": "linear-004", "triggerPrice": "1145", "qty": "0.15",
    "price": "1050", "takeProfit": "0", "stopLoss": "0",
}
# rest_v5_order_cancel.json (orderLinkId null, orderId given) and rest_v5_order_cancel_all.json
CANCEL_KEYS = {"category", "symbol", "orderLinkId", "orderId"}
CANCEL_ALL_KEYS = {"category", "symbol", "settleCoin"}
# rest_v5_position_set_leverage.json
LEVERAGE = {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "6", "sellLeverage": "6"}
# rest_v5_position_switch_mode.json (category inverse in the docs, "coin": null dropped)
SWITCH_MODE = {"category": "inverse", "symbol": "BTCUSDH23", "mode": 0}
# rest_v5_position_trading_stop.json
TRADING_STOP = {
    "category": "linear", "symbol": "XRPUSDT", "takeProfit": "0.6", "stopLoss": "0.2", "tpTriggerBy": "MarkPrice",
    "slTriggerBy": "IndexPrice", "tpslMode": "Partial", "tpOrderType": "Limit", "slOrderType": "Limit",
    "tpSize": "50", "slSize": "50", "tpLimitPrice": "0.57", "slLimitPrice": "0.21", "positionIdx": 0,
}
# rest_v5_account_set_margin_mode.json
MARGIN_MODE_KEYS = {"setMarginMode"}
# rest_v5_position_set_tpsl_mode.json
TPSL_MODE = {"symbol": "XRPUSDT", "category": "linear", "tpSlMode": "Full"}


def limit(side: Side, qty: str, price: str, link: str, **kw: object) -> PlaceOrder:
    return PlaceOrder("BTCUSDT", side, OrderType.LIMIT, D(qty), link, D(price), **kw)  # type: ignore[arg-type]


def assert_subset_of_docs(ours: dict[str, object], docs: dict[str, object]) -> None:
    """Every parameter we send is one the docs send, with the same value."""
    assert {k: docs[k] for k in ours} == ours


def test_close_long_is_the_docs_body_exactly() -> None:
    order = limit(Side.SELL, "1", "30000", "usdt-test-02", reduce_only=True)
    params = to_bybit_params(order, LINEAR)
    assert params == CLOSE_LONG
    assert list(params) == list(CLOSE_LONG)  # pybit keeps the caller's key order in the JSON body


def test_open_long_with_tp_sl_matches_the_docs() -> None:
    order = limit(Side.BUY, "1", "25000", "usdt-test-01", take_profit=D("28000"), stop_loss=D("20000"),
                  tpsl_mode=TpslMode.PARTIAL)
    params = to_bybit_params(order, LINEAR)
    assert_subset_of_docs(params, OPEN_LONG)
    assert set(OPEN_LONG) - set(params) == {"tpOrderType", "slOrderType", "tpLimitPrice", "slLimitPrice"}


def test_spot_post_only_matches_the_docs() -> None:
    order = limit(Side.BUY, "0.1", "15600", "spot-test-01", time_in_force=TimeInForce.POST_ONLY)
    params = to_bybit_params(order, Category.SPOT)
    assert_subset_of_docs(params, SPOT_POST_ONLY)
    assert "positionIdx" not in params and "reduceOnly" not in params


def test_spot_market_orders_count_qty_in_the_base_coin() -> None:
    order = PlaceOrder("BTCUSDT", Side.BUY, OrderType.MARKET, D("0.01"), "rb-1", time_in_force=TimeInForce.IOC)
    assert to_bybit_params(order, Category.SPOT)["marketUnit"] == "baseCoin"


@pytest.mark.parametrize(("tif", "wire"), [
    (TimeInForce.GTC, "GTC"), (TimeInForce.IOC, "IOC"), (TimeInForce.FOK, "FOK"), (TimeInForce.POST_ONLY, "PostOnly"),
])
def test_time_in_force(tif: TimeInForce, wire: str) -> None:
    assert to_bybit_params(limit(Side.BUY, "1", "1", "x", time_in_force=tif), LINEAR)["timeInForce"] == wire


def test_a_market_order_is_sent_as_ioc_without_a_price() -> None:
    order = PlaceOrder("BTCUSDT", Side.SELL, OrderType.MARKET, D("0.010"), "rb-1", position_idx=2)
    params = to_bybit_params(order, LINEAR, BTC)
    assert params == {
        "category": "linear", "symbol": "BTCUSDT", "side": "Sell", "orderType": "Market", "qty": "0.010",
        "timeInForce": "IOC", "positionIdx": 2, "orderLinkId": "rb-1", "reduceOnly": False,
    }


def test_with_the_rules_numbers_are_padded_to_tick_and_step() -> None:
    order = limit(Side.BUY, "0.1", "16493.5", "rb-1", take_profit=D("17000"))
    params = to_bybit_params(order, LINEAR, BTC)
    assert (params["qty"], params["price"], params["takeProfit"]) == ("0.100", "16493.50", "17000.00")


def test_with_the_rules_an_off_tick_price_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"not a multiple of 0\.10"):
        to_bybit_params(limit(Side.BUY, "0.1", "16493.55", "rb-1"), LINEAR, BTC)


def test_stops_for_after_the_fill_are_not_create_order_parameters() -> None:
    order = PlaceOrder("BTCUSDT", Side.BUY, OrderType.MARKET, D("0.01"), "rb-1", trailing_stop=D("10"),
                       tp_pct=D("2"), sl_pct=D("1"), trail_pct=D("1"))
    params = to_bybit_params(order, LINEAR)
    assert not {"trailingStop", "takeProfit", "stopLoss", "tpslMode"} & set(params)


def test_no_exponent_notation_reaches_the_wire() -> None:
    order = limit(Side.BUY, "1E+2", "0.00000010", "rb-1")
    params = to_bybit_params(order, LINEAR)
    assert (params["qty"], params["price"]) == ("100", "0.00000010")


def test_amend_matches_the_docs() -> None:
    params = to_bybit_params(AmendOrder("ETHPERP", "linear-004", qty=D("0.15"), price=D("1050")), LINEAR)
    assert_subset_of_docs(params, AMEND)
    assert bybit_method(AmendOrder("ETHPERP", "x")) == "amend_order"


def test_cancel_and_cancel_all_use_the_docs_keys() -> None:
    cancel = to_bybit_params(CancelOrder("BTCUSDT", "rb-1"), LINEAR)
    assert cancel == {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "rb-1"}
    assert set(cancel) <= CANCEL_KEYS
    cancel_all = to_bybit_params(CancelAll("BTCUSDT"), LINEAR)
    assert cancel_all == {"category": "linear", "symbol": "BTCUSDT"} and set(cancel_all) <= CANCEL_ALL_KEYS
    assert (bybit_method(CancelOrder("a", "b")), bybit_method(CancelAll("a"))) == ("cancel_order", "cancel_all_orders")


def test_cancel_all_cannot_pick_a_side() -> None:
    with pytest.raises(ValueError, match="cannot pick a side"):
        to_bybit_params(CancelAll("BTCUSDT", Side.BUY), LINEAR)


def test_set_leverage_is_the_docs_body() -> None:
    assert to_bybit_params(SetLeverage("BTCUSDT", D("6.00"), D("6.00")), LINEAR) == LEVERAGE
    assert to_bybit_params(SetLeverage("BTCUSDT", D("10.00"), D("2.50")), LINEAR)["buyLeverage"] == "10"
    assert bybit_method(SetLeverage("BTCUSDT", D(1), D(1))) == "set_leverage"


def test_switch_mode_is_the_docs_body() -> None:
    assert to_bybit_params(SwitchPositionMode("BTCUSDH23", PositionMode.ONEWAY), Category.INVERSE) == SWITCH_MODE
    assert to_bybit_params(SwitchPositionMode("BTCUSDT", PositionMode.HEDGE), LINEAR)["mode"] == 3
    assert bybit_method(SwitchPositionMode("a", PositionMode.HEDGE)) == "switch_position_mode"


def test_trading_stop_partial_matches_the_docs() -> None:
    stop = SetTradingStop("XRPUSDT", 0, D("0.6"), D("0.2"), tpsl_mode=TpslMode.PARTIAL, size=D("50"))
    params = to_bybit_params(stop, LINEAR)
    assert_subset_of_docs(params, TRADING_STOP)
    sent = {"category", "symbol", "takeProfit", "stopLoss", "tpslMode", "tpSize", "slSize", "positionIdx"}
    assert set(params) == sent


def test_trading_stop_trailing_is_a_price_distance_per_hedge_side() -> None:
    stop = SetTradingStop("BTCUSDT", 2, trailing_stop=D("640.00"))
    assert to_bybit_params(stop, LINEAR, BTC) == {
        "category": "linear", "symbol": "BTCUSDT", "trailingStop": "640.00", "tpslMode": "Full", "positionIdx": 2,
    }
    assert bybit_method(stop) == "set_trading_stop"


def test_a_partial_take_profit_needs_its_size() -> None:
    with pytest.raises(ValueError, match="needs the size"):
        to_bybit_params(SetTradingStop("BTCUSDT", 0, D("70000"), tpsl_mode=TpslMode.PARTIAL), LINEAR)


@pytest.mark.parametrize(
    ("mode", "wire"), [(MarginMode.ISOLATED, "ISOLATED_MARGIN"), (MarginMode.CROSS, "REGULAR_MARGIN")]
)
def test_margin_mode_uses_the_account_wide_endpoint(mode: MarginMode, wire: str) -> None:
    params = to_bybit_params(SetMarginMode("BTCUSDT", mode), LINEAR)
    assert params == {"setMarginMode": wire} and set(params) == MARGIN_MODE_KEYS
    assert bybit_method(SetMarginMode("BTCUSDT", mode)) == "set_margin_mode"


def test_tpsl_mode_is_the_docs_body() -> None:
    assert to_bybit_params(SetTpslMode("XRPUSDT", TpslMode.FULL), LINEAR) == TPSL_MODE
    assert bybit_method(SetTpslMode("XRPUSDT", TpslMode.FULL)) == "set_tp_sl_mode"


@pytest.mark.parametrize("request_", [
    SetLeverage("BTCUSDT", D(2), D(2)), SwitchPositionMode("BTCUSDT", PositionMode.HEDGE),
    SetTpslMode("BTCUSDT", TpslMode.FULL), SetTradingStop("BTCUSDT", 0, D("70000")),
    PlaceOrder("BTCUSDT", Side.SELL, OrderType.MARKET, D("1"), "rb-1", reduce_only=True),
])
def test_what_spot_does_not_have_is_an_error(request_: object) -> None:
    with pytest.raises(ValueError, match="spot"):
        to_bybit_params(request_, Category.SPOT)  # type: ignore[arg-type]


def test_rules_of_another_category_are_an_error() -> None:
    with pytest.raises(ValueError, match="are for linear, not spot"):
        to_bybit_params(CancelAll("BTCUSDT"), Category.SPOT, BTC)


def test_the_pybit_methods_exist() -> None:
    from pybit.unified_trading import HTTP

    for request in (PlaceOrder("A", Side.BUY, OrderType.MARKET, D(1), "x"), AmendOrder("A", "x"),
                    CancelOrder("A", "x"), CancelAll("A"), SetLeverage("A", D(1), D(1)),
                    SwitchPositionMode("A", PositionMode.HEDGE), SetMarginMode("A", MarginMode.CROSS),
                    SetTpslMode("A", TpslMode.FULL), SetTradingStop("A")):
        assert callable(getattr(HTTP, bybit_method(request)))
