"""Time is injected: the engine reads a Clock, live or simulated, never the system time directly."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the epoch, UTC."""
        ...


class LiveClock:
    """The wall clock, for live and paper trading."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class SimClock:
    """A clock that only moves when told to, for replays and tests."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now_ms = start_ms

    def now_ms(self) -> int:
        return self._now_ms

    def advance_to(self, ts_ms: int) -> int:
        """Move to ``ts_ms``; time never goes backwards. Returns the time now (what ``now_ms``
        would: a replay reads it once per bar with no second call)."""
        if ts_ms > self._now_ms:
            self._now_ms = ts_ms
        return self._now_ms
