"""Words for the request parameters a preview cannot show as numbers, and its notes.

``describe_request`` names, for one request built from stand-ins (``samples.py``), each
parameter the sample does not decide and says how it is decided when the rule fires ("the
best bid when it fires, rounded down to the tick 0.10"). Parameters it leaves out are exact.
``action_notes`` says what an action does that no request shows (notify, pause, halt, the
guards checked again at fire time).
"""

from __future__ import annotations

from dataclasses import dataclass

from rulebot.actions import Money, RiskLimits
from rulebot.engine.samples import Stand, evaluate
from rulebot.lang import ast as A
from rulebot.lang.kinds import Kind
from rulebot.lang.phrases import operand_of
from rulebot.lang.reading import ReadingContext, read_value
from rulebot.model import (
    CancelOrder,
    Category,
    InstrumentRules,
    OrderType,
    PlaceOrder,
    PositionMode,
    Request,
    SetTradingStop,
    Side,
    TimeInForce,
)

__all__ = ["Described", "action_notes", "describe_request"]

_STOPS = (("takeProfit", "tp", "take profit"), ("stopLoss", "sl", "stop loss"))
_BASIS = {"equity": "the equity", "balance": "the wallet balance", "available": "the available balance"}


@dataclass(frozen=True, slots=True)
class Described:
    """The action being previewed, and what its descriptions need to know."""

    action: A.Action
    rules: InstrumentRules
    stand: Stand
    direction: str | None
    reading: ReadingContext

    def exact(self, e: A.Expr | None) -> bool:
        return e is None or evaluate(e, self.stand).exact

    def words(self, e: A.Expr) -> str:
        return read_value(e, self.reading)

    @property
    def tick(self) -> str:
        return f"the tick {self.rules.tick_size}"

    @property
    def step(self) -> str:
        return f"the step {self.rules.qty_step}"


def _percent(e: A.Expr) -> bool:
    return operand_of(e).kind is Kind.PERCENT


def _option(order: A.Order, kind: str) -> A.Expr | None:
    return next((o.value for o in order.options if o.kind == kind), None)


def _rounded_limit(side: Side | None) -> str:
    if side is None:
        return "rounded away from the market (down for a Buy, up for a Sell) to"
    return "rounded down to" if side is Side.BUY else "rounded up to"


def _order(ctx: Described, o: A.Order, request: PlaceOrder) -> dict[str, str]:
    out: dict[str, str] = {}
    limit = request.order_type is OrderType.LIMIT
    price_exact = ctx.exact(o.price) if limit else ctx.stand.price is not None
    reference = "the limit price" if limit else "the mark price when it fires"
    q = o.quantity
    in_base = isinstance(q.amount, A.Money) and q.amount.coin.upper() == ctx.rules.base_coin \
        and ctx.rules.category is not Category.INVERSE
    if q.basis or (isinstance(q.amount, A.Money) and not in_base):
        if not (ctx.exact(q.amount) and price_exact):
            amount = f"{ctx.words(q.amount)} of {_BASIS[q.basis]}" if q.basis else ctx.words(q.amount)
            out["qty"] = f"{amount} ÷ {reference}, rounded down to {ctx.step}"
    elif not ctx.exact(q.amount):
        out["qty"] = f"{ctx.words(q.amount)} when it fires, rounded down to {ctx.step}"
    if limit and o.price is not None and not ctx.exact(o.price):
        out["price"] = f"{ctx.words(o.price)} when it fires, {_rounded_limit(request.side)} {ctx.tick}"
    long = request.side is Side.BUY
    for key, kind, what in _STOPS:
        value = _option(o, kind)
        if value is None:
            continue
        if _percent(value):
            if not price_exact:
                above = (kind == "tp") == long
                out[key] = f"{ctx.words(value)} {'above' if above else 'below'} {reference}, " \
                           f"rounded toward it to {ctx.tick}"
        elif not ctx.exact(value):
            toward = "the limit price" if limit else "the mark price"
            out[key] = f"{ctx.words(value)} when it fires, rounded toward {toward} to {ctx.tick}"
    return out


def _close(ctx: Described, c: A.Close, request: PlaceOrder) -> dict[str, str]:
    spot = ctx.rules.category is Category.SPOT
    known_side = bool(c.side) or ctx.direction is not None or request.position_idx != 0 or spot
    if spot:
        held = f"the {ctx.rules.base_coin} balance"
    elif request.position_idx:
        held = "the long position" if request.position_idx == 1 else "the short position"
    elif known_side:
        held = f"the {c.side or ctx.direction} position"
    else:
        held = "the position"
    share = f"{c.percent.text}% of {held}" if c.percent is not None else held
    out = {"qty": f"{share} when it fires, rounded down to {ctx.step}"}
    if not known_side:
        out["side"] = "Sell when the position is long, Buy when it is short"
    if request.order_type is OrderType.LIMIT and c.price is not None:
        if not ctx.exact(c.price) or not known_side:
            side = request.side if known_side else None
            out["price"] = f"{ctx.words(c.price)} when it fires, {_rounded_limit(side)} {ctx.tick}"
    return out


def _leg_long(ctx: Described, request: SetTradingStop) -> bool | None:
    if request.position_idx:
        return request.position_idx == 1
    return None if ctx.direction is None else ctx.direction == "long"


def _position_stop(ctx: Described, s: A.SetSetting, request: SetTradingStop) -> dict[str, str]:
    out: dict[str, str] = {}
    long = _leg_long(ctx, request)
    if s.setting == "trail":
        if _percent(s.value) or not ctx.exact(s.value):
            out["trailingStop"] = f"{ctx.words(s.value)} of the entry price when it fires, " \
                                  f"rounded down to {ctx.tick} (at least one tick)" if _percent(s.value) \
                else f"{ctx.words(s.value)} when it fires, rounded down to {ctx.tick}"
        return out
    key, what = ("takeProfit", "take profit") if s.setting == "tp" else ("stopLoss", "stop loss")
    if _percent(s.value):
        pct = ctx.words(s.value)
        if long is None:
            first, second = ("above", "below") if s.setting == "tp" else ("below", "above")
            side = f"{pct} {first} the entry price for a long, {pct} {second} it for a short"
        else:
            side = f"{pct} {'above' if (s.setting == 'tp') == long else 'below'} the entry price"
        out[key] = f"{side}, rounded toward it to {ctx.tick}"
    elif not ctx.exact(s.value):
        out[key] = f"{ctx.words(s.value)} when it fires, rounded toward the entry price to {ctx.tick}"
    out["tpSize"] = out["slSize"] = f"the position size when it fires, rounded down to {ctx.step}"
    return out


def _after_fill(ctx: Described, o: A.Order) -> dict[str, str]:
    out: dict[str, str] = {}
    long = o.side == "buy"
    for key, kind, _ in _STOPS:
        value = _option(o, kind)
        if value is not None and _percent(value):
            above = (kind == "tp") == long
            out[key] = f"{ctx.words(value)} {'above' if above else 'below'} the fill price, " \
                       f"rounded toward it to {ctx.tick}"
    trail = _option(o, "trail")
    if trail is not None and (_percent(trail) or not ctx.exact(trail)):
        out["trailingStop"] = f"{ctx.words(trail)} of the entry price after the fill, rounded down to " \
                              f"{ctx.tick} (at least one tick)" if _percent(trail) \
            else f"{ctx.words(trail)} when it fires, rounded down to {ctx.tick}"
    out["tpSize"] = out["slSize"] = "the filled quantity"
    return out


def describe_request(ctx: Described, request: Request, *, after_fill: bool) -> dict[str, str]:
    """The parameters of ``request`` that are decided only when the rule fires, in words."""
    action = ctx.action
    if after_fill and isinstance(action, A.Order):
        return _after_fill(ctx, action)
    if isinstance(request, PlaceOrder) and isinstance(action, A.Order):
        return _order(ctx, action, request)
    if isinstance(request, PlaceOrder) and isinstance(action, A.Close):
        return _close(ctx, action, request)
    if isinstance(request, SetTradingStop) and isinstance(action, A.SetSetting):
        return _position_stop(ctx, action, request)
    if isinstance(request, CancelOrder) and isinstance(action, A.Cancel):
        return {"orderLinkId": f"the orderLinkId of each open {action.which[:-1]} order when it fires "
                               "(orders without one are left alone)"}
    return {}


def _guards(ctx: Described, order: PlaceOrder, limits: RiskLimits, value_depends: bool) -> list[str]:
    """The guards an order meets that depend on the market or the account when it fires."""
    rules = ctx.rules
    out: list[str] = []
    if value_depends and not order.reduce_only:
        out.append(f"the minimum order value ({rules.min_notional} {rules.quote_coin})")
    if limits.max_position is not None and not order.reduce_only:
        out.append(f"max_position {limits.max_position} (with the position and open orders then)")
    if limits.max_order_value is not None and value_depends and not order.reduce_only:
        out.append(f"max_order_value {limits.max_order_value.text(rules.quote_coin)}")
    rests = order.order_type is OrderType.LIMIT and order.time_in_force in (TimeInForce.GTC, TimeInForce.POST_ONLY)
    if limits.max_open_orders is not None and rests:
        out.append(f"max_open_orders {limits.max_open_orders}")
    if limits.max_orders_per_minute is not None:
        out.append(f"max_orders_per_minute {limits.max_orders_per_minute}")
    if limits.price_band is not None and order.price is not None:
        out.append(f"price_band {limits.price_band.text()} of the mark price")
    loss = limits.max_daily_loss
    if loss is not None and not order.reduce_only:
        shown = loss.text(rules.settle_coin) if isinstance(loss, Money) else loss.text()
        out.append(f"max_daily_loss {shown}")
    return out


def action_notes(ctx: Described, requests: tuple[Request, ...], limits: RiskLimits,
                 position_mode: PositionMode) -> list[str]:
    """What the action does beyond its requests, and which guards are checked again when it fires."""
    action = ctx.action
    notes: list[str] = []
    if isinstance(action, A.Notify):
        filled = ", with each {…} filled in when it fires" if "{" in action.message.value else ""
        notes.append(f'no request: sends "{action.message.value}" to the log and every configured notifier{filled}')
    elif isinstance(action, A.Pause):
        notes.append("no request: the engine blocks this rule until it is edited or resumed")
    elif isinstance(action, A.Halt):
        notes.append("no request of its own: the engine blocks every rule of the file "
                     "and cancels the file's own open orders")
    elif isinstance(action, A.Close) or (isinstance(action, A.SetSetting) and action.setting in ("tp", "sl", "trail")):
        notes.append("sends nothing when there is no position")
        if position_mode is PositionMode.HEDGE and len(requests) > 1:
            notes.append("one request per open side of the position (positionIdx 1 long, 2 short)")
    elif isinstance(action, A.Cancel) and action.which != "orders":
        notes.append(f"one cancel_order per open {action.which[:-1]} order; sends nothing when there is none")
    orders = [r for r in requests if isinstance(r, PlaceOrder)]
    if isinstance(action, A.Order) and orders:
        q = action.quantity
        # an inverse contract is worth one USD: the value of a size in contracts needs no price
        sized_in_value = ctx.rules.category is Category.INVERSE and not q.basis and not isinstance(q.amount, A.Money)
        price_unknown = ctx.stand.price is None and not sized_in_value
        value_depends = price_unknown or not ctx.exact(q.amount) or not ctx.exact(action.price)
        guards = _guards(ctx, orders[0], limits, value_depends)
        if guards:
            notes.append("checked again when it fires, against the market and account then: " + ", ".join(guards))
    return notes
