"""Events: immutable facts that enter the engine's one queue.

Every event carries ``ts_event_ms`` (when it happened at the venue, or in the replay) and
``ts_recv_ms`` (when we built it). Fields are primitives, enums or tuples, never dicts.
Market numbers are floats (conditions compare floats); order and fill numbers that must be
exact are kept as the strings the venue sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from rulebot.model.enums import OrderStatus, OrderType, Side


@dataclass(frozen=True, slots=True)
class TickerUpdate:
    """A ticker snapshot or delta; ``None`` means the field was not in the message (unchanged)."""

    symbol: str
    ts_event_ms: int
    ts_recv_ms: int
    is_snapshot: bool
    last: float | None = None
    mark_price: float | None = None
    index_price: float | None = None
    bid1: float | None = None
    bid1_size: float | None = None
    ask1: float | None = None
    ask1_size: float | None = None
    funding_rate: float | None = None
    open_interest: float | None = None
    volume_24h: float | None = None
    turnover_24h: float | None = None
    change_24h: float | None = None
    high_24h: float | None = None
    low_24h: float | None = None


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """An L2 order-book snapshot or delta; levels are (price, size) and size 0 deletes a level."""

    symbol: str
    ts_event_ms: int
    ts_recv_ms: int
    is_snapshot: bool
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    update_id: int
    seq: int


@dataclass(frozen=True, slots=True)
class TradePrint:
    """One public trade."""

    symbol: str
    ts_event_ms: int
    ts_recv_ms: int
    price: float
    size: float
    side: Side


@dataclass(frozen=True, slots=True)
class KlineUpdate:
    """A candle; ``confirm`` is Bybit's flag for a closed bar. ``start_ms`` is the bar's open time."""

    symbol: str
    timeframe: str
    ts_event_ms: int
    ts_recv_ms: int
    start_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    confirm: bool


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """One side of a position as the venue reports it; ``position_idx`` 0 one-way, 1/2 hedge."""

    symbol: str
    ts_event_ms: int
    ts_recv_ms: int
    position_idx: int
    size: float
    side: Side | None
    entry_price: float | None
    liq_price: float | None
    leverage: float
    unrealised_pnl: float
    take_profit: float | None = None
    stop_loss: float | None = None
    trailing_stop: float | None = None
    reconciled: bool = False


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """The state of one order; prices and quantities as the exact strings sent or received."""

    symbol: str
    ts_event_ms: int
    ts_recv_ms: int
    order_id: str
    order_link_id: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    qty: str
    price: str
    filled_qty: str
    reduce_only: bool = False
    reject_reason: str = ""
    reconciled: bool = False


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill."""

    symbol: str
    ts_event_ms: int
    ts_recv_ms: int
    exec_id: str
    order_id: str
    order_link_id: str
    side: Side
    price: str
    qty: str
    fee: str
    is_maker: bool
    exit_reason: str = ""
    reconciled: bool = False


@dataclass(frozen=True, slots=True)
class WalletUpdate:
    """The account balance of one coin."""

    coin: str
    ts_event_ms: int
    ts_recv_ms: int
    balance: float
    equity: float
    available: float


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A scheduled rule is due (``job_id`` names it)."""

    job_id: str
    ts_event_ms: int
    ts_recv_ms: int


@dataclass(frozen=True, slots=True)
class ReloadRequested:
    """A rule file changed on disk."""

    path: str
    ts_event_ms: int
    ts_recv_ms: int


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Stop the engine loop after the events before this one."""

    ts_event_ms: int
    ts_recv_ms: int
    reason: str = ""


Event = (
    TickerUpdate
    | BookUpdate
    | TradePrint
    | KlineUpdate
    | PositionUpdate
    | OrderUpdate
    | Execution
    | WalletUpdate
    | TimerFired
    | ReloadRequested
    | Shutdown
)
