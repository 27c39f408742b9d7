"""The one interface the engine trades through: ``PaperExchange`` implements it, and so will the Bybit one.

Requests go in through :meth:`Exchange.submit`, which answers at once with an :class:`Ack` or
raises :class:`~rulebot.exchange.errors.OrderRejected` (never retried) or
:class:`~rulebot.exchange.errors.ExchangeUnavailable` (retry with backoff). What happens to an
order afterwards (fills, cancels, the position and the wallet) arrives later as model events,
handed to the ``emit`` callable the exchange was built with (the engine's queue). ``emit`` must
only enqueue: it must not call back into the exchange.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rulebot.model.events import Event, OrderUpdate, PositionUpdate, WalletUpdate
from rulebot.model.requests import Request

Emit = Callable[[Event], None]
"""Where an exchange puts the events it produces; the engine's thread-safe queue ``put``."""


@dataclass(frozen=True, slots=True)
class Ack:
    """The immediate answer to an accepted request.

    ``order_id`` and ``order_link_id`` name the order a place, amend or cancel acted on (empty
    for settings requests); ``cancelled`` lists the ``orderLinkId`` of each order a cancel-all
    removed. Acceptance is not execution: fills come as events.
    """

    order_id: str = ""
    order_link_id: str = ""
    cancelled: tuple[str, ...] = ()


class Exchange(Protocol):
    """A venue: accepts requests, answers queries, and emits what happened as events.

    ``resolves_percent_stops``: whether the venue itself turns a ``PlaceOrder``'s ``tp_pct`` /
    ``sl_pct`` / ``trail_pct`` / ``trailing_stop`` into stops when the order fills (the paper
    exchange does); when False the engine sends them as a ``SetTradingStop`` after the fill.
    """

    resolves_percent_stops: bool

    def submit(self, request: Request) -> Ack:
        """Send one request; raises ``OrderRejected`` with Bybit's retCode when refused."""
        ...

    def open_orders(self, symbol: str) -> list[OrderUpdate]:
        """The orders of ``symbol`` that are still open (new, partially filled, untriggered)."""
        ...

    def positions(self, symbol: str) -> list[PositionUpdate]:
        """Every position slot of ``symbol``: index 0 in one-way mode, 1 and 2 in hedge mode."""
        ...

    def wallet(self) -> WalletUpdate:
        """The account's settle-coin balance, equity and available balance now."""
        ...
