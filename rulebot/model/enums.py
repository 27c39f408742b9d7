"""Enums shared by every layer: the engine's words for sides, order types and modes."""

from __future__ import annotations

from enum import Enum


class Side(str, Enum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(str, Enum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(str, Enum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class OrderStatus(str, Enum):
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    UNTRIGGERED = "untriggered"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED)


class PositionMode(str, Enum):
    ONEWAY = "oneway"
    HEDGE = "hedge"


class MarginMode(str, Enum):
    ISOLATED = "isolated"
    CROSS = "cross"


class TpslMode(str, Enum):
    FULL = "full"
    PARTIAL = "partial"


class Category(str, Enum):
    LINEAR = "linear"
    INVERSE = "inverse"
    SPOT = "spot"


class TriggerMode(str, Enum):
    EDGE = "edge"
    LEVEL = "level"


class ExitReason(str, Enum):
    TP = "tp"
    SL = "sl"
    TRAIL = "trail"
    RULE = "rule"
    LIQUIDATION = "liquidation"
    END = "end"
