"""Model requests as the exact keyword arguments of pybit's ``unified_trading.HTTP`` methods.

The venue's words live here and nowhere else: ``Buy``/``Sell``, ``PostOnly``, ``positionIdx``,
``ISOLATED_MARGIN``. Prices and quantities go out as plain decimal strings; given the
instrument rules, they are padded to the tick's and step's decimals (``"16493.50"``,
``"0.100"``) and an off-tick value is an error. Requests Bybit cannot express raise
``ValueError``: the action layer never builds them for Bybit. A ``PlaceOrder``'s stops that
wait for its fill (``trailing_stop``, ``tp_pct``, ``sl_pct``, ``trail_pct``) are not
create-order parameters and are left out: the engine sends them as a ``SetTradingStop``
(``rulebot.actions.resolve_after_fill``) once the order has filled.
"""

from __future__ import annotations

from decimal import Decimal

from rulebot.model import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Category,
    InstrumentRules,
    MarginMode,
    OrderType,
    PlaceOrder,
    PositionMode,
    Request,
    SetLeverage,
    SetMarginMode,
    SetTpslMode,
    SetTradingStop,
    Side,
    SwitchPositionMode,
    TimeInForce,
    TpslMode,
)

Params = dict[str, str | int | bool]

SIDE = {Side.BUY: "Buy", Side.SELL: "Sell"}
ORDER_TYPE = {OrderType.MARKET: "Market", OrderType.LIMIT: "Limit"}
TIME_IN_FORCE = {
    TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "PostOnly",
}
TPSL_MODE = {TpslMode.FULL: "Full", TpslMode.PARTIAL: "Partial"}
POSITION_MODE = {PositionMode.ONEWAY: 0, PositionMode.HEDGE: 3}  # switch-mode: 0 merged single, 3 both sides
MARGIN_MODE = {MarginMode.ISOLATED: "ISOLATED_MARGIN", MarginMode.CROSS: "REGULAR_MARGIN"}

METHOD: dict[type, str] = {
    PlaceOrder: "place_order",
    AmendOrder: "amend_order",
    CancelOrder: "cancel_order",
    CancelAll: "cancel_all_orders",
    SetLeverage: "set_leverage",
    SwitchPositionMode: "switch_position_mode",
    SetMarginMode: "set_margin_mode",
    SetTpslMode: "set_tp_sl_mode",
    SetTradingStop: "set_trading_stop",
}


def bybit_method(request: Request) -> str:
    """The name of the pybit ``HTTP`` method that sends ``request``."""
    return METHOD[type(request)]


def _decimal(value: Decimal, step: Decimal | None, what: str) -> str:
    if step is not None:
        if value % step != 0:
            raise ValueError(f"{what} {value} is not a multiple of {step}")
        value = value.quantize(step)
    return format(value, "f")


class _Format:
    def __init__(self, rules: InstrumentRules | None) -> None:
        self._rules = rules

    def price(self, value: Decimal, what: str = "price") -> str:
        return _decimal(value, None if self._rules is None else self._rules.tick_size, what)

    def qty(self, value: Decimal, what: str = "qty") -> str:
        return _decimal(value, None if self._rules is None else self._rules.qty_step, what)


def _derivatives_only(category: Category, what: str) -> None:
    if category is Category.SPOT:
        raise ValueError(f"{what} is not available on spot")


def _place_order(r: PlaceOrder, category: Category, fmt: _Format) -> Params:
    # trailing_stop, tp_pct, sl_pct and trail_pct are stops for after the fill: create-order has
    # no field for them. The engine sends them as a SetTradingStop once the order has filled.
    spot = category is Category.SPOT
    params: Params = {
        "category": category.value,
        "symbol": r.symbol,
        "side": SIDE[r.side],
        "orderType": ORDER_TYPE[r.order_type],
        "qty": fmt.qty(r.qty),
    }
    if r.order_type is OrderType.LIMIT:
        if r.price is None:
            raise ValueError("a limit order needs a price")
        params["price"] = fmt.price(r.price)
    # Bybit runs market orders as IOC whatever is sent; say so rather than send GTC.
    params["timeInForce"] = "IOC" if r.order_type is OrderType.MARKET else TIME_IN_FORCE[r.time_in_force]
    if spot:
        if r.reduce_only:
            raise ValueError("spot orders cannot be reduce-only")
        if r.order_type is OrderType.MARKET:
            params["marketUnit"] = "baseCoin"  # spot market buys otherwise count qty in the quote coin
    else:
        params["positionIdx"] = r.position_idx
    params["orderLinkId"] = r.order_link_id
    if not spot:
        params["reduceOnly"] = r.reduce_only
    if r.take_profit is not None:
        params["takeProfit"] = fmt.price(r.take_profit, "take profit")
    if r.stop_loss is not None:
        params["stopLoss"] = fmt.price(r.stop_loss, "stop loss")
    if not spot and (r.take_profit is not None or r.stop_loss is not None):
        params["tpslMode"] = TPSL_MODE[r.tpsl_mode]
    return params


def _trading_stop(r: SetTradingStop, category: Category, fmt: _Format) -> Params:
    _derivatives_only(category, "a position trading stop")
    params: Params = {"category": category.value, "symbol": r.symbol}
    if r.take_profit is not None:
        params["takeProfit"] = fmt.price(r.take_profit, "take profit")
    if r.stop_loss is not None:
        params["stopLoss"] = fmt.price(r.stop_loss, "stop loss")
    if r.trailing_stop is not None:
        params["trailingStop"] = fmt.price(r.trailing_stop, "trailing stop")  # a price distance
    params["tpslMode"] = TPSL_MODE[r.tpsl_mode]
    if r.tpsl_mode is TpslMode.PARTIAL and (r.take_profit is not None or r.stop_loss is not None):
        if r.size is None:
            raise ValueError("a partial take profit or stop loss needs the size it covers")
        size = fmt.qty(r.size, "size")
        if r.take_profit is not None:
            params["tpSize"] = size
        if r.stop_loss is not None:
            params["slSize"] = size
    params["positionIdx"] = r.position_idx
    return params


def to_bybit_params(request: Request, category: Category, rules: InstrumentRules | None = None) -> Params:
    """The keyword arguments of ``bybit_method(request)`` for ``request`` on ``category``.

    With ``rules``, prices and quantities are checked against the tick and step and padded to
    their decimals.
    """
    if rules is not None and rules.category is not category:
        raise ValueError(f"the rules of {rules.symbol} are for {rules.category.value}, not {category.value}")
    fmt = _Format(rules)
    if isinstance(request, PlaceOrder):
        return _place_order(request, category, fmt)
    if isinstance(request, AmendOrder):
        params: Params = {"category": category.value, "symbol": request.symbol, "orderLinkId": request.order_link_id}
        if request.qty is not None:
            params["qty"] = fmt.qty(request.qty)
        if request.price is not None:
            params["price"] = fmt.price(request.price)
        return params
    if isinstance(request, CancelOrder):
        return {"category": category.value, "symbol": request.symbol, "orderLinkId": request.order_link_id}
    if isinstance(request, CancelAll):
        if request.side is not None:
            raise ValueError("Bybit's cancel-all cannot pick a side; cancel those orders one by one")
        return {"category": category.value, "symbol": request.symbol}
    if isinstance(request, SetLeverage):
        _derivatives_only(category, "leverage")
        return {
            "category": category.value,
            "symbol": request.symbol,
            "buyLeverage": format(request.buy_leverage.normalize(), "f"),
            "sellLeverage": format(request.sell_leverage.normalize(), "f"),
        }
    if isinstance(request, SwitchPositionMode):
        _derivatives_only(category, "position mode")
        return {"category": category.value, "symbol": request.symbol, "mode": POSITION_MODE[request.mode]}
    if isinstance(request, SetMarginMode):
        # Unified accounts set the margin mode for the whole account, not per symbol.
        return {"setMarginMode": MARGIN_MODE[request.mode]}
    if isinstance(request, SetTpslMode):
        _derivatives_only(category, "tp/sl mode")
        return {"category": category.value, "symbol": request.symbol, "tpSlMode": TPSL_MODE[request.mode]}
    return _trading_stop(request, category, fmt)
