"""Validated actions: one strict, frozen pydantic model per action of LANGUAGE.md §6.

An intent becomes one of these after conversion and rounding; validation states the
invariants every request must keep (positive sizes, prices on the tick, a time in force that
fits the order type, no TP/SL on a reduce-only order). Give the instrument rules as
validation context (``context={"rules": rules}``) to check ticks, steps and minimums too.
The journal stores ``model_dump_json()`` and reads it back with ``parse_action_json``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, ValidationInfo, model_validator

from rulebot.actions.instruments import is_on_step, order_value
from rulebot.actions.rejection import ActionRejected, RejectCode
from rulebot.model import (
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

_CONFIG = ConfigDict(strict=True, frozen=True, extra="forbid")

Positive = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
LinkId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,36}$")]
Symbol = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,39}$")]


def _rules(info: ValidationInfo) -> InstrumentRules | None:
    context = info.context
    if isinstance(context, dict):
        rules = context.get("rules")
        if isinstance(rules, InstrumentRules):
            return rules
    return None


def _check_symbol(symbol: str, rules: InstrumentRules | None) -> None:
    if rules is not None and symbol != rules.symbol:
        raise ValueError(f"symbol {symbol} does not match the instrument rules of {rules.symbol}")


def _check_tick(rules: InstrumentRules | None, what: str, price: Decimal | None) -> None:
    if rules is not None and price is not None and not is_on_step(price, rules.tick_size):
        raise ValueError(f"{what} {price} is not on the tick {rules.tick_size}")


class PlaceOrderAction(BaseModel):
    """`buy` / `sell`: one order as it will be sent (also each order of a `close`).

    Stops that depend on the fill are carried for the exchange to resolve when the order
    fills: ``tp_pct`` / ``sl_pct`` (a market order's percent targets, in percent: 2 is 2%),
    ``trail_pct`` (percent of the entry price) and ``trailing_stop`` (a price distance).
    """

    model_config = _CONFIG
    kind: Literal["order"] = "order"
    symbol: Symbol
    side: Side
    order_type: OrderType
    qty: Positive
    price: Positive | None = None
    time_in_force: TimeInForce
    reduce_only: bool = False
    take_profit: Positive | None = None
    stop_loss: Positive | None = None
    trailing_stop: Positive | None = None
    tp_pct: Positive | None = None
    sl_pct: Positive | None = None
    trail_pct: Positive | None = None
    tpsl_mode: TpslMode = TpslMode.FULL
    position_idx: Literal[0, 1, 2] = 0
    order_link_id: LinkId
    expire_after_ms: Annotated[int, Field(gt=0)] | None = None
    tag: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> PlaceOrderAction:
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError("a limit order needs a price")
        if self.order_type is OrderType.MARKET:
            if self.price is not None:
                raise ValueError("a market order takes no price")
            if self.time_in_force is not TimeInForce.IOC:
                raise ValueError("a market order is immediate-or-cancel")
        if self.reduce_only and self.stops():
            raise ValueError("a reduce-only order cannot carry a take profit, stop loss or trailing stop")
        if self.tp_pct is not None and (self.take_profit is not None or self.price is not None):
            raise ValueError("a percent take profit waits for the fill of a market order only")
        if self.sl_pct is not None and (self.stop_loss is not None or self.price is not None):
            raise ValueError("a percent stop loss waits for the fill of a market order only")
        if self.trail_pct is not None and self.trailing_stop is not None:
            raise ValueError("a trailing stop is a distance or a percent, not both")
        if self.price is not None:
            sign = self.side.sign
            if self.take_profit is not None and (self.take_profit - self.price) * sign <= 0:
                raise ValueError(f"take profit {self.take_profit} is on the wrong side of the price {self.price}")
            if self.stop_loss is not None and (self.price - self.stop_loss) * sign <= 0:
                raise ValueError(f"stop loss {self.stop_loss} is on the wrong side of the price {self.price}")
        rules = _rules(info)
        _check_symbol(self.symbol, rules)
        if rules is not None:
            if rules.category is Category.SPOT and self.reduce_only:
                raise ValueError("spot orders cannot be reduce-only")
            if not is_on_step(self.qty, rules.qty_step):
                raise ValueError(f"qty {self.qty} is not on the step {rules.qty_step}")
            if not rules.min_order_qty <= self.qty <= rules.max_order_qty:
                raise ValueError(f"qty {self.qty} is outside [{rules.min_order_qty}, {rules.max_order_qty}]")
            value = None if self.price is None else order_value(rules, self.qty, self.price)
            if not self.reduce_only and value is not None and value < rules.min_notional:
                raise ValueError(f"order value is below the minimum {rules.min_notional}")
            for what, price in (("price", self.price), ("take profit", self.take_profit),
                                ("stop loss", self.stop_loss), ("trailing stop", self.trailing_stop)):
                _check_tick(rules, what, price)
        return self

    def stops(self) -> bool:
        """Whether the order carries any take profit, stop loss or trailing stop."""
        return not (self.take_profit is None and self.stop_loss is None and self.trailing_stop is None
                    and self.tp_pct is None and self.sl_pct is None and self.trail_pct is None)

    def to_request(self) -> PlaceOrder:
        """The exchange request."""
        return PlaceOrder(
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            qty=self.qty,
            order_link_id=self.order_link_id,
            price=self.price,
            time_in_force=self.time_in_force,
            reduce_only=self.reduce_only,
            take_profit=self.take_profit,
            stop_loss=self.stop_loss,
            trailing_stop=self.trailing_stop,
            position_idx=self.position_idx,
            expire_after_ms=self.expire_after_ms,
            tag=self.tag,
            tp_pct=self.tp_pct,
            sl_pct=self.sl_pct,
            trail_pct=self.trail_pct,
            tpsl_mode=self.tpsl_mode,
        )

    def requests(self) -> tuple[Request, ...]:
        return (self.to_request(),)


class ClosePositionAction(BaseModel):
    """`close`: the reduce-only orders against the open position (none when there is nothing to close)."""

    model_config = _CONFIG
    kind: Literal["close"] = "close"
    symbol: Symbol
    orders: tuple[PlaceOrderAction, ...]

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> ClosePositionAction:
        rules = _rules(info)
        _check_symbol(self.symbol, rules)
        spot = rules is not None and rules.category is Category.SPOT
        for order in self.orders:
            if order.symbol != self.symbol:
                raise ValueError(f"a close of {self.symbol} holds an order for {order.symbol}")
            if not order.reduce_only and not spot:
                raise ValueError("a close sends reduce-only orders")
        if len({order.order_link_id for order in self.orders}) != len(self.orders):
            raise ValueError("the orders of a close need distinct orderLinkIds")
        return self

    def requests(self) -> tuple[Request, ...]:
        return tuple(order.to_request() for order in self.orders)


class CancelOrdersAction(BaseModel):
    """`cancel orders` (``side`` None: every open order) or `cancel buys` / `cancel sells` (the listed ones)."""

    model_config = _CONFIG
    kind: Literal["cancel"] = "cancel"
    symbol: Symbol
    side: Side | None = None
    order_link_ids: tuple[LinkId, ...] = ()

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> CancelOrdersAction:
        _check_symbol(self.symbol, _rules(info))
        if self.side is None and self.order_link_ids:
            raise ValueError("cancelling every order lists no orderLinkIds")
        return self

    def requests(self) -> tuple[Request, ...]:
        if self.side is None:
            return (CancelAll(self.symbol),)
        return tuple(CancelOrder(self.symbol, link_id) for link_id in self.order_link_ids)


class SetLeverageAction(BaseModel):
    """`set leverage N`: the same leverage for buys and sells."""

    model_config = _CONFIG
    kind: Literal["set_leverage"] = "set_leverage"
    symbol: Symbol
    leverage: Positive

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> SetLeverageAction:
        rules = _rules(info)
        _check_symbol(self.symbol, rules)
        if rules is not None:
            if not Decimal(1) <= self.leverage <= rules.max_leverage:
                raise ValueError(f"leverage {self.leverage} is outside [1, {rules.max_leverage}]")
            if not is_on_step(self.leverage, rules.leverage_step):
                raise ValueError(f"leverage {self.leverage} is not on the step {rules.leverage_step}")
        return self

    def requests(self) -> tuple[Request, ...]:
        return (SetLeverage(self.symbol, self.leverage, self.leverage),)


class SetPositionModeAction(BaseModel):
    """`set mode oneway | hedge` (none sent when the mode is already set)."""

    model_config = _CONFIG
    kind: Literal["set_position_mode"] = "set_position_mode"
    symbol: Symbol
    mode: PositionMode
    unchanged: bool = False

    def requests(self) -> tuple[Request, ...]:
        return () if self.unchanged else (SwitchPositionMode(self.symbol, self.mode),)


class SetMarginModeAction(BaseModel):
    """`set margin isolated | cross` (Bybit sets it for the whole unified account)."""

    model_config = _CONFIG
    kind: Literal["set_margin_mode"] = "set_margin_mode"
    symbol: Symbol
    mode: MarginMode

    def requests(self) -> tuple[Request, ...]:
        return (SetMarginMode(self.symbol, self.mode),)


class SetTpslModeAction(BaseModel):
    """`set tpsl full | partial`."""

    model_config = _CONFIG
    kind: Literal["set_tpsl_mode"] = "set_tpsl_mode"
    symbol: Symbol
    mode: TpslMode

    def requests(self) -> tuple[Request, ...]:
        return (SetTpslMode(self.symbol, self.mode),)


class TradingStopLeg(BaseModel):
    """TP / SL / trailing distance for one side of the position (``position_idx`` 0, or 1 / 2 in hedge mode)."""

    model_config = _CONFIG
    position_idx: Literal[0, 1, 2]
    take_profit: Positive | None = None
    stop_loss: Positive | None = None
    trailing_stop: Positive | None = None
    size: Positive | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> TradingStopLeg:
        if self.take_profit is None and self.stop_loss is None and self.trailing_stop is None:
            raise ValueError("a trading stop sets a take profit, a stop loss or a trailing stop")
        rules = _rules(info)
        for what, price in (("take profit", self.take_profit), ("stop loss", self.stop_loss),
                            ("trailing stop", self.trailing_stop)):
            _check_tick(rules, what, price)
        if rules is not None and self.size is not None and not is_on_step(self.size, rules.qty_step):
            raise ValueError(f"size {self.size} is not on the step {rules.qty_step}")
        return self


class SetTradingStopAction(BaseModel):
    """`set tp` / `set sl` / `set trail`, and the stops an order leaves for after its fill."""

    model_config = _CONFIG
    kind: Literal["set_trading_stop"] = "set_trading_stop"
    symbol: Symbol
    tpsl_mode: TpslMode = TpslMode.FULL
    legs: tuple[TradingStopLeg, ...]

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> SetTradingStopAction:
        _check_symbol(self.symbol, _rules(info))
        if len({leg.position_idx for leg in self.legs}) != len(self.legs):
            raise ValueError("one trading stop per side of the position")
        if self.tpsl_mode is TpslMode.PARTIAL:
            for leg in self.legs:
                if (leg.take_profit is not None or leg.stop_loss is not None) and leg.size is None:
                    raise ValueError("a partial take profit or stop loss needs the size it covers")
        return self

    def requests(self) -> tuple[Request, ...]:
        return tuple(
            SetTradingStop(
                symbol=self.symbol,
                position_idx=leg.position_idx,
                take_profit=leg.take_profit,
                stop_loss=leg.stop_loss,
                trailing_stop=leg.trailing_stop,
                tpsl_mode=self.tpsl_mode,
                size=leg.size if self.tpsl_mode is TpslMode.PARTIAL else None,
            )
            for leg in self.legs
        )


class NotifyAction(BaseModel):
    """`notify "..."`: the rendered text, for the log and every configured notifier."""

    model_config = _CONFIG
    kind: Literal["notify"] = "notify"
    symbol: Symbol
    text: Annotated[str, Field(max_length=4000)]

    def requests(self) -> tuple[Request, ...]:
        return ()


class PauseAction(BaseModel):
    """`pause`: block the rule that fired until it is edited or resumed."""

    model_config = _CONFIG
    kind: Literal["pause"] = "pause"
    symbol: Symbol
    rule: str

    def requests(self) -> tuple[Request, ...]:
        return ()


class HaltAction(BaseModel):
    """`halt`: block every rule of the file.

    The engine cancels the file's own open orders (it knows their orderLinkIds); a
    cancel-all here would also cancel orders the trader placed by hand.
    """

    model_config = _CONFIG
    kind: Literal["halt"] = "halt"
    symbol: Symbol
    reason: str

    def requests(self) -> tuple[Request, ...]:
        return ()


Action = Annotated[
    PlaceOrderAction | ClosePositionAction | CancelOrdersAction | SetLeverageAction
    | SetPositionModeAction | SetMarginModeAction | SetTpslModeAction | SetTradingStopAction
    | NotifyAction | PauseAction | HaltAction,
    Field(discriminator="kind"),
]

_ACTION: TypeAdapter[Action] = TypeAdapter(Action)


def parse_action_json(text: str | bytes) -> Action:
    """Read back an action the journal stored with ``model_dump_json()``; raises ``ValidationError``."""
    return _ACTION.validate_json(text)


M = TypeVar("M", bound=BaseModel)


def build(model: type[M], rules: InstrumentRules, **fields: object) -> M:
    """Validate ``fields`` as ``model`` against the instrument ``rules``; a failure is an ``INVALID`` rejection."""
    try:
        return model.model_validate(fields, context={"rules": rules})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ActionRejected(RejectCode.INVALID, f"{message} ({where})" if where else message) from None
