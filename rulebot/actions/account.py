"""A read-only snapshot of what the risk guards and the sizing need to know about the account.

The engine builds one from its Account state when a rule fires. Numbers are floats, as the
engine keeps them; the action layer converts each to ``Decimal`` through its string.
"""

from __future__ import annotations

from dataclasses import dataclass

from rulebot.model import Side


@dataclass(frozen=True, slots=True)
class OpenOrderView:
    """One open order of the symbol; ``qty`` is what is still unfilled."""

    side: Side
    qty: float
    reduce_only: bool = False
    order_link_id: str = ""
    position_idx: int = 0
    price: float | None = None


@dataclass(frozen=True, slots=True)
class AccountView:
    """The account as seen by one symbol at one moment.

    Money is in the settle coin. A one-way position of size ``p`` is ``long_size = p`` when
    ``p > 0`` and ``short_size = -p`` when ``p < 0`` (use ``AccountView.one_way``); in hedge
    mode both sides may be open. On spot, ``long_size`` is the base-coin balance.
    ``recent_order_ms`` holds the send times of this file's orders, at least those of the
    last minute; ``equity_at_midnight`` is the equity at 00:00 UTC today (the engine uses
    the equity at start when it started later).
    """

    equity: float
    balance: float
    available: float
    mark_price: float | None
    now_ms: int
    equity_at_midnight: float
    realised_pnl_today: float = 0.0
    long_size: float = 0.0
    long_entry: float | None = None
    short_size: float = 0.0
    short_entry: float | None = None
    open_orders: tuple[OpenOrderView, ...] = ()
    recent_order_ms: tuple[int, ...] = ()

    @property
    def position(self) -> float:
        """Signed size: long minus short."""
        return self.long_size - self.short_size

    @classmethod
    def one_way(
        cls,
        *,
        position: float,
        entry_price: float | None,
        equity: float,
        balance: float,
        available: float,
        mark_price: float | None,
        now_ms: int,
        equity_at_midnight: float,
        realised_pnl_today: float = 0.0,
        open_orders: tuple[OpenOrderView, ...] = (),
        recent_order_ms: tuple[int, ...] = (),
    ) -> AccountView:
        """Build a view from a signed one-way position."""
        return cls(
            equity=equity,
            balance=balance,
            available=available,
            mark_price=mark_price,
            now_ms=now_ms,
            equity_at_midnight=equity_at_midnight,
            realised_pnl_today=realised_pnl_today,
            long_size=max(position, 0.0),
            long_entry=entry_price if position > 0 else None,
            short_size=max(-position, 0.0),
            short_entry=entry_price if position < 0 else None,
            open_orders=open_orders,
            recent_order_ms=recent_order_ms,
        )
