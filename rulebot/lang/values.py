"""Reading the small values of a rule file: durations, times of day, timeframes, timezones, cron,
percents, money and symbol names. (Which coins an amount may name is the checker's business.)

Each reader takes the text as the author wrote it and returns the value, or raises
``ValueProblem`` whose message and hint are in the trader's words. The loader uses them for the
file's settings and the checker may reuse them for values inside rule text.
"""

from __future__ import annotations

import difflib
import re
from datetime import timezone as _dt_timezone
from decimal import Decimal, InvalidOperation
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class ValueProblem(ValueError):
    """A value that cannot be read; ``message`` says what is wrong, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


# Bybit's kline intervals, canonical spelling first; the aliases are Bybit's own spellings.
TIMEFRAMES: tuple[str, ...] = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w", "1M")
_TIMEFRAME_ALIASES: dict[str, str] = {
    "60m": "1h", "120m": "2h", "240m": "4h", "360m": "6h", "720m": "12h", "D": "1d", "W": "1w", "M": "1M",
}
# Bybit's REST interval numbers, for the hint when an author writes `timeframe: 60`.
_BYBIT_MINUTES: dict[str, str] = {
    "1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h", "240": "4h",
    "360": "6h", "720": "12h",
}
_DURATION_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d{1,12})\s*([a-zA-Z]+)")
_LONG_UNITS: dict[str, str] = {
    "sec": "s", "secs": "s", "second": "s", "seconds": "s", "min": "m", "mins": "m", "minute": "m",
    "minutes": "m", "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "day": "d", "days": "d",
    "week": "w", "weeks": "w",
}
MAX_DURATION_SECONDS = 3650 * 86400  # schedulers overflow on absurd spans; ten years is plenty
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})")
_TIMEZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
_NUMBER = r"(?:\d[\d_]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
_PERCENT = re.compile(rf"([-+]?{_NUMBER})\s*%")
_MONEY = re.compile(rf"({_NUMBER})\s*([A-Za-z][A-Za-z0-9]{{1,9}})")
_PLAIN_NUMBER = re.compile(_NUMBER)
_SYMBOL = re.compile(r"[A-Z0-9]{2,25}(?:-\d{1,2}[A-Z]{3}\d{2})?")
_SEPARATED = re.compile(r"[A-Za-z0-9]+(?:[/\-_:.][A-Za-z0-9]+)?")


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, shortened when long."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "'" + text.replace("\n", "\\n") + "'"


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """A ``did you mean`` hint for ``word`` among ``choices``, or ``""``."""
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return f"did you mean '{lowered[word.lower()]}'?"
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean '{lowered[close[0]]}'?" if close else ""


def parse_timeframe(text: str) -> str:
    """A Bybit kline interval in its canonical spelling (``60m`` and ``D`` become ``1h`` and ``1d``)."""
    word = text.strip()
    if word in TIMEFRAMES:
        return word
    if word in _TIMEFRAME_ALIASES:
        return _TIMEFRAME_ALIASES[word]
    if word in _BYBIT_MINUTES:
        hint = f"write '{_BYBIT_MINUTES[word]}'"
    elif word.lower() in TIMEFRAMES:
        hint = f"did you mean '{word.lower()}'?"
    else:
        hint = suggest(word, TIMEFRAMES) or "Bybit offers " + " ".join(TIMEFRAMES)
    raise ValueProblem(f"{shown(word)} is not a timeframe Bybit offers", hint)


def parse_duration(text: str) -> int:
    """A span of time like ``30s``, ``15m``, ``1h``, ``1d`` or ``1w``, in whole seconds."""
    word = text.strip()
    match = _DURATION.fullmatch(word)
    if match is None:
        if _PLAIN_NUMBER.fullmatch(word):
            raise ValueProblem(f"the duration {shown(word)} has no unit", f"write '{word}s' or '{word}m'")
        if re.fullmatch(r"\d+\.\d+\s*[a-zA-Z]+", word):
            raise ValueProblem(f"the duration {shown(word)} is not a whole number", "use a smaller unit, e.g. 90m for 1.5h")
        raise ValueProblem(f"{shown(word)} is not a duration", "write a number and a unit: 30s, 15m, 1h, 1d or 1w")
    amount, unit = int(match.group(1)), match.group(2)
    if unit == "M":
        raise ValueProblem(f"{shown(word)} is a number of months, which is not a fixed duration", "use days, e.g. 30d")
    if unit not in _DURATION_UNITS:
        short = _LONG_UNITS.get(unit.lower()) or (unit.lower() if unit.lower() in _DURATION_UNITS else "")
        hint = f"write '{amount}{short}'" if short else "the units are s, m, h, d and w"
        raise ValueProblem(f"{shown(word)} is not a duration", hint)
    seconds = amount * _DURATION_UNITS[unit]
    if seconds > MAX_DURATION_SECONDS:
        raise ValueProblem(f"the duration {shown(word)} is longer than ten years")
    return seconds


def parse_time_of_day(text: str) -> tuple[int, int]:
    """``HH:MM`` (one-digit hours allowed) as ``(hour, minute)``, between 00:00 and 23:59."""
    word = text.strip()
    match = _TIME_OF_DAY.fullmatch(word)
    if match is None:
        raise ValueProblem(f"{shown(word)} is not a time of day", "write it as HH:MM, e.g. 08:00 or 21:30")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueProblem(f"{shown(word)} is not a time of day", "times go from 00:00 to 23:59")
    return hour, minute


@cache
def _timezone_names() -> tuple[str, ...]:
    # Reading the whole database is slow; it is done only to suggest a name after a mistake.
    return tuple(sorted(available_timezones()))


def parse_timezone(text: str) -> str:
    """An IANA timezone name (``UTC``, ``Europe/Berlin``), checked against the timezone database."""
    word = text.strip()
    if word == "UTC":
        return word
    if _TIMEZONE_NAME.fullmatch(word):
        try:
            ZoneInfo(word)
            return word
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # not a zone: fall through to the diagnostic with a suggestion
    hint = suggest(word, _timezone_names() + ("UTC",)) or "use a name like UTC, Europe/Berlin or America/New_York"
    raise ValueProblem(f"{shown(word)} is not a timezone name", hint)


def parse_cron(text: str) -> str:
    """A five-field cron expression (minute hour day month weekday), with its spaces normalised."""
    expression = " ".join(text.split())
    fields = "the five fields are minute, hour, day of month, month and day of week"
    if len(expression.split(" ")) != 5 or not expression:
        raise ValueProblem(f"invalid cron expression {shown(text.strip())}",
                           f"write five fields, e.g. '0 */4 * * *': {fields}")
    # APScheduler (and asyncio with it) costs 30 ms to import: only files with `cron:` pay it
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=_dt_timezone.utc)
    except ValueError as error:
        reason = str(error).rstrip(".")
        raise ValueProblem(f"invalid cron expression {shown(expression)}",
                           reason[:1].lower() + reason[1:] + f"; {fields}") from None
    return expression


def decimal_of(number: int | float) -> Decimal:
    """A YAML number as a ``Decimal``, through its shortest text (never ``Decimal(float)``)."""
    return Decimal(str(number))


def parse_percent(text: str) -> Decimal:
    """``3%`` as the fraction ``Decimal('0.03')``."""
    match = _PERCENT.fullmatch(text.strip())
    if match is None:
        raise ValueProblem(f"{shown(text.strip())} is not a percent", "write it like 2%")
    return _decimal(match.group(1)) / 100


def parse_money(text: str) -> tuple[Decimal, str | None]:
    """``5000 usdt`` as ``(Decimal('5000'), 'USDT')``; a bare number has no coin (the settle coin)."""
    word = text.strip()
    if _PLAIN_NUMBER.fullmatch(word):
        return _decimal(word), None
    match = _MONEY.fullmatch(word)
    if match is None:
        raise ValueProblem(f"{shown(word)} is not an amount", "write a number and a coin, e.g. 5000 usdt")
    return _decimal(match.group(1)), match.group(2).upper()


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise ValueProblem(f"{shown(text)} is not a number") from None


def parse_symbol(text: str) -> str:
    """A Bybit symbol name such as ``BTCUSDT`` or ``1000PEPEUSDT``."""
    word = text.strip()
    if _SYMBOL.fullmatch(word):
        return word
    squeezed = re.sub(r"[^A-Za-z0-9]", "", word).upper()
    hint = f"did you mean '{squeezed}'?" if _SEPARATED.fullmatch(word) and _SYMBOL.fullmatch(squeezed) else \
        "Bybit symbols are written in capitals without separators, e.g. BTCUSDT"
    raise ValueProblem(f"{shown(word)} is not a Bybit symbol name", hint)

