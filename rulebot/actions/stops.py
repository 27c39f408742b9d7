"""Take profit, stop loss and trailing distances: from what the rule wrote to prices on the tick.

A percent target is measured from an entry (the limit price, the fill price or the
position's entry price) in the direction of the trade: for a long, `tp 2%` is 2% above and
`sl 1%` 1% below; for a short the reverse. A trailing stop is sent to Bybit as a price
distance; a percent is of the entry price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from rulebot.actions.instruments import positive_decimal, round_target, round_trail, show, to_step
from rulebot.actions.intents import PriceTarget, Trail, TrailUnit
from rulebot.actions.rejection import ActionRejected, RejectCode
from rulebot.model import InstrumentRules, Side, TpslMode

TAKE_PROFIT = "take profit"
STOP_LOSS = "stop loss"


def target_price(
    rules: InstrumentRules, target: PriceTarget, entry: Decimal, *, long: bool, what: str,
    basis: str = "entry price",
) -> Decimal:
    """The rounded take profit (``what`` = ``TAKE_PROFIT``) or stop loss of a long or short from ``entry``."""
    above = (what == TAKE_PROFIT) == long
    side_word = "long" if long else "short"
    if target.is_percent:
        fraction = positive_decimal(target.value, f"{what} percent")
        raw = entry * (1 + fraction) if above else entry * (1 - fraction)
        if raw <= 0:
            raise ActionRejected(
                RejectCode.BAD_TARGET,
                f"{what} {show(fraction * 100)}% below the {basis} {show(entry)} is not a price",
            )
    else:
        raw = positive_decimal(target.value, what)
        if (raw > entry) != above or raw == entry:
            raise ActionRejected(
                RejectCode.BAD_TARGET,
                f"{what} {show(raw)} is not {'above' if above else 'below'} the {basis} {show(entry)} "
                f"for a {side_word}",
            )
    return round_target(rules, raw, entry, what, basis=basis)


def needs_entry(trail: Trail | None) -> bool:
    """Whether the trailing distance depends on the entry price."""
    return trail is not None and trail.unit is TrailUnit.PERCENT


def trail_distance(rules: InstrumentRules, trail: Trail, entry: Decimal | None) -> Decimal:
    """The trailing stop as a price distance on the tick (at least one tick)."""
    if trail.unit is TrailUnit.PERCENT:
        fraction = positive_decimal(trail.value, "trail percent")
        if entry is None:
            raise ActionRejected(RejectCode.NO_PRICE, "a percent trailing stop needs the entry price, which is unknown")
        return round_trail(rules, entry * fraction)
    if trail.unit is TrailUnit.TICKS:
        ticks = to_step(positive_decimal(trail.value, "trail ticks"), Decimal(1), ROUND_FLOOR)
        return round_trail(rules, max(ticks, Decimal(1)) * rules.tick_size)
    return round_trail(rules, positive_decimal(trail.value, "trailing distance"))


@dataclass(frozen=True, slots=True)
class AfterFill:
    """Stops an order leaves to be set once it has filled and the position exists.

    Bybit's create-order takes no trailing stop, and a percent target of a market order is
    measured from its fill price, unknown until the fill; resolve with
    ``rulebot.actions.resolve_after_fill`` when the order fills and send the trading stop it
    returns. ``side`` is the order's side (a buy opens or adds to a long).
    """

    symbol: str
    side: Side
    position_idx: int
    order_link_id: str
    take_profit: PriceTarget | None = None
    stop_loss: PriceTarget | None = None
    trail: Trail | None = None
    tpsl_mode: TpslMode = TpslMode.FULL
