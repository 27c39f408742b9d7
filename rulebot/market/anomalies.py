"""Bad market data, counted per kind and logged once per kind (never once per event)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

logger = logging.getLogger(__name__)


class Anomaly(str, Enum):
    """A kind of market data the state ignored or could not trust."""

    OUT_OF_ORDER_BAR = "out_of_order_bar"
    DUPLICATE_BAR = "duplicate_bar"
    INVALID_BAR = "invalid_bar"
    MISSED_CONFIRM = "missed_confirm"
    PARTIAL_BAR = "partial_bar"
    BOOK_GAP = "book_gap"
    BOOK_SEQ_BACKWARDS = "book_seq_backwards"
    BOOK_CROSSED = "book_crossed"
    BOOK_DELTA_WHILE_STALE = "book_delta_while_stale"
    BAD_PRICE = "bad_price"


class AnomalyLog:
    """Counts anomalies; the first of each kind is logged as a warning with its details."""

    __slots__ = ("_counts", "_view")

    def __init__(self) -> None:
        self._counts: dict[Anomaly, int] = {}
        self._view = MappingProxyType(self._counts)

    def record(self, kind: Anomaly, detail: str) -> None:
        """Count one anomaly; log it if it is the first of its kind."""
        count = self._counts.get(kind, 0) + 1
        self._counts[kind] = count
        if count == 1:
            logger.warning("market_data_ignored kind=%s %s (further ones are only counted)", kind.value, detail)

    @property
    def counts(self) -> Mapping[Anomaly, int]:
        """A read-only view of the counts so far."""
        return self._view

    def count(self, kind: Anomaly) -> int:
        """How many anomalies of one kind were seen."""
        return self._counts.get(kind, 0)
