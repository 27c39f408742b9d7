"""Intents: what the engine hands the action layer when a rule fires.

Numbers are the floats the compiled rule produced (percents already as fractions: ``2%`` is
``0.02``); the action layer turns them into exact, rounded, checked requests. Every intent
carries the rule's name and its fire sequence, for the journal and the ``orderLinkId``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rulebot.model import MarginMode, OrderType, PositionMode, Side, TimeInForce, TpslMode


class QtyUnit(str, Enum):
    """How an order's quantity was written."""

    BASE = "base"  # `0.01`: base coin (contracts for inverse)
    MONEY = "money"  # `100 usdt`, `0.5 btc`: an amount of a named coin
    EQUITY = "equity"  # `10% equity`: a share of the account's equity
    BALANCE = "balance"
    AVAILABLE = "available"


@dataclass(frozen=True, slots=True)
class QtySpec:
    """An order quantity before conversion; for the account shares ``amount`` is a fraction (0.1 = 10%)."""

    unit: QtyUnit
    amount: float
    coin: str = ""

    @classmethod
    def base(cls, amount: float) -> QtySpec:
        """A size in the base coin (or in contracts for inverse)."""
        return cls(QtyUnit.BASE, amount)

    @classmethod
    def money(cls, amount: float, coin: str) -> QtySpec:
        """An order value in a coin, converted at the order price."""
        return cls(QtyUnit.MONEY, amount, coin.upper())

    @classmethod
    def share(cls, fraction: float, of: QtyUnit) -> QtySpec:
        """A share of ``equity``, ``balance`` or ``available`` (of the settle coin)."""
        if of not in (QtyUnit.EQUITY, QtyUnit.BALANCE, QtyUnit.AVAILABLE):
            raise ValueError(f"a share is of equity, balance or available, not {of.value}")
        return cls(of, fraction)


@dataclass(frozen=True, slots=True)
class PriceTarget:
    """A take profit or stop loss: an absolute price, or a fraction away from the entry (0.02 = 2%)."""

    value: float
    is_percent: bool = False

    @classmethod
    def price(cls, price: float) -> PriceTarget:
        return cls(price, False)

    @classmethod
    def percent(cls, fraction: float) -> PriceTarget:
        return cls(fraction, True)


class TrailUnit(str, Enum):
    PERCENT = "percent"  # a fraction of the entry price
    DISTANCE = "distance"  # a price amount
    TICKS = "ticks"  # a number of ticks


@dataclass(frozen=True, slots=True)
class Trail:
    """A trailing stop distance as written; Bybit receives it as a price distance."""

    unit: TrailUnit
    value: float


class PositionSide(str, Enum):
    """A side of a position, for `close long` / `close short` (``None`` means both)."""

    LONG = "long"
    SHORT = "short"


class CancelWhich(str, Enum):
    ALL = "all"
    BUYS = "buys"
    SELLS = "sells"


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """`buy` / `sell`. ``price`` is the limit price (``None`` for market); ``expire_s`` cancels a resting order."""

    symbol: str
    side: Side
    qty: QtySpec
    order_type: OrderType = OrderType.MARKET
    price: float | None = None
    tp: PriceTarget | None = None
    sl: PriceTarget | None = None
    trail: Trail | None = None
    post_only: bool = False
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    expire_s: float | None = None
    tag: str = ""
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class CloseIntent:
    """`close [long|short] [PCT%] [market|limit PRICE]`; ``fraction`` 1.0 closes all of it."""

    symbol: str
    side: PositionSide | None = None
    fraction: float = 1.0
    order_type: OrderType = OrderType.MARKET
    price: float | None = None
    tag: str = ""
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class CancelIntent:
    """`cancel orders | buys | sells` on this symbol."""

    symbol: str
    which: CancelWhich = CancelWhich.ALL
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class SetLeverageIntent:
    symbol: str
    leverage: float
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class SetPositionModeIntent:
    symbol: str
    mode: PositionMode
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class SetMarginModeIntent:
    symbol: str
    mode: MarginMode
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class SetTpslModeIntent:
    symbol: str
    mode: TpslMode
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class SetTradingStopIntent:
    """`set tp` / `set sl` / `set trail` on the open position; percents are measured from its entry price."""

    symbol: str
    tp: PriceTarget | None = None
    sl: PriceTarget | None = None
    trail: Trail | None = None
    side: PositionSide | None = None
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class NotifyIntent:
    """`notify "..."` with its placeholders already filled in."""

    symbol: str
    text: str
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class PauseIntent:
    symbol: str
    rule: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class HaltIntent:
    symbol: str
    reason: str = "halt"
    rule: str = ""
    seq: int = 0


Intent = (
    OrderIntent | CloseIntent | CancelIntent | SetLeverageIntent | SetPositionModeIntent
    | SetMarginModeIntent | SetTpslModeIntent | SetTradingStopIntent | NotifyIntent | PauseIntent
    | HaltIntent
)
