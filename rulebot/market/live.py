"""Live market fields of one symbol (LANGUAGE.md §3), and the ticker they are merged from.

`LiveFields` is one object per symbol whose attributes are the §3 field names, updated in
place, so a compiled condition holds the object and reads ``live.bid1`` (a slot load, no
lookup by name). Every field is a float; NaN means unknown (never seen, stale book, zero
price, division by zero).

Bybit sends a ticker snapshot, then deltas carrying only the fields that changed: a
`TickerUpdate` field of ``None`` means "not in the message", and a delta is applied on top
of what is known. A snapshot replaces everything (a field it lacks becomes unknown).
"""

from __future__ import annotations

import math
from operator import attrgetter

from rulebot.model.events import TickerUpdate

NAN = math.nan

LIVE_FIELDS: tuple[str, ...] = (
    "price", "last", "mark_price", "index_price", "bid1", "ask1", "mid", "bid1_size", "ask1_size",
    "spread", "spread_pct", "funding_rate", "open_interest", "volume_24h", "turnover_24h",
    "change_24h", "high_24h", "low_24h",
)
"""The live field names of LANGUAGE.md §3 (``price`` is ``last``)."""


class LiveFields:
    """The live fields of one symbol, as attributes (NaN = unknown)."""

    __slots__ = (*LIVE_FIELDS, "ts_ms")

    price: float
    last: float
    mark_price: float
    index_price: float
    bid1: float
    ask1: float
    mid: float
    bid1_size: float
    ask1_size: float
    spread: float
    spread_pct: float
    funding_rate: float
    open_interest: float
    volume_24h: float
    turnover_24h: float
    change_24h: float
    high_24h: float
    low_24h: float
    ts_ms: int

    def __init__(self) -> None:
        for name in LIVE_FIELDS:
            setattr(self, name, NAN)
        self.ts_ms = 0

    def get(self, name: str) -> float:
        """A field by name (for explanations and tests; compiled rules read attributes)."""
        if name not in LIVE_FIELDS:
            raise KeyError(f"unknown live field '{name}'")
        return float(getattr(self, name))

    def set_quotes(self, bid1: float, bid1_size: float, ask1: float, ask1_size: float) -> None:
        """Set the best quotes and recompute ``mid``, ``spread``, ``spread_pct``."""
        self.bid1 = bid1
        self.bid1_size = bid1_size
        self.ask1 = ask1
        self.ask1_size = ask1_size
        if bid1 > 0.0 and ask1 > 0.0:
            mid = (bid1 + ask1) / 2
            self.mid = mid
            self.spread = ask1 - bid1
            self.spread_pct = self.spread / mid
        else:
            self.mid = self.spread = self.spread_pct = NAN

    def set_last(self, price: float) -> None:
        """Set the last traded price (``price`` and ``last``)."""
        self.price = self.last = price


TICKER_FIELDS: tuple[str, ...] = (
    "last", "mark_price", "index_price", "bid1", "bid1_size", "ask1", "ask1_size", "funding_rate",
    "open_interest", "volume_24h", "turnover_24h", "change_24h", "high_24h", "low_24h",
)
_PRICE_FIELDS = frozenset({"last", "mark_price", "index_price", "bid1", "ask1", "high_24h", "low_24h"})
_IS_PRICE = tuple(f in _PRICE_FIELDS for f in TICKER_FIELDS)
_read_update = attrgetter(*TICKER_FIELDS)
_LAST, _BID, _BID_SIZE, _ASK, _ASK_SIZE = (TICKER_FIELDS.index(f) for f in ("last", "bid1", "bid1_size", "ask1", "ask1_size"))
_QUOTES = frozenset({_BID, _BID_SIZE, _ASK, _ASK_SIZE})


class TickerState:
    """The merged ticker of one symbol; ``values`` follow `TICKER_FIELDS`."""

    __slots__ = ("values", "has_snapshot")

    def __init__(self) -> None:
        self.values = [NAN] * len(TICKER_FIELDS)
        self.has_snapshot = False

    def apply(self, update: TickerUpdate) -> list[int]:
        """Merge a snapshot or delta; return the indices (into `TICKER_FIELDS`) that changed.

        A zero or negative price is unknown (NaN); sizes and rates keep zero.
        """
        values = self.values
        changed = []
        snapshot = update.is_snapshot
        if snapshot:
            self.has_snapshot = True
        for i, new in enumerate(_read_update(update)):
            if new is None:
                if not snapshot:
                    continue
                new = NAN
            elif _IS_PRICE[i] and not new > 0.0:
                new = NAN
            old = values[i]
            if old != new and (old == old or new == new):
                values[i] = new
                changed.append(i)
        return changed

    def get(self, name: str) -> float:
        """A merged field by its `TickerUpdate` name."""
        return self.values[TICKER_FIELDS.index(name)]

    def copy_to(self, live: LiveFields, changed: list[int], quotes: bool) -> None:
        """Write the changed values into the live fields.

        ``quotes``: also bid/ask and sizes (False when an order book is authoritative).
        A last price the ticker no longer knows does not erase one from a trade print.
        """
        v = self.values
        quote_changed = False
        for i in changed:
            if i in _QUOTES:
                quote_changed = True
            elif i == _LAST:
                if v[i] == v[i]:
                    live.set_last(v[i])
            else:
                setattr(live, TICKER_FIELDS[i], v[i])
        if quote_changed and quotes:
            live.set_quotes(v[_BID], v[_BID_SIZE], v[_ASK], v[_ASK_SIZE])
