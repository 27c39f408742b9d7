"""The readers of small values: what they accept, what they return, and what they say otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rulebot.lang import values
from rulebot.lang.values import ValueProblem


@pytest.mark.parametrize(("text", "canonical"), [
    ("1m", "1m"), ("15m", "15m"), ("60m", "1h"), ("240m", "4h"), ("720m", "12h"), ("D", "1d"), ("W", "1w"),
    ("M", "1M"), ("1M", "1M"), (" 5m ", "5m"),
])
def test_timeframes_and_their_aliases(text: str, canonical: str) -> None:
    assert values.parse_timeframe(text) == canonical


@pytest.mark.parametrize(("text", "hint"), [
    ("60", "write '1h'"), ("1H", "did you mean '1h'?"), ("7m", "Bybit offers 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w 1M"),
    ("1D", "did you mean '1d'?"),
])
def test_timeframes_bybit_does_not_offer(text: str, hint: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        values.parse_timeframe(text)
    assert caught.value.hint == hint


def test_durations() -> None:
    assert [values.parse_duration(t) for t in ("30s", "15m", "1h", "4h", "1d", "1w", "0s", "2 h")] == [
        30, 900, 3600, 14400, 86400, 604800, 0, 7200]
    for text, hint in (("15", "write '15s' or '15m'"), ("5 minutes", "write '5m'"), ("1.5h", "use a smaller unit, e.g. 90m for 1.5h"),
                       ("1M", "use days, e.g. 30d"), ("soon", "write a number and a unit: 30s, 15m, 1h, 1d or 1w")):
        with pytest.raises(ValueProblem) as caught:
            values.parse_duration(text)
        assert caught.value.hint == hint, text
    with pytest.raises(ValueProblem):
        values.parse_duration("99999999999w")


def test_times_of_day() -> None:
    assert [values.parse_time_of_day(t) for t in ("08:00", "8:30", "23:59", "00:00")] == [(8, 0), (8, 30), (23, 59), (0, 0)]
    for text in ("24:00", "12:60", "8", "8am", "08:00:00", ""):
        with pytest.raises(ValueProblem):
            values.parse_time_of_day(text)


def test_timezones() -> None:
    assert values.parse_timezone("UTC") == "UTC"
    assert values.parse_timezone("America/New_York") == "America/New_York"
    for text, hint in (("Europe/berlin", "did you mean 'Europe/Berlin'?"), ("utc", "did you mean 'UTC'?")):
        with pytest.raises(ValueProblem) as caught:
            values.parse_timezone(text)
        assert caught.value.hint == hint
    for text in ("America", "../etc/passwd", "/etc/passwd", "", "a\x00b"):
        with pytest.raises(ValueProblem):
            values.parse_timezone(text)


def test_cron() -> None:
    assert values.parse_cron(" 0  */4 * * * ") == "0 */4 * * *"
    assert values.parse_cron("30 8 * * mon-fri") == "30 8 * * mon-fri"
    for text in ("", "* * * *", "61 * * * *", "*/0 * * * *", "* * * * * *", "a b c d e"):
        with pytest.raises(ValueProblem) as caught:
            values.parse_cron(text)
        assert caught.value.message.startswith("invalid cron expression")


def test_percent_money_and_symbols() -> None:
    assert values.parse_percent("3%") == Decimal("0.03")
    assert values.parse_percent("0.05 %") == Decimal("0.0005")
    assert values.parse_money("5000 usdt") == (Decimal("5000"), "USDT")
    assert values.parse_money("0.5btc") == (Decimal("0.5"), "BTC")
    assert values.parse_money("200") == (Decimal("200"), None)
    for bad in ("lots", "5000 usdt extra", "usdt 5000"):
        with pytest.raises(ValueProblem):
            values.parse_money(bad)
    assert values.parse_symbol("1000PEPEUSDT") == "1000PEPEUSDT"
    assert values.parse_symbol("BTC-26DEC25") == "BTC-26DEC25"
    with pytest.raises(ValueProblem) as caught:
        values.parse_symbol("btc/usdt")
    assert caught.value.hint == "did you mean 'BTCUSDT'?"
