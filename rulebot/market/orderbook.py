"""An L2 order book rebuilt from Bybit snapshot and delta messages.

* A snapshot replaces the book.
* A delta sets absolute sizes: size 0 deletes the level, an unknown price inserts one, a
  known price has its size replaced.
* A delta whose update id ``u`` is not the previous one + 1, whose ``seq`` went backwards,
  that arrives before any snapshot, or that leaves the book crossed (best bid >= best
  ask) makes the book *stale*: its best bid/ask and sizes are unknown (NaN) and further
  deltas are ignored until the next snapshot.

Each side keeps a dict (price -> size) and a sorted list of its prices, maintained with
``bisect`` on each change, so the best level is the end of a list: no sort per delta.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort

from rulebot.market.anomalies import Anomaly, AnomalyLog
from rulebot.model.events import BookUpdate

NAN = math.nan


class _Side:
    """One side of the book: sizes by price and the prices in ascending order."""

    __slots__ = ("sizes", "prices")

    def __init__(self) -> None:
        self.sizes: dict[float, float] = {}
        self.prices: list[float] = []

    def replace(self, levels: tuple[tuple[float, float], ...]) -> None:
        sizes: dict[float, float] = {}
        for price, size in levels:
            if size > 0.0:
                sizes[price] = size
            else:
                sizes.pop(price, None)
        self.sizes = sizes
        self.prices = sorted(sizes)

    def apply(self, levels: tuple[tuple[float, float], ...]) -> None:
        sizes = self.sizes
        prices = self.prices
        for price, size in levels:
            if size > 0.0:
                if price not in sizes:
                    insort(prices, price)
                sizes[price] = size
            elif price in sizes:
                del sizes[price]
                del prices[bisect_left(prices, price)]

    def clear(self) -> None:
        self.sizes = {}
        self.prices = []


class OrderBook:
    """The L2 book of one symbol."""

    __slots__ = ("symbol", "update_id", "seq", "stale", "has_snapshot", "ts_ms", "_bids", "_asks", "_anomalies")

    def __init__(self, symbol: str, anomalies: AnomalyLog | None = None) -> None:
        self.symbol = symbol
        self.update_id = -1
        self.seq = -1
        self.stale = True
        self.has_snapshot = False
        self.ts_ms = 0
        self._bids = _Side()
        self._asks = _Side()
        self._anomalies = anomalies if anomalies is not None else AnomalyLog()

    def apply(self, update: BookUpdate) -> None:
        """Apply a snapshot or a delta (see the module docstring)."""
        if update.is_snapshot:
            self._bids.replace(update.bids)
            self._asks.replace(update.asks)
            self.has_snapshot = True
            self.stale = False
        elif self.stale:
            self._anomalies.record(
                Anomaly.BOOK_DELTA_WHILE_STALE, f"symbol={self.symbol} u={update.update_id} (waiting for a snapshot)"
            )
            return
        elif update.update_id != self.update_id + 1:
            self._go_stale(Anomaly.BOOK_GAP, f"symbol={self.symbol} u={update.update_id} after u={self.update_id}")
            return
        elif update.seq < self.seq:
            self._go_stale(Anomaly.BOOK_SEQ_BACKWARDS, f"symbol={self.symbol} seq={update.seq} after seq={self.seq}")
            return
        else:
            self._bids.apply(update.bids)
            self._asks.apply(update.asks)
        self.update_id = update.update_id
        self.seq = update.seq
        self.ts_ms = update.ts_event_ms
        bids = self._bids.prices
        asks = self._asks.prices
        if bids and asks and bids[-1] >= asks[0]:
            self._go_stale(Anomaly.BOOK_CROSSED, f"symbol={self.symbol} u={update.update_id} bid={bids[-1]} ask={asks[0]}")

    def _go_stale(self, kind: Anomaly, detail: str) -> None:
        self._anomalies.record(kind, detail)
        self.stale = True
        self._bids.clear()
        self._asks.clear()

    @property
    def best_bid(self) -> float:
        """Best bid price; NaN when stale or empty."""
        prices = self._bids.prices
        return prices[-1] if prices and not self.stale else NAN

    @property
    def best_ask(self) -> float:
        """Best ask price; NaN when stale or empty."""
        prices = self._asks.prices
        return prices[0] if prices and not self.stale else NAN

    @property
    def best_bid_size(self) -> float:
        """Size at the best bid; NaN when stale or empty."""
        prices = self._bids.prices
        return self._bids.sizes[prices[-1]] if prices and not self.stale else NAN

    @property
    def best_ask_size(self) -> float:
        """Size at the best ask; NaN when stale or empty."""
        prices = self._asks.prices
        return self._asks.sizes[prices[0]] if prices and not self.stale else NAN

    def top(self) -> tuple[float, float, float, float]:
        """(best bid, its size, best ask, its size); NaN where unknown."""
        return self.best_bid, self.best_bid_size, self.best_ask, self.best_ask_size

    def bids(self, depth: int | None = None) -> list[tuple[float, float]]:
        """Bid levels, best first (empty when stale)."""
        if self.stale:
            return []
        prices = self._bids.prices[::-1] if depth is None else self._bids.prices[: -depth - 1 : -1]
        return [(p, self._bids.sizes[p]) for p in prices]

    def asks(self, depth: int | None = None) -> list[tuple[float, float]]:
        """Ask levels, best first (empty when stale)."""
        if self.stale:
            return []
        prices = self._asks.prices if depth is None else self._asks.prices[:depth]
        return [(p, self._asks.sizes[p]) for p in prices]
