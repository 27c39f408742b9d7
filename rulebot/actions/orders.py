"""`buy` / `sell` and `close`: sizing, rounding and the orders they become (before the risk guards)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rulebot.actions.account import AccountView
from rulebot.actions.instruments import (
    check_size,
    divide_down,
    positive_decimal,
    qty_unit,
    round_limit_price,
    round_qty,
    show,
    to_decimal,
)
from rulebot.actions.intents import CloseIntent, OrderIntent, PositionSide, QtySpec, QtyUnit, TrailUnit
from rulebot.actions.models import ClosePositionAction, PlaceOrderAction, build
from rulebot.actions.rejection import ActionRejected, RejectCode
from rulebot.actions.stops import STOP_LOSS, TAKE_PROFIT, AfterFill, target_price, trail_distance
from rulebot.model import Category, InstrumentRules, OrderType, PositionMode, Side, TimeInForce, TpslMode


def check_symbol(symbol: str, rules: InstrumentRules) -> str:
    """The rules' spelling of ``symbol``, or a rejection when the rules are for another instrument."""
    if symbol.upper() != rules.symbol:
        raise ActionRejected(
            RejectCode.INVALID, f"the action is for {symbol} but the instrument rules are for {rules.symbol}"
        )
    return rules.symbol


def mark_price(rules: InstrumentRules, account: AccountView) -> Decimal:
    """The mark price, which values market orders; rejected while unknown."""
    if account.mark_price is None:
        raise ActionRejected(RejectCode.NO_PRICE, f"no mark price for {rules.symbol} yet")
    return positive_decimal(account.mark_price, "mark price")


def money_to_qty(rules: InstrumentRules, amount: Decimal, coin: str, price: Decimal) -> Decimal:
    """An amount of the base or quote coin as an order quantity at ``price`` (unrounded, never rounded up)."""
    inverse = rules.category is Category.INVERSE
    if coin == rules.base_coin:
        return amount * price if inverse else amount
    if coin == rules.quote_coin:
        return amount if inverse else divide_down(amount, price)
    raise ActionRejected(
        RejectCode.INVALID, f"cannot size a {rules.symbol} order in {coin}; use {rules.base_coin} or {rules.quote_coin}"
    )


def resolve_qty(rules: InstrumentRules, spec: QtySpec, price: Decimal, account: AccountView) -> tuple[Decimal, str]:
    """The unrounded quantity of ``spec`` at ``price``, and how it was reached (for messages)."""
    if spec.unit is QtyUnit.BASE:
        return positive_decimal(spec.amount, "order size"), ""
    if spec.unit is QtyUnit.MONEY:
        amount = positive_decimal(spec.amount, "order value")
        coin = spec.coin.upper()
        return money_to_qty(rules, amount, coin, price), f"{show(amount)} {coin} at {show(price)}"
    fraction = positive_decimal(spec.amount, f"share of {spec.unit.value}")
    funds = to_decimal(getattr(account, spec.unit.value), spec.unit.value)
    coin = rules.settle_coin
    if funds <= 0:
        raise ActionRejected(
            RejectCode.OUT_OF_RANGE,
            f"{spec.unit.value} is {show(funds, 2)} {coin}; cannot size {show(fraction * 100)}% {spec.unit.value}",
        )
    amount = fraction * funds
    basis = f"{show(fraction * 100)}% of {spec.unit.value} {show(funds, 2)} {coin} at {show(price)}"
    return money_to_qty(rules, amount, coin, price), basis


def position_idx(rules: InstrumentRules, mode: PositionMode, side: Side, reduce_only: bool) -> int:
    """Bybit's positionIdx: 0 one-way; in hedge mode 1 for the long side, 2 for the short side."""
    if rules.category is Category.SPOT or mode is PositionMode.ONEWAY:
        return 0
    opens_long = side is Side.BUY
    return 1 if opens_long != reduce_only else 2


def _time_in_force(intent: OrderIntent) -> TimeInForce:
    post_only = intent.post_only or intent.tif is TimeInForce.POST_ONLY
    if intent.order_type is OrderType.MARKET:
        if post_only:
            raise ActionRejected(RejectCode.INVALID, "post only needs a limit order")
        if intent.tif is TimeInForce.FOK:
            raise ActionRejected(RejectCode.INVALID, "fok needs a limit order; a market order is already immediate")
        return TimeInForce.IOC
    if post_only:
        if intent.tif in (TimeInForce.IOC, TimeInForce.FOK):
            raise ActionRejected(RejectCode.INVALID, f"post only cannot be combined with {intent.tif.value}")
        return TimeInForce.POST_ONLY
    return intent.tif


def _sized(
    rules: InstrumentRules, requested: Decimal, price: Decimal | None, *, reduce_only: bool, basis: str
) -> Decimal:
    if requested > rules.max_order_qty:
        unit = qty_unit(rules)
        raise ActionRejected(
            RejectCode.ABOVE_MAX_QTY,
            f"order size {show(requested)} {unit} is above the maximum {show(rules.max_order_qty)} {unit}",
        )
    qty = round_qty(rules, requested)
    check_size(rules, requested, qty, price, reduce_only=reduce_only, basis=basis)
    return qty


def build_order(
    intent: OrderIntent, rules: InstrumentRules, account: AccountView, mode: PositionMode,
    link_id: str, tpsl_mode: TpslMode,
) -> tuple[PlaceOrderAction, AfterFill | None]:
    """The validated order for `buy` / `sell`, and the stops to set after its fill (if any)."""
    symbol = check_symbol(intent.symbol, rules)
    spot = rules.category is Category.SPOT
    tif = _time_in_force(intent)
    if intent.reduce_only and spot:
        raise ActionRejected(RejectCode.NOT_SUPPORTED, "spot orders cannot be reduce-only")
    if intent.reduce_only and (intent.tp or intent.sl or intent.trail):
        raise ActionRejected(RejectCode.INVALID, "a reduce-only order cannot carry a take profit, stop loss or trail")
    if intent.trail is not None and spot:
        raise ActionRejected(RejectCode.NOT_SUPPORTED, "trailing stops are not available on spot")
    limit = intent.order_type is OrderType.LIMIT
    price: Decimal | None = None
    if limit:
        if intent.price is None:
            raise ActionRejected(RejectCode.INVALID, "a limit order needs a price")
        price = round_limit_price(rules, positive_decimal(intent.price, "limit price"), intent.side)
        reference = price
    else:
        if intent.price is not None:
            raise ActionRejected(RejectCode.INVALID, "a market order takes no price")
        reference = mark_price(rules, account)
    requested, basis = resolve_qty(rules, intent.qty, reference, account)
    qty = _sized(rules, requested, reference, reduce_only=intent.reduce_only, basis=basis)

    # A market order's percent targets are measured from its fill price: the exchange resolves
    # them at the fill. Checking them against the mark price now refuses impossible ones early.
    basis_name = "order price" if limit else "mark price"
    long = intent.side is Side.BUY
    now: dict[str, Decimal] = {}
    later: dict[str, Decimal] = {}
    for what, target in ((TAKE_PROFIT, intent.tp), (STOP_LOSS, intent.sl)):
        if target is None:
            continue
        price_now = target_price(rules, target, reference, long=long, what=what, basis=basis_name)
        if target.is_percent and not limit:
            if spot:
                raise ActionRejected(RejectCode.NOT_SUPPORTED, f"on spot, a percent {what} needs a limit order")
            later[what] = positive_decimal(target.value, what) * 100
        else:
            now[what] = price_now
    trail = intent.trail
    trail_pct = trail_distance_now = None
    if trail is not None:
        trail_distance(rules, trail, reference)  # refuses a bad trail now rather than at the fill
        if trail.unit is TrailUnit.PERCENT:
            trail_pct = positive_decimal(trail.value, "trail percent") * 100
        else:
            trail_distance_now = trail_distance(rules, trail, None)
    expire_ms = None
    if intent.expire_s is not None:
        expire_ms = int(positive_decimal(intent.expire_s, "expire") * 1000) or 1
    idx = position_idx(rules, mode, intent.side, intent.reduce_only)
    action = build(
        PlaceOrderAction, rules,
        symbol=symbol, side=intent.side, order_type=intent.order_type, qty=qty, price=price,
        time_in_force=tif, reduce_only=intent.reduce_only, take_profit=now.get(TAKE_PROFIT),
        stop_loss=now.get(STOP_LOSS), trailing_stop=trail_distance_now, tp_pct=later.get(TAKE_PROFIT),
        sl_pct=later.get(STOP_LOSS), trail_pct=trail_pct, tpsl_mode=tpsl_mode, position_idx=idx,
        order_link_id=link_id, expire_after_ms=expire_ms, tag=intent.tag,
    )
    after = None
    if trail is not None or later:
        after = AfterFill(
            symbol=symbol, side=intent.side, position_idx=idx, order_link_id=link_id,
            take_profit=intent.tp if TAKE_PROFIT in later else None,
            stop_loss=intent.sl if STOP_LOSS in later else None,
            trail=trail, tpsl_mode=tpsl_mode,
        )
    return action, after


@dataclass(frozen=True, slots=True)
class PositionLeg:
    """One open side of the position: its size, entry price and positionIdx."""

    long: bool
    size: Decimal
    entry: Decimal | None
    position_idx: int


def open_legs(
    rules: InstrumentRules, account: AccountView, mode: PositionMode, side: PositionSide | None
) -> list[PositionLeg]:
    """The open sides of the position that ``side`` selects (both when ``None``), long first."""
    long_size = to_decimal(account.long_size, "long size")
    short_size = to_decimal(account.short_size, "short size")
    long_entry = None if account.long_entry is None else positive_decimal(account.long_entry, "entry price")
    short_entry = None if account.short_entry is None else positive_decimal(account.short_entry, "entry price")
    if rules.category is Category.SPOT:
        if side is PositionSide.SHORT:
            raise ActionRejected(RejectCode.NOT_SUPPORTED, "spot has no short position")
        legs = [PositionLeg(True, long_size, long_entry, 0)]
    elif mode is PositionMode.HEDGE:
        legs = [PositionLeg(True, long_size, long_entry, 1), PositionLeg(False, short_size, short_entry, 2)]
    else:
        net = long_size - short_size
        legs = [PositionLeg(net > 0, abs(net), long_entry if net > 0 else short_entry, 0)]
    wanted = {None: (True, False), PositionSide.LONG: (True,), PositionSide.SHORT: (False,)}[side]
    return [leg for leg in legs if leg.size > 0 and leg.long in wanted]


def build_close(
    intent: CloseIntent, rules: InstrumentRules, account: AccountView, mode: PositionMode, link_id: str
) -> tuple[ClosePositionAction, str]:
    """The reduce-only orders of `close`, and a note when there is nothing to close."""
    symbol = check_symbol(intent.symbol, rules)
    fraction = positive_decimal(intent.fraction, "close percent")
    if fraction > 1:
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"cannot close {show(fraction * 100)}% of a position")
    legs = open_legs(rules, account, mode, intent.side)
    if not legs:
        which = f"{intent.side.value} " if intent.side is not None else ""
        return build(ClosePositionAction, rules, symbol=symbol, orders=()), f"no {which}position to close"
    spot = rules.category is Category.SPOT
    limit = intent.order_type is OrderType.LIMIT
    if limit != (intent.price is not None):
        reason = "a limit order needs a price" if limit else "a market order takes no price"
        raise ActionRejected(RejectCode.INVALID, reason)
    wanted = None if intent.price is None else positive_decimal(intent.price, "limit price")
    orders = []
    for leg in legs:
        side = Side.SELL if leg.long else Side.BUY
        price = None if wanted is None else round_limit_price(rules, wanted, side)
        reference = price if price is not None else (mark_price(rules, account) if spot else None)
        basis = f"{show(fraction * 100)}% of the {'long' if leg.long else 'short'} position {show(leg.size)}"
        qty = _sized(rules, leg.size * fraction, reference, reduce_only=not spot, basis=basis)
        suffix = "" if len(legs) == 1 else ("-L" if leg.long else "-S")
        orders.append(build(
            PlaceOrderAction, rules,
            symbol=symbol, side=side, order_type=intent.order_type, qty=qty, price=price,
            time_in_force=TimeInForce.GTC if limit else TimeInForce.IOC, reduce_only=not spot,
            position_idx=leg.position_idx, order_link_id=link_id + suffix, tag=intent.tag,
        ))
    return build(ClosePositionAction, rules, symbol=symbol, orders=tuple(orders)), ""
