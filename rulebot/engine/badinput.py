"""Bad input the engine survives: counted per kind, logged once per kind, never raised.

A malformed event, an evaluation that divides by zero or meets a value it cannot use: the
value is unknown, the engine goes on, and the log says so the first time (with the details)
and only counts the rest, so a broken feed cannot flood the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

log = logging.getLogger(__name__)


class BadInputLog:
    """Counts of bad input by kind (``"event:KlineUpdate:TypeError"``, ``"eval:ZeroDivisionError"``)."""

    __slots__ = ("_counts", "_view")

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._view = MappingProxyType(self._counts)

    def record(self, kind: str, detail: str) -> None:
        """Count one occurrence; the first of its kind is logged as a warning with ``detail``."""
        count = self._counts.get(kind, 0) + 1
        self._counts[kind] = count
        if count == 1:
            log.warning("bad_input kind=%s %s (further ones are only counted)", kind, detail)

    @property
    def counts(self) -> Mapping[str, int]:
        """A read-only view of the counts so far."""
        return self._view

    def count(self, kind: str) -> int:
        """How many of one kind were seen."""
        return self._counts.get(kind, 0)
