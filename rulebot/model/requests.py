"""Requests to an exchange, after validation and rounding by the action layer.

These are what the ``Exchange`` protocol accepts. Prices and quantities are ``Decimal`` already
on the instrument's tick and step; adapters turn them into the venue's strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rulebot.model.enums import MarginMode, OrderType, PositionMode, Side, TimeInForce, TpslMode


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    order_link_id: str
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop: Decimal | None = None
    position_idx: int = 0
    expire_after_ms: int | None = None
    tag: str = ""
    # Offsets in percent of the fill price (2 means 2%), for a market order's `tp 2%` (LANGUAGE.md
    # §6): only the exchange knows the fill price, so it resolves them when the order fills and
    # rounds them to the tick (SIMULATION.md). The absolute fields above win when both are set.
    tp_pct: Decimal | None = None
    sl_pct: Decimal | None = None
    trail_pct: Decimal | None = None
    tpsl_mode: TpslMode = TpslMode.FULL  # what take_profit / stop_loss cover (Bybit's tpslMode)


@dataclass(frozen=True, slots=True)
class AmendOrder:
    symbol: str
    order_link_id: str
    qty: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    symbol: str
    order_link_id: str


@dataclass(frozen=True, slots=True)
class CancelAll:
    """Cancel this symbol's open orders; ``side`` limits it to buys or sells."""

    symbol: str
    side: Side | None = None


@dataclass(frozen=True, slots=True)
class SetLeverage:
    symbol: str
    buy_leverage: Decimal
    sell_leverage: Decimal


@dataclass(frozen=True, slots=True)
class SwitchPositionMode:
    symbol: str
    mode: PositionMode


@dataclass(frozen=True, slots=True)
class SetMarginMode:
    symbol: str
    mode: MarginMode


@dataclass(frozen=True, slots=True)
class SetTpslMode:
    symbol: str
    mode: TpslMode


@dataclass(frozen=True, slots=True)
class SetTradingStop:
    """TP / SL / trailing stop on the open position; ``None`` leaves a value as it is, 0 removes it.

    ``trailing_stop`` is a price distance, as Bybit takes it.
    """

    symbol: str
    position_idx: int = 0
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop: Decimal | None = None
    tpsl_mode: TpslMode = TpslMode.FULL
    size: Decimal | None = None  # partial mode: the quantity the TP/SL covers (Bybit's tpSize/slSize)


Request = (
    PlaceOrder | AmendOrder | CancelOrder | CancelAll | SetLeverage | SwitchPositionMode
    | SetMarginMode | SetTpslMode | SetTradingStop
)
