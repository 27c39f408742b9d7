"""Simulated orders and the checks Bybit makes before it accepts one.

Requests arrive with ``Decimal`` prices and sizes already rounded by the action layer; the
checks here are the venue's own (tick, step, minimums, modes), so a mistake upstream gets the
retCode Bybit would send. Accepted orders are kept as plain floats and step counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from rulebot.exchange.errors import OrderRejected, RetCode
from rulebot.model.enums import OrderStatus, OrderType, PositionMode, Side, TimeInForce
from rulebot.model.requests import PlaceOrder

NEVER_MS = 2**62
"""An expiry time that never comes."""

LINK_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")

# Why an order was cancelled, as OrderUpdate.reject_reason carries it. Bybit's words where
# Bybit has one; "Expired" is rulebot's own (Bybit has no expiry: the live engine cancels).
CANCEL_BY_USER = "EC_PerCancelRequest"
CANCEL_POST_ONLY = "EC_PostOnlyWillTakeLiquidity"
CANCEL_IOC = "EC_NoImmediateQtyToFill"
CANCEL_FOK = "EC_CancelForNoFullFill"
CANCEL_REDUCE_ONLY = "CancelByReduceOnly"
CANCEL_EXPIRED = "Expired"


@dataclass(slots=True)
class PaperOrder:
    """An accepted order. ``price`` is 0.0 for a market order; stops and percents 0.0 when unset.

    ``immediate`` orders (market, IOC, FOK) get one chance: the next bar's open in a replay,
    the book at once live. ``taker_at_open`` marks a limit that crossed the last price when it
    was placed: if the next open is still through it, it takes liquidity (taker fee).
    """

    order_id: str
    link_id: str
    symbol: str
    side: Side
    sign: int
    order_type: OrderType
    tif: TimeInForce
    steps: int
    qty_text: str
    price: float
    price_text: str
    reduce_only: bool
    position_idx: int
    created_ms: int
    expire_at_ms: int
    immediate: bool
    taker_at_open: bool
    tp: float = 0.0
    sl: float = 0.0
    trail: float = 0.0
    tp_pct: float = 0.0
    sl_pct: float = 0.0
    trail_pct: float = 0.0
    tpsl_partial: bool = False
    margin: float = 0.0
    filled: int = 0
    status: OrderStatus = OrderStatus.OPEN

    @property
    def remaining(self) -> int:
        """Steps not yet filled."""
        return self.steps - self.filled


def reject(code: RetCode, message: str) -> OrderRejected:
    """An ``OrderRejected`` with one of Bybit's codes."""
    return OrderRejected(int(code), message)


def steps_of(qty: Decimal, step: Decimal, what: str = "qty") -> int:
    """``qty`` as a whole number of ``step``; 110017 when it truncates to zero, 10001 off the grid."""
    if qty <= 0:
        raise reject(RetCode.QTY_TRUNCATED_TO_ZERO, f"{what} {qty} must be positive")
    count = qty / step
    whole = int(count)
    if whole == 0:
        raise reject(RetCode.QTY_TRUNCATED_TO_ZERO, f"{what} {qty} is below the qty step {step}")
    if count != whole:
        raise reject(RetCode.PARAMS, f"{what} {qty} is not a multiple of the qty step {step}")
    return whole


def check_price(price: Decimal, tick: Decimal, what: str) -> None:
    """10001 unless ``price`` is positive and on the tick."""
    if price <= 0:
        raise reject(RetCode.PARAMS, f"{what} {price} must be positive")
    if (price / tick) % 1 != 0:
        raise reject(RetCode.PARAMS, f"{what} {price} is not on the tick size {tick}")


def check_position_idx(idx: int, mode: PositionMode) -> None:
    """10001 when the position index does not match the position mode (0 one-way, 1/2 hedge)."""
    ok = idx == 0 if mode is PositionMode.ONEWAY else idx in (1, 2)
    if not ok:
        raise reject(RetCode.PARAMS, f"position idx {idx} not match position mode {mode.value}")


def check_pct(value: Decimal | None, what: str, below_100: bool) -> float:
    """A percent offset as a float, 0.0 when unset; 10001 when it is not in (0, 100)."""
    if value is None:
        return 0.0
    if value <= 0 or (below_100 and value >= 100):
        raise reject(
            RetCode.PARAMS, f"{what} {value}% must be above 0%" + (" and below 100%" if below_100 else "")
        )
    return float(value)


def check_stops_side(req: PlaceOrder, ref: float) -> None:
    """Bybit's base-price check: a buy's take profit above and stop loss below the order price."""
    sign = req.side.sign
    if req.take_profit is not None and (float(req.take_profit) - ref) * sign <= 0:
        word = "higher" if sign > 0 else "lower"
        raise reject(
            RetCode.PARAMS,
            f"take profit {req.take_profit} for a {req.side.value} should be {word} than {ref!r}",
        )
    if req.stop_loss is not None and (ref - float(req.stop_loss)) * sign <= 0:
        word = "lower" if sign > 0 else "higher"
        raise reject(
            RetCode.PARAMS, f"stop loss {req.stop_loss} for a {req.side.value} should be {word} than {ref!r}"
        )


def check_immediate_tif(req: PlaceOrder) -> bool:
    """Whether the order only gets one chance to fill; 10001 for a post-only market order."""
    if req.order_type is OrderType.MARKET:
        if req.time_in_force is TimeInForce.POST_ONLY:
            raise reject(RetCode.PARAMS, "a market order cannot be post-only")
        return True
    return req.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
