"""Typed refusals: what the action layer says instead of raising when an action cannot go out."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class RejectCode(str, Enum):
    """Why an action was refused; stable names for the journal and the backtest summary."""

    INVALID = "invalid"  # the action contradicts itself or the instrument (e.g. post only on a market order)
    NOT_SUPPORTED = "not_supported"  # the venue has no such thing for this category (leverage on spot)
    OUT_OF_RANGE = "out_of_range"  # a number is not finite, not positive, or absurdly large
    NO_PRICE = "no_price"  # a price needed to size or check the order is unknown
    BELOW_MIN_QTY = "below_min_qty"
    ABOVE_MAX_QTY = "above_max_qty"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    BAD_TARGET = "bad_target"  # a take profit / stop loss on the wrong side of its entry price
    MODE_CHANGE_BLOCKED = "mode_change_blocked"
    RISK_CONFIG = "risk_config"  # a risk limit that cannot apply to this symbol (wrong coin)
    MAX_POSITION = "max_position"
    MAX_ORDER_VALUE = "max_order_value"
    MAX_OPEN_ORDERS = "max_open_orders"
    MAX_ORDERS_PER_MINUTE = "max_orders_per_minute"
    MAX_DAILY_LOSS = "max_daily_loss"
    PRICE_BAND = "price_band"


@dataclass(frozen=True, slots=True)
class Rejection:
    """An action that will not be sent, with a reason a trader can read.

    ``halt`` is set when the refusal must stop every rule of the file (``max_daily_loss``).
    """

    code: RejectCode
    reason: str
    halt: bool = False


class ActionRejected(Exception):
    """Raised inside the action layer to abandon an action; ``prepare`` turns it into its ``Rejection``."""

    def __init__(self, code: RejectCode, reason: str, *, halt: bool = False) -> None:
        super().__init__(reason)
        self.rejection = Rejection(code, reason, halt)
