"""The engine's one queue of events: any thread puts, one thread takes.

Bounded, so a runaway producer cannot eat the memory; a full queue makes the producer wait
(nothing is ever dropped) and is reported at most once a second (STYLE.md §2, after
nautilus_trader's ``enqueue``). Events the engine thread emits to itself — an exchange that
answers synchronously inside ``submit``, as the paper exchange does — go to a local list
handled right after the current event, since waiting on its own full queue would deadlock.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque

from rulebot.model.clock import Clock
from rulebot.model.events import Event

log = logging.getLogger(__name__)

_WARN_EVERY_MS = 1000


class Inbox:
    """The queue, and the local list of the thread that owns (takes from) it."""

    def __init__(self, clock: Clock, maxsize: int) -> None:
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=maxsize)
        self.local: deque[Event] = deque()
        self._clock = clock
        self._owner: int | None = None
        self._warned_ms = -(2**62)

    def own(self) -> None:
        """The calling thread is the engine thread from now on."""
        self._owner = threading.get_ident()

    def put(self, event: Event) -> None:
        """Enqueue from any thread; waits while the queue is full."""
        if threading.get_ident() == self._owner:
            self.local.append(event)
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            now = self._clock.now_ms()
            if now - self._warned_ms >= _WARN_EVERY_MS:
                self._warned_ms = now
                log.warning("queue_full size=%d: the engine is behind; producers wait", self._queue.maxsize)
            self._queue.put(event)

    def get(self) -> Event:
        """The next event (the engine thread only); waits for one."""
        return self._queue.get()
