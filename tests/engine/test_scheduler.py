"""Scheduled rules (`every`, `at`, `cron`) on the simulated clock, through APScheduler triggers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from engine_kit import MINUTE, Inbox, Switch, harness, rule, say
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.engine.scheduler import (
    MINUTE_JOB,
    Job,
    SimSchedule,
    cron_weekdays,
    make_trigger,
    minute_trigger,
    to_datetime,
    to_ms,
)
from rulebot.model import TimerFired

HOUR = 60 * MINUTE
# 2025-06-02 00:00 UTC, a Monday
MONDAY = 1_748_822_400_000


def utc(ts_ms: int) -> datetime:
    return to_datetime(ts_ms)


def fire_times(job: Job, start_ms: int, end_ms: int, step_ms: int = MINUTE) -> list[int]:
    """Fire times reported as a simulated clock moves from ``start_ms`` to ``end_ms`` in steps."""
    schedule = SimSchedule([job], start_ms)
    out = []
    for now in range(start_ms + step_ms, end_ms + 1, step_ms):
        out.extend(at for _, at in schedule.due(now))
    return out


def test_every_fires_on_multiples_of_its_interval_since_the_epoch() -> None:
    start = MONDAY + 7 * MINUTE
    job = Job("r", make_trigger(every_s=300, at=(), cron=None, timezone="UTC", start_ms=start))
    assert fire_times(job, start, start + 20 * MINUTE) == [MONDAY + m * MINUTE for m in (10, 15, 20, 25)]


def test_at_times_are_in_the_files_timezone() -> None:
    job = Job("r", make_trigger(every_s=None, at=((8, 0), (20, 30)), cron=None, timezone="Europe/Berlin",
                                start_ms=MONDAY))
    got = fire_times(job, MONDAY, MONDAY + 24 * HOUR)
    berlin = ZoneInfo("Europe/Berlin")
    assert [utc(t).astimezone(berlin).strftime("%H:%M") for t in got] == ["08:00", "20:30"]
    assert [utc(t).hour for t in got] == [6, 18]  # summer time: UTC+2


def test_cron_uses_standard_weekday_numbers() -> None:
    # "0 9 * * 1" is Mondays at 09:00 in crontab (APScheduler 3 alone would read 1 as Tuesday)
    job = Job("r", make_trigger(every_s=None, at=(), cron="0 9 * * 1", timezone="UTC", start_ms=MONDAY))
    got = fire_times(job, MONDAY, MONDAY + 14 * 24 * HOUR, step_ms=HOUR)
    assert [utc(t).strftime("%a %H:%M") for t in got] == ["Mon 09:00", "Mon 09:00"]


@pytest.mark.parametrize(("field", "expected"), [
    ("*", "*"), ("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"), ("sat,sun", "sat,sun"),
    ("*/2", "sun,tue,thu,sat"), ("5-7", "fri,sat,sun"), ("mon-wed", "mon,tue,wed"),
])
def test_cron_weekday_translation(field: str, expected: str) -> None:
    assert cron_weekdays(field) == expected


def test_a_gap_in_the_data_fires_once_then_goes_on_from_now() -> None:
    job = Job("r", make_trigger(every_s=60, at=(), cron=None, timezone="UTC", start_ms=MONDAY))
    schedule = SimSchedule([job], MONDAY)
    assert schedule.due(MONDAY + 10 * MINUTE) == [("r", MONDAY + MINUTE)]
    assert schedule.next_due_ms == MONDAY + 11 * MINUTE


def test_the_minute_tick_fires_each_whole_minute() -> None:
    job = Job(MINUTE_JOB, minute_trigger(MONDAY + 30_000))
    assert fire_times(job, MONDAY + 30_000, MONDAY + 3 * MINUTE + 30_000) == [MONDAY + m * MINUTE for m in (1, 2, 3)]


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=4_000_000_000_000))
def test_milliseconds_round_trip_through_datetimes(ts: int) -> None:
    assert to_ms(to_datetime(ts)) == ts


def test_a_scheduled_rule_is_evaluated_only_on_its_schedule_and_fires_each_time_it_holds() -> None:
    inbox = Inbox()
    cond = Switch(True)
    h = harness([rule("every 5m", cond, [say("tick")], every_s=300)], notifier=inbox, start_ms=MONDAY)
    h.bars(15)  # bars close at 00:01 ... 00:15
    assert len(inbox.texts) == 3  # 00:05, 00:10, 00:15: an edge rule that stays true still fires
    assert cond.calls == 3
    cond.value = False
    h.bars(5)
    assert len(inbox.texts) == 3 and cond.calls == 4


def test_a_scheduled_rule_without_when_always_fires() -> None:
    inbox = Inbox()
    h = harness([rule("hourly", None, [say("h")], at=((1, 0),))], notifier=inbox, start_ms=MONDAY)
    h.bars(120)
    assert inbox.texts == ["h"]
    fire = h.journal.entries()[1]
    assert fire.rule == "hourly" and fire.ts_ms == MONDAY + HOUR


def test_minute_rules_are_evaluated_each_minute() -> None:
    from rulebot.lang.compiled import Trigger

    cond = Switch(False)
    h = harness([rule("clock", cond, [say("x")], triggers=(Trigger("minute", None),))], start_ms=MONDAY)
    h.bars(4)
    assert cond.calls == 4


def test_a_timer_event_for_a_rule_that_no_longer_exists_is_counted_not_raised() -> None:
    h = harness([rule("r", Switch(True), [say("x")])], start_ms=MONDAY)
    h.bar()
    h.engine.process(TimerFired(job_id="rules.yaml:gone@BTCUSDT", ts_event_ms=MONDAY, ts_recv_ms=MONDAY))
    assert h.engine.bad.count("timer:unknown_job") == 1
