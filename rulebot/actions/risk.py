"""Risk guards: the `risk:` block of a rule file, enforced on every order before it is sent.

Each guard returns ``None`` (pass) or a ``Rejection`` naming the numbers. Limits are
inclusive: a value equal to its limit passes. Reduce-only orders (closes) only meet the
guards that cannot trap a position open: the order rate, the open-order count and the
price band. A ``max_daily_loss`` breach returns a rejection with ``halt=True``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from rulebot.actions.account import AccountView
from rulebot.actions.instruments import order_value, qty_unit, show, to_decimal
from rulebot.actions.rejection import ActionRejected, RejectCode, Rejection
from rulebot.model import InstrumentRules, OrderType, PlaceOrder, Side, TimeInForce

_CONFIG = ConfigDict(strict=True, frozen=True, extra="forbid")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_MONEY_RE = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]+)?\s*$")
_PERCENT_RE = re.compile(rf"^\s*({_NUMBER})\s*%\s*$")
_MINUTE_MS = 60_000


class RiskConfigError(ValueError):
    """A `risk:` value that cannot be read; the message names the key."""


class Money(BaseModel):
    """An amount of a coin; an empty ``coin`` means the symbol's own (quote or settle) coin."""

    model_config = _CONFIG
    amount: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
    coin: str = ""

    def text(self, default_coin: str) -> str:
        return f"{show(self.amount)} {self.coin or default_coin}"


class Percent(BaseModel):
    """A percent as its fraction (``3%`` is 0.03)."""

    model_config = _CONFIG
    fraction: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]

    def text(self) -> str:
        return f"{show(self.fraction * 100)}%"


class RiskLimits(BaseModel):
    """The guards of one rule file; ``None`` switches a guard off."""

    model_config = _CONFIG
    max_position: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    max_order_value: Money | None = None
    max_open_orders: Annotated[int, Field(ge=0)] | None = None
    max_orders_per_minute: Annotated[int, Field(ge=0)] | None = None
    max_daily_loss: Percent | Money | None = None
    price_band: Percent | None = None

    @classmethod
    def from_config(cls, raw: Mapping[str, object]) -> RiskLimits:
        """Read the `risk:` mapping of a rule file (strings like ``"5000 usdt"``, ``"3%"``, numbers)."""
        parsers: dict[str, Callable[[object], object]] = {
            "max_position": lambda v: parse_number(v, "max_position"),
            "max_order_value": lambda v: parse_money(v, "max_order_value"),
            "max_open_orders": lambda v: parse_count(v, "max_open_orders"),
            "max_orders_per_minute": lambda v: parse_count(v, "max_orders_per_minute"),
            "max_daily_loss": lambda v: parse_money_or_percent(v, "max_daily_loss"),
            "price_band": lambda v: parse_percent(v, "price_band"),
        }
        values: dict[str, object] = {}
        for key, value in raw.items():
            if key not in parsers:
                raise RiskConfigError(f"risk.{key}: unknown risk limit; known: {', '.join(parsers)}")
            values[key] = parsers[key](value)
        return cls.model_validate(values)


def _text(value: object, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RiskConfigError(f"risk.{key}: expected a number or text, got {value!r}")
    return str(value)


def _positive(text: str, key: str) -> Decimal:
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise RiskConfigError(f"risk.{key}: {text!r} is not a number") from None
    if not d.is_finite() or d <= 0:
        raise RiskConfigError(f"risk.{key}: must be above 0, got {text!r}")
    return d


def parse_number(value: object, key: str) -> Decimal:
    """A positive number (``0.05``)."""
    return _positive(_text(value, key).strip(), key)


def parse_count(value: object, key: str) -> int:
    """A whole number of orders, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RiskConfigError(f"risk.{key}: expected a whole number, 0 or more, got {value!r}")
    return value


def parse_percent(value: object, key: str) -> Percent:
    """A percent written with its sign (``"2%"``); a bare number is refused as ambiguous."""
    text = _text(value, key)
    match = _PERCENT_RE.match(text)
    if match is None:
        raise RiskConfigError(f"risk.{key}: expected a percent like '2%', got {text!r}")
    return Percent(fraction=_positive(match.group(1), key) / 100)


def parse_money(value: object, key: str) -> Money:
    """An amount with an optional coin (``"5000 usdt"``; a bare number is in the symbol's coin)."""
    text = _text(value, key)
    match = _MONEY_RE.match(text)
    if match is None:
        raise RiskConfigError(f"risk.{key}: expected an amount like '5000 usdt', got {text!r}")
    return Money(amount=_positive(match.group(1), key), coin=(match.group(2) or "").upper())


def parse_money_or_percent(value: object, key: str) -> Percent | Money:
    """``"3%"`` or ``"300 usdt"``."""
    if isinstance(value, str) and "%" in value:
        return parse_percent(value, key)
    return parse_money(value, key)


def _rests(order: PlaceOrder) -> bool:
    return order.order_type is OrderType.LIMIT and order.time_in_force in (TimeInForce.GTC, TimeInForce.POST_ONLY)


def _price_of(order: PlaceOrder, account: AccountView) -> Decimal | None:
    if order.price is not None:
        return order.price
    if account.mark_price is None:
        return None
    return to_decimal(account.mark_price, "mark price")


def check_daily_loss(rules: InstrumentRules, account: AccountView, limit: Percent | Money) -> Rejection | None:
    """Halt when today's loss is above the limit.

    Today's loss is the larger of the equity drop since 00:00 UTC and the realised loss
    today, so neither a deposit nor an open position hides it.
    """
    midnight = to_decimal(account.equity_at_midnight, "equity at midnight")
    drop = midnight - to_decimal(account.equity, "equity")
    loss = max(drop, -to_decimal(account.realised_pnl_today, "realised pnl today"))
    coin = rules.settle_coin
    if isinstance(limit, Percent):
        allowed = limit.fraction * midnight
        limit_text = f"{show(allowed)} {coin} ({limit.text()} of {show(midnight)} {coin} equity at 00:00 UTC)"
    else:
        if limit.coin and limit.coin != coin:
            reason = f"max_daily_loss is in {limit.coin}, but {rules.symbol} settles in {coin}"
            return Rejection(RejectCode.RISK_CONFIG, reason)
        allowed = limit.amount
        limit_text = limit.text(coin)
    if loss > allowed:
        return Rejection(
            RejectCode.MAX_DAILY_LOSS,
            f"loss today {show(loss)} {coin} is above max_daily_loss {limit_text}; halting",
            halt=True,
        )
    return None


def check_orders_per_minute(account: AccountView, limit: int, pending: int = 0) -> Rejection | None:
    """At most ``limit`` orders sent in any minute; ``pending`` counts orders of the same action before this one."""
    sent = sum(1 for ts in account.recent_order_ms if account.now_ms - _MINUTE_MS < ts <= account.now_ms)
    count = sent + pending + 1
    if count > limit:
        return Rejection(
            RejectCode.MAX_ORDERS_PER_MINUTE,
            f"this would be order {count} in the last minute, above max_orders_per_minute {limit}",
        )
    return None


def check_open_orders(order: PlaceOrder, account: AccountView, limit: int, pending: int = 0) -> Rejection | None:
    """At most ``limit`` resting orders on the symbol; market, IOC and FOK orders do not rest."""
    if not _rests(order):
        return None
    count = len(account.open_orders) + pending + 1
    if count > limit:
        return Rejection(RejectCode.MAX_OPEN_ORDERS, f"open orders would be {count}, above max_open_orders {limit}")
    return None


def check_price_band(order: PlaceOrder, account: AccountView, band: Percent) -> Rejection | None:
    """A limit price must lie within ``band`` of the mark price."""
    if order.price is None:
        return None
    if account.mark_price is None or account.mark_price <= 0:
        return Rejection(RejectCode.NO_PRICE, f"no mark price to check price_band {band.text()} against")
    mark = to_decimal(account.mark_price, "mark price")
    distance = abs(order.price - mark) / mark
    if distance > band.fraction:
        return Rejection(
            RejectCode.PRICE_BAND,
            f"limit price {show(order.price)} is {show(distance * 100)}% from the mark price {show(mark)}, "
            f"outside price_band {band.text()}",
        )
    return None


def check_order_value(
    rules: InstrumentRules, order: PlaceOrder, account: AccountView, limit: Money
) -> Rejection | None:
    """The value of one opening order (at its limit price, or the mark price) at most ``limit``."""
    if order.reduce_only:
        return None
    quote = rules.quote_coin
    if limit.coin and limit.coin != quote:
        reason = f"max_order_value is in {limit.coin}, but {rules.symbol} orders are valued in {quote}"
        return Rejection(RejectCode.RISK_CONFIG, reason)
    price = _price_of(order, account)
    if price is None:
        reason = f"no mark price to value the order for max_order_value {limit.text(quote)}"
        return Rejection(RejectCode.NO_PRICE, reason)
    value = order_value(rules, order.qty, price)
    if value > limit.amount:
        return Rejection(
            RejectCode.MAX_ORDER_VALUE,
            f"order value {show(value)} {quote} is above max_order_value {limit.text(quote)}",
        )
    return None


def check_max_position(
    rules: InstrumentRules, order: PlaceOrder, account: AccountView, limit: Decimal,
    pending: Sequence[PlaceOrder] = (),
) -> Rejection | None:
    """The absolute size after this order, with the open opening orders of its side also filled, at most ``limit``."""
    if order.reduce_only:
        return None
    unit = qty_unit(rules)
    hedge_side = {1: Side.BUY, 2: Side.SELL}.get(order.position_idx)
    same_side = [
        o for o in account.open_orders
        if o.side is order.side and not o.reduce_only and (hedge_side is None or o.position_idx == order.position_idx)
    ]
    open_qty = sum((to_decimal(o.qty, "open order qty") for o in same_side), Decimal(0))
    open_qty += sum((p.qty for p in pending if p.side is order.side and not p.reduce_only), Decimal(0))
    if hedge_side is Side.BUY:
        now = to_decimal(account.long_size, "long size")
    elif hedge_side is Side.SELL:
        now = -to_decimal(account.short_size, "short size")
    else:
        now = to_decimal(account.long_size, "long size") - to_decimal(account.short_size, "short size")
    after = now + order.side.sign * (open_qty + order.qty)
    if abs(after) > limit:
        opens = f", open {order.side.value}s {show(open_qty)}" if open_qty else ""
        return Rejection(
            RejectCode.MAX_POSITION,
            f"position would be {show(abs(after))} {unit} (now {show(abs(now))}{opens}, this order {show(order.qty)}), "
            f"above max_position {show(limit)}",
        )
    return None


def _guards(
    rules: InstrumentRules, order: PlaceOrder, account: AccountView, limits: RiskLimits,
    pending: Sequence[PlaceOrder],
) -> Iterator[Rejection | None]:
    if limits.max_daily_loss is not None and not order.reduce_only:
        yield check_daily_loss(rules, account, limits.max_daily_loss)
    if limits.max_orders_per_minute is not None:
        yield check_orders_per_minute(account, limits.max_orders_per_minute, len(pending))
    if limits.max_open_orders is not None:
        yield check_open_orders(order, account, limits.max_open_orders, sum(map(_rests, pending)))
    if limits.price_band is not None:
        yield check_price_band(order, account, limits.price_band)
    if limits.max_order_value is not None:
        yield check_order_value(rules, order, account, limits.max_order_value)
    if limits.max_position is not None:
        yield check_max_position(rules, order, account, limits.max_position, pending)


def check_order(
    rules: InstrumentRules, order: PlaceOrder, account: AccountView, limits: RiskLimits,
    pending: Sequence[PlaceOrder] = (),
) -> Rejection | None:
    """Every guard on one order, the daily loss first (it halts); the first refusal wins.

    ``pending`` holds the orders of the same action that come before this one.
    """
    try:
        return next((r for r in _guards(rules, order, account, limits, pending) if r is not None), None)
    except ActionRejected as refused:
        return refused.rejection
