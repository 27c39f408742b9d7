"""Hand-built bars and a recording paper exchange for the paper-exchange tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from rulebot.exchange.paper import FillMode, PaperConfig, PaperExchange
from rulebot.model import (
    BookUpdate,
    Execution,
    KlineUpdate,
    OrderType,
    OrderUpdate,
    PlaceOrder,
    PositionUpdate,
    Side,
    SimClock,
    TradePrint,
    WalletUpdate,
)
from rulebot.model.events import Event

SYMBOL = "BTCUSDT"  # tick 0.10, qty step 0.001, min value 5 USDT, max leverage 100
MINUTE = 60_000


def bar(i: int, o: float, h: float, lo: float, c: float, symbol: str = SYMBOL) -> KlineUpdate:
    """The ``i``-th closed one-minute bar (open time i minutes)."""
    assert lo <= min(o, c) and h >= max(o, c), "a hand-built bar must be consistent"
    start = i * MINUTE
    return KlineUpdate(symbol, "1m", start + MINUTE, start + MINUTE, start, o, h, lo, c, 1.0, True)


@dataclass
class Paper:
    """A paper exchange with its emitted events recorded and its clock at hand."""

    ex: PaperExchange
    clock: SimClock
    events: list[Event] = field(default_factory=list)
    bars_seen: int = 0

    def feed(self, o: float, h: float, lo: float, c: float) -> list[Execution]:
        """Walk the next bar; returns the executions it produced."""
        before = len(self.events)
        b = bar(self.bars_seen, o, h, lo, c)
        self.ex.on_bar(b)
        self.bars_seen += 1
        self.clock.advance_to(b.ts_event_ms)
        return [e for e in self.events[before:] if isinstance(e, Execution)]

    def flat_bar(self, price: float) -> None:
        """A bar with no range, to set the last price."""
        self.feed(price, price, price, price)

    def order(self, side: Side, qty: str, price: str | None = None, link: str = "", **kw: object) -> str:
        """Place an order; returns its orderLinkId."""
        self._n = getattr(self, "_n", 0) + 1
        link = link or f"t-{self._n}"
        self.ex.submit(
            PlaceOrder(
                SYMBOL,
                side,
                OrderType.LIMIT if price is not None else OrderType.MARKET,
                Decimal(qty),
                link,
                price=Decimal(price) if price is not None else None,
                **kw,  # type: ignore[arg-type]
            )
        )
        return link

    def executions(self) -> list[Execution]:
        return [e for e in self.events if isinstance(e, Execution)]

    def order_updates(self, link: str) -> list[OrderUpdate]:
        return [e for e in self.events if isinstance(e, OrderUpdate) and e.order_link_id == link]

    def position(self, idx: int = 0) -> PositionUpdate:
        return next(p for p in self.ex.positions(SYMBOL) if p.position_idx == idx)

    def wallet(self) -> WalletUpdate:
        return self.ex.wallet()

    def book(self, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> None:
        self.ex.on_book(
            BookUpdate(SYMBOL, self.clock.now_ms(), self.clock.now_ms(), True, tuple(bids), tuple(asks), 1, 1)
        )

    def trade(self, price: float, size: float = 1.0, side: Side = Side.BUY) -> list[Execution]:
        before = len(self.events)
        self.ex.on_trade(TradePrint(SYMBOL, self.clock.now_ms(), self.clock.now_ms(), price, size, side))
        return [e for e in self.events[before:] if isinstance(e, Execution)]


def paper(
    *,
    balance: str = "100000",
    taker: str = "0.00055",
    maker: str = "0.0002",
    slippage: int = 0,
    leverage: str = "10",
    live: bool = False,
    **kw: object,
) -> Paper:
    """A fresh paper exchange (bar mode unless ``live``), clock at 0."""
    clock = SimClock(0)
    events: list[Event] = []
    config = PaperConfig(
        initial_balance=Decimal(balance),
        taker_fee=Decimal(taker),
        maker_fee=Decimal(maker),
        slippage_ticks=slippage,
        leverage=Decimal(leverage),
        fill_mode=FillMode.LIVE if live else FillMode.BARS,
        **kw,  # type: ignore[arg-type]
    )
    return Paper(PaperExchange(events.append, clock, config), clock, events)


def fills(execs: list[Execution]) -> list[tuple[str, str, str, str]]:
    """(side, price, qty, exit_reason) of each execution, for compact assertions."""
    return [(e.side.value, e.price, e.qty, e.exit_reason) for e in execs]
