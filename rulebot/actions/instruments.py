"""Rounding to the instrument's tick and step, with ``Decimal``, in a stated direction.

SIMULATION.md "Prices on the tick": quantities round down to ``qtyStep``; take profit and
stop loss round toward the entry price; limit prices round away from the market (buys down,
sells up); trailing distances round down but never below one tick. Floats enter as
``Decimal(str(x))``. A result that cannot be sent (rounds to nothing, onto the entry price,
below a minimum) raises ``ActionRejected`` with a message naming the numbers.
"""

from __future__ import annotations

import math
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

from rulebot.actions.rejection import ActionRejected, RejectCode
from rulebot.model import Category, InstrumentRules, Side

# Anything larger is a mistake, not an order; it also keeps every quantize within precision.
MAX_MAGNITUDE = Decimal("1e15")
# The arithmetic below calls these contexts' methods directly: the same results as inside
# ``localcontext(_CTX)``, without entering a context manager on every order.
_CTX = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow])
_DOWN = Context(prec=60, rounding=ROUND_DOWN, traps=[InvalidOperation, DivisionByZero, Overflow])
_ZERO = Decimal(0)
_ONE = Decimal(1)


def to_decimal(x: float | int | str | Decimal, what: str) -> Decimal:
    """``x`` as an exact ``Decimal`` through its string; NaN, infinities and huge values are rejected."""
    if isinstance(x, float) and not math.isfinite(x):
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"{what} is not a number ({x})")
    try:
        d = x if isinstance(x, Decimal) else Decimal(str(x))
    except InvalidOperation:
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"{what} is not a number ({x!r})") from None
    if not d.is_finite():
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"{what} is not a number ({x})")
    if abs(d) > MAX_MAGNITUDE:
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"{what} {show(d)} is out of range")
    return d


def positive_decimal(x: float | int | str | Decimal, what: str) -> Decimal:
    """``to_decimal`` that also requires a value above zero."""
    d = to_decimal(x, what)
    if d <= 0:
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"{what} must be above 0, got {show(d)}")
    return d


def show(d: Decimal, places: int | None = None) -> str:
    """A number for a message: plain notation, at most 10 significant digits, or ``places`` decimals cut down."""
    if places is not None:
        return format(d.quantize(_ONE.scaleb(-places, _CTX), rounding=ROUND_DOWN, context=_CTX), "f")
    if d == 0:
        return "0"
    rounded = d.quantize(_ONE.scaleb(d.adjusted() - 9, _CTX), context=_CTX) if d.adjusted() > -50 else d
    return format(rounded.normalize(_CTX), "f")


def to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """``value`` on a multiple of ``step`` (``ROUND_FLOOR`` or ``ROUND_CEILING``), carrying the step's decimals."""
    if step <= 0:
        raise ValueError(f"step must be above 0, got {step}")
    try:
        n = _CTX.divide(value, step).to_integral_value(rounding=rounding, context=_CTX)
        return _CTX.multiply(n, step).quantize(step, context=_CTX)
    except InvalidOperation:
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"{show(value)} cannot be rounded to {step}") from None


def divide_down(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded toward zero at 60 digits, so a size never grows by division."""
    return _DOWN.divide(numerator, denominator)


def is_on_step(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is an exact multiple of ``step``."""
    return _CTX.remainder(value, step) == _ZERO


def round_qty(rules: InstrumentRules, qty: Decimal) -> Decimal:
    """Round a quantity down to ``qtyStep`` (an order never grows by rounding)."""
    return to_step(qty, rules.qty_step, ROUND_FLOOR)


def round_limit_price(rules: InstrumentRules, price: Decimal, side: Side) -> Decimal:
    """Round a limit price away from the market: buys down, sells up. Rounding to 0 is rejected."""
    rounded = to_step(price, rules.tick_size, ROUND_FLOOR if side is Side.BUY else ROUND_CEILING)
    if rounded <= 0:
        raise ActionRejected(
            RejectCode.OUT_OF_RANGE,
            f"limit price {show(price)} rounds to {show(rounded)} on tick {show(rules.tick_size)}",
        )
    return rounded


def round_target(
    rules: InstrumentRules, target: Decimal, entry: Decimal, what: str, *, basis: str = "entry price"
) -> Decimal:
    """Round a take profit or stop loss toward ``entry``; landing on or past the entry is rejected.

    ``what`` names the target and ``basis`` the entry in messages ("take profit", "order price").
    """
    if target == entry:
        raise ActionRejected(RejectCode.BAD_TARGET, f"{what} {show(target)} is at the {basis}")
    above = target > entry
    rounded = to_step(target, rules.tick_size, ROUND_FLOOR if above else ROUND_CEILING)
    if (rounded > entry) != above or rounded == entry:
        raise ActionRejected(
            RejectCode.BAD_TARGET,
            f"{what} {show(target)} rounds to {show(rounded)} on tick {show(rules.tick_size)}, "
            f"which is not {'above' if above else 'below'} the {basis} {show(entry)}",
        )
    if rounded <= 0:
        raise ActionRejected(RejectCode.BAD_TARGET, f"{what} {show(target)} rounds to {show(rounded)}, not a price")
    return rounded


def round_trail(rules: InstrumentRules, distance: Decimal) -> Decimal:
    """Round a trailing distance down to the tick, but never below one tick."""
    if distance <= 0:
        raise ActionRejected(RejectCode.OUT_OF_RANGE, f"trailing distance must be above 0, got {show(distance)}")
    return max(to_step(distance, rules.tick_size, ROUND_FLOOR), rules.tick_size)


def qty_unit(rules: InstrumentRules) -> str:
    """The coin an order quantity is counted in: the base coin, or USD contracts for inverse."""
    return rules.quote_coin if rules.category is Category.INVERSE else rules.base_coin


def order_value(rules: InstrumentRules, qty: Decimal, price: Decimal) -> Decimal:
    """The value of ``qty`` at ``price`` in the quote coin (an inverse contract is worth one USD)."""
    return qty if rules.category is Category.INVERSE else _CTX.multiply(qty, price)


def check_size(
    rules: InstrumentRules, requested: Decimal, qty: Decimal, price: Decimal | None, *,
    reduce_only: bool, basis: str = "",
) -> None:
    """Reject a rounded ``qty`` below ``minOrderQty``, above ``maxOrderQty`` or below the minimum value.

    ``requested`` is the size before rounding and ``basis`` how it was reached, both shown in
    the message. Reduce-only orders are exempt from the minimum value, as on Bybit; the
    others need the ``price`` they are valued at.
    """
    unit = qty_unit(rules)
    if qty <= 0 or qty < rules.min_order_qty:
        how = f" ({basis})" if basis else ""
        raise ActionRejected(
            RejectCode.BELOW_MIN_QTY,
            f"order size {show(requested)} {unit}{how} is below the minimum {show(rules.min_order_qty)} {unit}",
        )
    if qty > rules.max_order_qty:
        raise ActionRejected(
            RejectCode.ABOVE_MAX_QTY,
            f"order size {show(qty)} {unit} is above the maximum {show(rules.max_order_qty)} {unit}",
        )
    if reduce_only:
        return
    if price is None:
        raise ActionRejected(RejectCode.NO_PRICE, f"no price to value the {rules.symbol} order at")
    value = order_value(rules, qty, price)
    if value < rules.min_notional:
        quote = rules.quote_coin
        raise ActionRejected(
            RejectCode.BELOW_MIN_NOTIONAL,
            f"order value {show(value, 2)} {quote} is below the minimum {show(rules.min_notional)} {quote}",
        )
