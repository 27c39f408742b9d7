"""Sample values for previewing a rule's actions: an action's expressions evaluated against a
sample market, and the intents they become (the engine's own path from AST to the action layer).

A value is *exact* when the sample decides it: a constant, or, when the trader gave a sample
price, a live price field (``last``, ``mark_price``, ``index_price``, ``bid1`` and ``close`` are
the sample price, ``ask1`` one tick above, ``mid`` half a tick above). Anything else (an
indicator, an earlier bar, an account field, or any market value without a sample price) is
only known when the rule fires: it gets a *stand-in* of the right kind so that the action layer
can still build and check the request, and the preview describes it instead of showing it.
No rule text is evaluated as Python: this walks the checked AST.
"""

from __future__ import annotations

from dataclasses import dataclass

from rulebot.actions import (
    CancelIntent,
    CancelWhich,
    CloseIntent,
    HaltIntent,
    Intent,
    NotifyIntent,
    OrderIntent,
    PauseIntent,
    PositionSide,
    PriceTarget,
    QtySpec,
    QtyUnit,
    SetLeverageIntent,
    SetMarginModeIntent,
    SetPositionModeIntent,
    SetTpslModeIntent,
    SetTradingStopIntent,
    Trail,
    TrailUnit,
)
from rulebot.lang import ast as A
from rulebot.lang.kinds import Kind
from rulebot.lang.phrases import operand_of, relative_offset
from rulebot.model import MarginMode, OrderType, PositionMode, Side, TimeInForce, TpslMode

__all__ = ["Sampled", "Stand", "evaluate", "intent_for", "position_direction"]

# Values that are differences of prices, not prices: their stand-in is a small share of the price.
_DIFFERENCES = frozenset({"atr", "macd", "macd_signal", "macd_hist", "spread"})
_OSCILLATORS = frozenset({"rsi", "stoch", "stoch_signal", "stoch_rsi", "mfi", "adx"})
_AT_PRICE = frozenset({"last", "price", "mark_price", "index_price", "bid1", "close"})
_LONG_FIELDS = frozenset({"position", "long_size"})


@dataclass(frozen=True, slots=True)
class Stand:
    """The sample a value is taken in: the sample ``price`` (None when the trader gave none),
    the stand-in price for everything the sample does not decide, and the symbol's tick."""

    price: float | None
    stand_in: float
    tick: float


@dataclass(frozen=True, slots=True)
class Sampled:
    """A value under the sample; ``exact`` is false when it is a stand-in for a fire-time value."""

    value: float
    exact: bool


def _stand_in(e: A.Expr, stand: Stand) -> Sampled:
    name = e.name if isinstance(e, (A.Name, A.Call)) else ""
    kind = operand_of(e).kind
    if name in _DIFFERENCES:
        return Sampled(stand.stand_in / 100, False)
    if name in _OSCILLATORS:
        return Sampled(50.0, False)
    values = {Kind.PRICE: stand.stand_in, Kind.PERCENT: 0.01, Kind.MONEY: 1000.0, Kind.DURATION: 60.0}
    return Sampled(values.get(kind, 1.0), False)


def _field(name: str, stand: Stand) -> Sampled | None:
    if stand.price is None:
        return None
    if name in _AT_PRICE:
        return Sampled(stand.price, True)
    offsets = {"ask1": stand.tick, "mid": stand.tick / 2}
    return Sampled(stand.price + offsets[name], True) if name in offsets else None


def evaluate(e: A.Expr, stand: Stand) -> Sampled:
    """The value of an action's expression under the sample (percents as fractions)."""
    if isinstance(e, A.Number):
        return Sampled(float(e.text), True)
    if isinstance(e, A.Percent):
        return Sampled(e.fraction, True)
    if isinstance(e, A.Money):
        return Sampled(float(e.amount), True)
    if isinstance(e, A.Ticks):
        return Sampled(float(e.count) * stand.tick, True)
    if isinstance(e, A.Duration):
        return Sampled(float(e.seconds), True)
    if isinstance(e, A.Name) or (isinstance(e, A.Call) and e.name == "close" and len(e.args) <= 1):
        return _field(e.name, stand) or _stand_in(e, stand)
    if isinstance(e, A.Neg):
        inner = evaluate(e.operand, stand)
        return Sampled(-inner.value, inner.exact)
    if isinstance(e, A.BinOp):
        return _binop(e, stand)
    # indicators, other candle fields, earlier bars: known only when the rule fires
    return _stand_in(e, stand)


def _binop(e: A.BinOp, stand: Stand) -> Sampled:
    left, right = evaluate(e.left, stand), evaluate(e.right, stand)
    exact = left.exact and right.exact
    if relative_offset(e):
        factor = 1 + right.value if e.op == "+" else 1 - right.value
        return Sampled(left.value * factor, exact)
    if e.op == "+":
        return Sampled(left.value + right.value, exact)
    if e.op == "-":
        return Sampled(left.value - right.value, exact)
    if e.op == "*":
        return Sampled(left.value * right.value, exact)
    if right.value == 0:
        return _stand_in(e, stand)
    return Sampled(left.value / right.value, exact)


def _target(value: A.Expr, stand: Stand) -> tuple[PriceTarget, bool]:
    sampled = evaluate(value, stand)
    if operand_of(value).kind is Kind.PERCENT:
        return PriceTarget.percent(sampled.value), sampled.exact
    return PriceTarget.price(sampled.value), sampled.exact


def _trail(value: A.Expr, stand: Stand) -> tuple[Trail, bool]:
    if isinstance(value, A.Ticks):
        return Trail(TrailUnit.TICKS, float(value.count)), True
    sampled = evaluate(value, stand)
    unit = TrailUnit.PERCENT if operand_of(value).kind is Kind.PERCENT else TrailUnit.DISTANCE
    return Trail(unit, sampled.value), sampled.exact


def _quantity(q: A.Quantity, stand: Stand) -> tuple[QtySpec, bool]:
    amount = evaluate(q.amount, stand)
    if q.basis:
        return QtySpec.share(amount.value, QtyUnit(q.basis)), amount.exact
    if isinstance(q.amount, A.Money):
        return QtySpec.money(amount.value, q.amount.coin), amount.exact
    return QtySpec.base(amount.value), amount.exact


def _order(o: A.Order, symbol: str, stand: Stand, rule: str, seq: int) -> tuple[Intent, bool]:
    qty, exact = _quantity(o.quantity, stand)
    price = None
    if o.order_type == "limit" and o.price is not None:
        sampled = evaluate(o.price, stand)
        price, exact = sampled.value, exact and sampled.exact
    options = {opt.kind: opt.value for opt in o.options}
    targets: dict[str, PriceTarget] = {}
    for kind in ("tp", "sl"):
        value = options.get(kind)
        if isinstance(value, A.Ticks) and price is not None:
            # as the engine reads it: a distance from the limit price, in the direction of the trade
            distance = float(value.count) * stand.tick
            above = (kind == "tp") == (o.side == "buy")
            targets[kind] = PriceTarget.price(price + distance if above else price - distance)
        elif value is not None:
            targets[kind], ok = _target(value, stand)
            exact = exact and ok
    trail = None
    value = options.get("trail")
    if value is not None:
        trail, ok = _trail(value, stand)
        exact = exact and ok
    tif = TimeInForce.IOC if "ioc" in options else TimeInForce.FOK if "fok" in options else TimeInForce.GTC
    expire = options.get("expire")
    tag = options.get("tag")
    intent = OrderIntent(
        symbol=symbol, side=Side(o.side), qty=qty,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET, price=price,
        tp=targets.get("tp"), sl=targets.get("sl"), trail=trail, post_only="post_only" in options, tif=tif,
        reduce_only="reduce_only" in options,
        expire_s=float(expire.seconds) if isinstance(expire, A.Duration) else None,
        tag=tag.value if isinstance(tag, A.String) else "", rule=rule, seq=seq,
    )
    return intent, exact


def intent_for(action: A.Action, symbol: str, stand: Stand, rule: str, seq: int) -> tuple[Intent, bool]:
    """The intent the engine hands the action layer when the rule fires, under the sample, and
    whether every value in it is exact (no stand-in)."""
    if isinstance(action, A.Order):
        return _order(action, symbol, stand, rule, seq)
    if isinstance(action, A.Close):
        price = evaluate(action.price, stand) if action.order_type == "limit" and action.price is not None else None
        intent = CloseIntent(
            symbol=symbol, side=PositionSide(action.side) if action.side else None,
            fraction=action.percent.fraction if action.percent is not None else 1.0,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            price=price.value if price is not None else None, rule=rule, seq=seq,
        )
        return intent, price is None or price.exact
    if isinstance(action, A.Cancel):
        which = {"orders": CancelWhich.ALL, "buys": CancelWhich.BUYS, "sells": CancelWhich.SELLS}[action.which]
        return CancelIntent(symbol, which, rule, seq), True
    if isinstance(action, A.SetSetting):
        return _setting(action, symbol, stand, rule, seq)
    if isinstance(action, A.Notify):
        return NotifyIntent(symbol, action.message.value, rule, seq), True
    if isinstance(action, A.Pause):
        return PauseIntent(symbol, rule, seq), True
    return HaltIntent(symbol, "halt", rule, seq), True


def _setting(s: A.SetSetting, symbol: str, stand: Stand, rule: str, seq: int) -> tuple[Intent, bool]:
    word = s.value.name if isinstance(s.value, A.Name) else ""
    if s.setting == "leverage":
        return SetLeverageIntent(symbol, evaluate(s.value, stand).value, rule, seq), True
    if s.setting == "mode":
        return SetPositionModeIntent(symbol, PositionMode(word), rule, seq), True
    if s.setting == "margin":
        return SetMarginModeIntent(symbol, MarginMode(word), rule, seq), True
    if s.setting == "tpsl":
        return SetTpslModeIntent(symbol, TpslMode(word), rule, seq), True
    if s.setting == "trail":
        trail, exact = _trail(s.value, stand)
        return SetTradingStopIntent(symbol, trail=trail, rule=rule, seq=seq), exact
    target, exact = _target(s.value, stand)
    if s.setting == "tp":
        return SetTradingStopIntent(symbol, tp=target, rule=rule, seq=seq), exact
    return SetTradingStopIntent(symbol, sl=target, rule=rule, seq=seq), exact


def _direction_of(e: A.Expr) -> str | None:
    if isinstance(e, A.Is) and isinstance(e.subject, A.Name) and e.subject.name == "position" and not e.negated:
        return e.word.name if e.word.name in ("long", "short") else None
    if not isinstance(e, A.Compare):
        return None
    left, op, right = e.left, e.op, e.right
    if isinstance(left, A.Number):
        left, right = right, left
        op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
    if not (isinstance(left, A.Name) and isinstance(right, A.Number)):
        return None
    bound = float(right.text)
    if left.name in _LONG_FIELDS and (op == ">" and bound >= 0 or op == ">=" and bound > 0):
        return "long"
    if left.name == "short_size" and (op == ">" and bound >= 0 or op == ">=" and bound > 0):
        return "short"
    if left.name == "position" and (op == "<" and bound <= 0 or op == "<=" and bound < 0):
        return "short"
    return None


def position_direction(condition: A.Expr | None) -> str | None:
    """``long`` or ``short`` when the condition requires that position (``position > 0``,
    ``position is short``, as one of its ``and`` parts), else None."""
    if condition is None:
        return None
    parts = condition.operands if isinstance(condition, A.And) else (condition,)
    found = {d for d in (_direction_of(p) for p in parts) if d is not None}
    return found.pop() if len(found) == 1 else None
