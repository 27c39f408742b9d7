"""Scheduled rules (`every`, `at`, `cron`) and the minute tick, through APScheduler 3 triggers.

Each job has one trigger object built with an explicit ``start_date`` (the engine clock's now)
and ``timezone`` (the file's), so no trigger ever reads the system time (STYLE.md §2). The
same triggers serve both ways of running:

* in a replay, ``SimSchedule`` asks each trigger for its next fire time
  (``get_next_fire_time(previous, now)``) and reports the jobs whose time the simulated clock
  has passed; the engine turns them into ``TimerFired`` events;
* live, ``LiveScheduler`` hands them to a ``BackgroundScheduler`` whose jobs only put a
  ``TimerFired`` on the engine's queue.

`every: 5m` fires on multiples of five minutes since the epoch (00:00, 00:05, ...), so a
replay and a live run agree on the times whatever minute they started. Standard cron
numbers Sunday 0 (or 7); APScheduler 3 numbers Monday 0, so day-of-week numbers are
translated into names before the trigger is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rulebot.model.clock import Clock
from rulebot.model.events import Event, TimerFired

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

MINUTE_JOB = "minute"
"""The job id of the minute tick that evaluates rules reading the time of day."""

_NEVER_MS = 2**62
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Job:
    """One scheduled job: its id (a rule's state key, or ``MINUTE_JOB``) and its trigger."""

    job_id: str
    trigger: BaseTrigger


def to_datetime(ts_ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return _EPOCH + timedelta(milliseconds=ts_ms)


def to_ms(dt: datetime) -> int:
    """An aware datetime as epoch milliseconds."""
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def make_trigger(
    *, every_s: int | None, at: Sequence[tuple[int, int]], cron: str | None, timezone: str, start_ms: int
) -> BaseTrigger:
    """The trigger of a scheduled rule; several kinds given together fire on any of them."""
    # APScheduler (and the asyncio, ssl and threading it imports) is loaded only when a rule is scheduled.
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    tz = ZoneInfo(timezone)
    start = to_datetime(start_ms).astimezone(tz)
    triggers: list[BaseTrigger] = []
    if every_s is not None:
        if every_s <= 0:
            raise ValueError(f"every must be at least one second, got {every_s}")
        aligned = start_ms - start_ms % (every_s * 1000)
        triggers.append(IntervalTrigger(seconds=every_s, start_date=to_datetime(aligned), timezone=tz))
    for hour, minute in at:
        triggers.append(CronTrigger(hour=hour, minute=minute, second=0, start_date=start, timezone=tz))
    if cron is not None:
        triggers.append(cron_trigger(cron, tz, start))
    if not triggers:
        raise ValueError("a scheduled rule needs every, at or cron")
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def minute_trigger(start_ms: int) -> BaseTrigger:
    """Each whole minute (UTC), for rules that read `hour`, `minute`, `time between` ..."""
    from apscheduler.triggers.cron import CronTrigger  # loaded only when needed, see make_trigger

    return CronTrigger(second=0, start_date=to_datetime(start_ms), timezone=UTC)


def cron_trigger(expression: str, tz: ZoneInfo, start: datetime) -> CronTrigger:
    """A standard five-field crontab expression (Sunday is 0 or 7) as an APScheduler 3 trigger."""
    from apscheduler.triggers.cron import CronTrigger  # loaded only when needed, see make_trigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has five fields, got {expression!r}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=cron_weekdays(weekday),
        second=0, start_date=start, timezone=tz,
    )


def cron_weekdays(field: str) -> str:
    """A crontab day-of-week field in APScheduler's words: ``1-5`` -> ``mon,tue,wed,thu,fri``."""
    if field == "*":
        return "*"
    days: list[int] = []
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step {step_text!r} in day of week {field!r}")
        if span == "*":
            lo, hi = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            lo, hi = _weekday(first), _weekday(last)
            if hi < lo:
                raise ValueError(f"day of week range {span!r} runs backwards")
        else:
            lo = hi = _weekday(span)
            if step_text:
                hi = 6
        days.extend(range(lo, hi + 1, step))
    names = dict.fromkeys(_CRON_DAYS[d] for d in days)
    return ",".join(names)


def _weekday(text: str) -> int:
    if text.isdigit():
        day = int(text)
        if not 0 <= day <= 7:
            raise ValueError(f"day of week {text!r} is not 0-7")
        return day
    if text[:3] in _CRON_DAYS:
        return _CRON_DAYS.index(text[:3])
    raise ValueError(f"day of week {text!r} is not a number or a day name")


class SimSchedule:
    """Fire times of the jobs on the simulated clock (replays and tests).

    ``next_due_ms`` is the earliest pending fire time: the engine compares one integer per
    event and calls ``due`` only when the clock has reached it.
    """

    def __init__(self, jobs: Sequence[Job], now_ms: int) -> None:
        self._jobs = tuple(jobs)
        self._next: list[int] = []
        # the schedule starts strictly after now: a job due exactly at the start already ran
        # (or, at a first start, was not yet wanted)
        now = to_datetime(now_ms + 1)
        for job in self._jobs:
            first = job.trigger.get_next_fire_time(None, now)
            self._next.append(_NEVER_MS if first is None else to_ms(first))
        self.next_due_ms = min(self._next, default=_NEVER_MS)

    def due(self, now_ms: int) -> list[tuple[str, int]]:
        """The jobs whose fire time is at or before ``now_ms``, with that time, earliest first.

        A job that missed several fire times (a gap in the data) runs once (coalesced), as
        the live scheduler does, and its next time is the first one after ``now_ms``.
        """
        out: list[tuple[str, int]] = []
        now = to_datetime(now_ms)
        for i, job in enumerate(self._jobs):
            at = self._next[i]
            if at > now_ms:
                continue
            out.append((job.job_id, at))
            previous = to_datetime(at)
            nxt = job.trigger.get_next_fire_time(previous, now)
            while nxt is not None and to_ms(nxt) <= now_ms:
                previous = nxt
                nxt = job.trigger.get_next_fire_time(previous, now)
            self._next[i] = _NEVER_MS if nxt is None else to_ms(nxt)
        self.next_due_ms = min(self._next, default=_NEVER_MS)
        out.sort(key=lambda item: item[1])
        return out


class LiveScheduler:
    """A ``BackgroundScheduler`` whose jobs only put ``TimerFired`` on the engine's queue."""

    def __init__(self, jobs: Sequence[Job], emit: Callable[[Event], None], clock: Clock) -> None:
        # the scheduler's thread machinery is loaded only for a live run with scheduled jobs
        from apscheduler.schedulers.background import BackgroundScheduler

        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._emit = emit
        self._clock = clock
        for job in jobs:
            self._scheduler.add_job(
                self._fire, trigger=job.trigger, args=(job.job_id,), id=job.job_id,
                coalesce=True, max_instances=1, misfire_grace_time=60,
            )

    def _fire(self, job_id: str) -> None:
        now = self._clock.now_ms()
        self._emit(TimerFired(job_id=job_id, ts_event_ms=now, ts_recv_ms=now))

    def start(self) -> None:
        """Start the scheduler's thread."""
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop the scheduler's thread (jobs in progress finish: they only enqueue)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)


class Timers:
    """The engine's schedule: fire times read off the simulated clock (``due``), or, live, a
    background scheduler that enqueues ``TimerFired`` itself. ``next_due_ms`` is the earliest
    simulated fire time (never, live): the engine compares it with the clock after each event."""

    def __init__(self, emit: Callable[[Event], None], clock: Clock) -> None:
        self._emit = emit
        self._clock = clock
        self._sim: SimSchedule | None = None
        self._live: LiveScheduler | None = None
        self.next_due_ms = _NEVER_MS

    @property
    def live(self) -> bool:
        """Whether a background scheduler runs the jobs."""
        return self._live is not None

    def start(self, jobs: Sequence[Job], now_ms: int, *, live: bool) -> None:
        """Schedule ``jobs`` from ``now_ms``: live on a background thread, else on the simulated clock."""
        if live:
            self._live = LiveScheduler(jobs, self._emit, self._clock)
            self._live.start()
        else:
            self._sim = SimSchedule(jobs, now_ms)
            self.next_due_ms = self._sim.next_due_ms

    def restart(self, jobs: Sequence[Job], now_ms: int) -> None:
        """Replace the jobs (after a reload), the same way they ran before."""
        if self._live is not None:
            self._live.shutdown()
            self.start(jobs, now_ms, live=True)
        elif self._sim is not None:
            self.start(jobs, now_ms, live=False)

    def due(self, now_ms: int) -> list[tuple[str, int]]:
        """Simulated: the jobs due by ``now_ms`` (see ``SimSchedule.due``)."""
        if self._sim is None:
            self.next_due_ms = _NEVER_MS
            return []
        out = self._sim.due(now_ms)
        self.next_due_ms = self._sim.next_due_ms
        return out

    def shutdown(self) -> None:
        """Stop a live scheduler."""
        if self._live is not None:
            self._live.shutdown()
