"""The compiled conditions, construct by construct (LANGUAGE.md §2–§5), on hand-built market states."""

from __future__ import annotations

import ast as pyast
import json
import math
import re
from datetime import datetime, timezone

import pytest

from rulebot.lang import ast as A
from rulebot.lang import codegen
from rulebot.lang.compiled import ACCOUNT_FIELDS, Bindings, CompileError
from rulebot.lang.compiler import CompiledCondition, build_condition, compile_condition
from rulebot.lang.parser import parse
from rulebot.lang.source import Source
from rulebot.market.candles import CandleField
from rulebot.market.indicator_spec import IndicatorSpec
from rulebot.market.live import LIVE_FIELDS
from rulebot.market.state import MarketState
from rulebot.model.clock import SimClock
from rulebot.model.events import KlineUpdate

SYMBOL = "BTCUSDT"
T0 = 1_717_200_000_000  # 2024-06-01 00:00 UTC, a Saturday
MIN = 60_000
NAN = math.nan


class Account:
    def __init__(self) -> None:
        for name in ("position", "long_size", "short_size", "position_size", "entry_price", "liq_price", "upnl",
                     "upnl_pct", "leverage", "balance", "equity", "available", "open_orders",
                     "time_in_position", "bars_in_position", "pnl_today"):
            setattr(self, name, 0.0)


class Env:
    """A market, an account and a simulated clock; ``bar`` closes 1-minute bars."""

    def __init__(self, tz: str = "UTC", start_ms: int = T0, tick: float = 0.5) -> None:
        self.market = MarketState(history=100)
        self.account = Account()
        self.clock = SimClock(start_ms)
        self.bindings = Bindings(self.market, lambda s: self.account, self.clock, tz, lambda s: tick)  # type: ignore[arg-type,return-value]
        self.live = self.market.live_fields(SYMBOL)
        self.next_bar = start_ms - 100 * MIN

    def compile(self, text: str, **kw: object) -> CompiledCondition:
        node = parse(Source.contiguous("<test>", text), "condition").node
        assert isinstance(node, A.Expr.__args__), text  # type: ignore[attr-defined]
        return build_condition(node, SYMBOL, self.bindings, **kw)  # type: ignore[arg-type]

    def bar(self, close: float, open_: float | None = None, volume: float = 1.0, tf: str = "1m") -> None:
        o = close if open_ is None else open_
        step = {"1m": MIN, "5m": 5 * MIN}[tf]
        self.market.apply(KlineUpdate(SYMBOL, tf, self.next_bar + step, 0, self.next_bar, o, max(o, close),
                                      min(o, close), close, volume, True))
        self.next_bar += step

    def at(self, ms: int) -> None:
        self.clock.advance_to(ms)


def run(c: CompiledCondition) -> bool | None:
    return c.fn()


@pytest.fixture
def env() -> Env:
    return Env()


# --- live fields, kinds, unknown -------------------------------------------------------------------


def test_live_rule_reads_quotes_and_position(env: Env) -> None:
    c = env.compile("bid1 > 50000 and spread_pct < 0.05% and position == 0")
    assert run(c) is None                       # no quotes yet: unknown
    env.live.set_quotes(50001.0, 1.0, 50002.0, 1.0)
    assert run(c) is True
    env.account.position = 0.01
    assert run(c) is False
    env.account.position = 0.0
    env.live.set_quotes(50001.0, 1.0, 50201.0, 1.0)  # spread 0.4%
    assert run(c) is False


@pytest.mark.parametrize(("text", "expected"), [
    ("bid1 > 5 or position == 0", True),        # unknown or true
    ("bid1 > 5 and position == 1", False),      # unknown and false
    ("bid1 > 5 and position == 0", None),
    ("bid1 > 5 or position == 1", None),
    ("not (bid1 > 5)", None),
    ("bid1 != 5", None),
    ("bid1 == bid1", None),
    ("not (position != 0)", True),
])
def test_three_valued_logic(env: Env, text: str, expected: bool | None) -> None:
    assert run(env.compile(text)) is expected


def test_division_by_zero_is_unknown(env: Env) -> None:
    env.live.set_quotes(100.0, 1.0, 101.0, 1.0)
    assert run(env.compile("bid1 / (ask1 - ask1) > 1")) is None
    assert run(env.compile("(ask1 - ask1) / bid1 == 0")) is True
    assert run(env.compile("bid1 / position > 0")) is None


def test_percent_on_a_price_is_a_relative_offset(env: Env) -> None:
    env.live.mark_price = 200.0
    env.live.set_last(201.5)
    assert run(env.compile("last > mark_price + 1%")) is False   # 202
    assert run(env.compile("last > mark_price - 1%")) is True    # 198
    assert run(env.compile("last < mark_price + 1% + 1%")) is True   # chains: 200 × 1.01 × 1.01
    env.live.set_last(202.01)
    assert run(env.compile("last < mark_price + 1% + 1%")) is True   # 204.02
    assert run(env.compile("last > mark_price + 1% + 1%")) is False


def test_percent_plus_percent_is_plain_arithmetic(env: Env) -> None:
    env.live.set_quotes(99.9, 1.0, 100.1, 1.0)   # spread_pct 0.2%
    assert run(env.compile("spread_pct < 0.15% + 0.1%")) is True
    assert run(env.compile("spread_pct < 0.15% + 0.01%")) is False


def test_ticks_use_the_tick_size(env: Env) -> None:
    env.live.set_quotes(100.0, 1.0, 100.9, 1.0)
    assert run(env.compile("ask1 < bid1 + 2 ticks")) is True    # 101.0
    assert run(env.compile("ask1 < bid1 + 1 ticks")) is False   # 100.5


def test_money_durations_and_numbers_compare_as_numbers(env: Env) -> None:
    env.account.pnl_today = -250.0
    env.account.upnl = 120.0
    env.account.time_in_position = 4000.0
    assert run(env.compile("pnl_today < -200")) is True
    assert run(env.compile("upnl > 100 usdt")) is True
    assert run(env.compile("time_in_position > 1h")) is True
    assert run(env.compile("time_in_position > 1h + 10m")) is False


def test_a_huge_number_is_infinite_not_an_error(env: Env) -> None:
    env.live.set_last(1e300)
    assert run(env.compile("price < 1e999")) is True


# --- candles and indicators -------------------------------------------------------------------------


def test_candle_fields_and_history(env: Env) -> None:
    c = env.compile("close > open and close[1] < 100")
    assert run(c) is None
    env.bar(99.0)
    env.bar(105.0, open_=101.0)
    assert run(c) is True
    env.bar(104.0, open_=103.0)                 # close[1] is 105
    assert run(c) is False


def test_candle_of_another_timeframe_aggregated(env: Env) -> None:
    env.market.candles(SYMBOL, "5m", aggregate_from="1m")
    env.next_bar = T0 - 100 * MIN               # a multiple of 5 minutes
    c = env.compile("close(5m) > 100")
    for close in (90.0, 91.0, 92.0, 93.0):
        env.bar(close)
    assert run(c) is None
    env.bar(101.0)                              # the 5m bar closes at 101
    assert run(c) is True
    assert env.market.candles(SYMBOL, "5m").close == 101.0


def test_indicator_reads_the_handle_with_history(env: Env) -> None:
    c = env.compile("sma(3) > sma(3)[1] and sma(3)[1] > 0")
    for close in (10.0, 11.0, 12.0):
        env.bar(close)
    assert run(c) is None                       # sma(3)[1] needs a fourth bar
    env.bar(13.0)
    assert run(c) is True
    handle = env.market.indicator(SYMBOL, IndicatorSpec.make("sma", (3,), "1m"), 1)
    assert handle.value == pytest.approx(12.0) and handle.at(1) == pytest.approx(11.0)
    env.bar(5.0)
    assert run(c) is False


def test_indicator_handles_keep_the_history_the_rule_reads(env: Env) -> None:
    env.compile("rsi(14)[7] > 50 or ema(5) rising 9")
    assert env.market.indicator(SYMBOL, IndicatorSpec.make("rsi", (14,), "1m"), 1).lookback >= 7
    assert env.market.indicator(SYMBOL, IndicatorSpec.make("ema", (5,), "1m"), 1).lookback >= 9


def test_arithmetic_read_back_shifts_every_bar_read(env: Env) -> None:
    for close, open_ in ((10.0, 8.0), (11.0, 11.5), (12.0, 12.0)):
        env.bar(close, open_=open_)
    assert run(env.compile("(close - open)[2] == 2")) is True
    assert run(env.compile("(close - open)[1] < 0")) is True
    assert run(env.compile("close[1][1] == 10")) is True


# --- crosses, rising, for -----------------------------------------------------------------------------


def test_crosses_in_a_bar_rule_reads_the_previous_bar(env: Env) -> None:
    above = env.compile("close crosses above 100")
    below = env.compile("close crosses below 100")
    either = env.compile("close crosses 100")
    env.bar(99.0)
    assert run(above) is False                  # close[1] unknown, but 99 is not above
    env.bar(101.0)
    assert (run(above), run(below), run(either)) == (True, False, True)
    assert run(above) is True                   # evaluating again at the same bar changes nothing
    env.bar(102.0)
    assert (run(above), run(either)) == (False, False)
    env.bar(100.0)
    assert (run(below), run(either)) == (False, False)   # 100 is not below 100
    env.bar(99.0)
    assert (run(below), run(either)) == (True, True)


def test_crosses_of_live_values_compares_with_the_previous_evaluation(env: Env) -> None:
    c = env.compile("price crosses above 100")
    env.live.set_last(101.0)
    assert run(c) is None                       # no previous evaluation
    env.at(T0 + 1000)
    env.live.set_last(99.0)
    assert run(c) is False
    env.at(T0 + 2000)
    env.live.set_last(101.0)
    assert run(c) is True
    assert run(c) is True                       # same instant: still against the evaluation before it
    env.at(T0 + 3000)
    env.live.set_last(102.0)
    assert run(c) is False


def test_crosses_memory_is_kept_even_when_and_short_circuits(env: Env) -> None:
    c = env.compile("position > 0 and price crosses above 100")
    env.live.set_last(150.0)
    run(c)
    env.at(T0 + 1000)
    env.live.set_last(90.0)
    assert run(c) is False
    env.at(T0 + 2000)
    env.account.position = 1.0
    env.live.set_last(110.0)
    assert run(c) is True                       # the 90 seen while position was 0 counts


def test_scheduled_crosses_compares_with_the_previous_scheduled_evaluation(env: Env) -> None:
    c = env.compile("close crosses above 100", scheduled=True)
    env.bar(99.0)
    env.bar(101.0)
    assert run(c) is None                       # bars show a cross, but there was no evaluation before
    env.at(T0 + 3_600_000)
    env.bar(102.0)
    assert run(c) is False                      # 101 at the previous evaluation was already above


def test_crosses_of_a_higher_timeframe_in_a_lower_bar_rule_uses_memory(env: Env) -> None:
    c = env.compile("close(5m) crosses above 100 and close > 0")
    assert "M" in c.source and len(c.memories) == 1


@pytest.mark.parametrize(("closes", "rising", "falling"), [
    ((1.0, 2.0, 3.0, 4.0), True, False),
    ((1.0, 2.0, 2.0, 4.0), False, False),
    ((4.0, 3.0, 2.0, 1.0), False, True),
    ((5.0, 1.0, 2.0, 3.0, 4.0), True, False),     # n + 1 values: the older ones do not count
    ((5.0, 1.0, 2.0, 3.0), False, False),
])
def test_rising_and_falling(env: Env, closes: tuple[float, ...], rising: bool, falling: bool) -> None:
    up, down = env.compile("close rising 3"), env.compile("close falling 3")
    for x in closes:
        env.bar(x)
    assert (run(up), run(down)) == (rising, falling)


def test_rising_without_enough_history_is_unknown(env: Env) -> None:
    c = env.compile("close rising 3")
    env.bar(1.0)
    env.bar(2.0)
    env.bar(3.0)
    assert run(c) is None
    env.bar(2.5)
    assert run(c) is False


def test_for_bars_reads_history_of_bar_conditions(env: Env) -> None:
    c = env.compile("close > 100 for 3 bars")
    assert not c.memories
    env.bar(101.0)
    env.bar(102.0)
    assert run(c) is None
    env.bar(103.0)
    assert run(c) is True
    env.bar(99.0)
    assert run(c) is False
    for _ in range(2):
        env.bar(105.0)
    assert run(c) is False
    env.bar(105.0)
    assert run(c) is True


def test_for_bars_of_a_live_condition_records_each_bar_close(env: Env) -> None:
    c = env.compile("position > 0 for 3 bars")
    assert len(c.memories) == 1

    def bar_then_run(position: float) -> bool | None:
        env.account.position = position
        env.bar(1.0)
        return run(c)

    assert [bar_then_run(1.0), bar_then_run(1.0)] == [None, None]   # two records of three
    assert run(c) is None                       # no new bar: no new record
    assert bar_then_run(1.0) is True
    env.account.position = 0.0
    assert run(c) is False                      # not held now
    env.account.position = 1.0
    assert run(c) is True                       # the three bar closes still held
    assert [bar_then_run(0.0), bar_then_run(1.0), bar_then_run(1.0), bar_then_run(1.0)] == [False, False, False, True]
    env.bar(1.0)                                # a bar closes without an evaluation: unknown
    assert [bar_then_run(1.0), bar_then_run(1.0), bar_then_run(1.0)] == [None, None, True]


def test_for_duration_needs_the_condition_held_at_every_evaluation(env: Env) -> None:
    c = env.compile("price > 100 for 5m")
    env.live.set_last(101.0)
    assert run(c) is None                       # nothing known before the first evaluation
    env.at(T0 + 4 * MIN)
    assert run(c) is None
    env.at(T0 + 5 * MIN)
    assert run(c) is True                       # held since exactly 5 minutes
    env.at(T0 + 6 * MIN)
    env.live.set_last(99.0)
    assert run(c) is False
    env.at(T0 + 7 * MIN)
    env.live.set_last(101.0)
    assert run(c) is False                      # a false evaluation 1 minute ago
    env.at(T0 + 12 * MIN - 1)
    assert run(c) is False
    env.at(T0 + 12 * MIN)
    assert run(c) is True
    env.live.set_last(NAN)
    env.at(T0 + 13 * MIN)
    assert run(c) is None                       # unknown now
    env.live.set_last(101.0)
    env.at(T0 + 14 * MIN)
    assert run(c) is None                       # an unknown evaluation inside the window
    env.at(T0 + 18 * MIN)
    assert run(c) is None                       # true since 14 minutes only
    env.at(T0 + 19 * MIN)
    assert run(c) is True


def test_for_applies_to_a_parenthesised_condition(env: Env) -> None:
    c = env.compile("(close > open and volume > 5) for 2 bars")
    env.bar(10.0, open_=9.0, volume=6.0)
    env.bar(11.0, open_=10.0, volume=6.0)
    assert run(c) is True
    env.bar(12.0, open_=11.0, volume=1.0)
    assert run(c) is False


# --- position and time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("position", "long", "short", "flat", "not_flat"), [
    (0.5, True, False, False, True),
    (-0.5, False, True, False, True),
    (0.0, False, False, True, False),
    (NAN, None, None, None, None),
])
def test_position_words(env: Env, position: float, long: object, short: object, flat: object, not_flat: object) -> None:
    env.account.position = position
    got = [run(env.compile(f"position is {w}")) for w in ("long", "short", "flat", "not flat")]
    assert got == [long, short, flat, not_flat]
    assert run(env.compile("position in [long, short]")) == (None if position != position else position != 0)


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


@pytest.mark.parametrize(("when_utc", "hour", "minute", "weekend"), [
    ("2024-06-01 07:30", 9, 30, True),          # Saturday, summer time (UTC+2)
    ("2024-01-05 23:30", 0, 30, True),          # Friday in UTC, Saturday 00:30 in Berlin (UTC+1)
    ("2024-03-31 00:59", 1, 59, True),          # Sunday, one minute before the change to summer time
    ("2024-03-31 01:00", 3, 0, True),           # 02:00 local does not exist: 03:00
    ("2024-04-01 06:00", 8, 0, False),          # Monday
])
def test_time_fields_in_the_files_timezone(when_utc: str, hour: int, minute: int, weekend: bool) -> None:
    env = Env(tz="Europe/Berlin", start_ms=utc(when_utc))
    assert run(env.compile(f"hour == {hour} and minute == {minute}")) is True
    assert run(env.compile("weekday is weekend")) is weekend
    assert run(env.compile("weekday is weekday")) is (not weekend)
    assert run(env.compile("weekday is not weekend")) is (not weekend)


@pytest.mark.parametrize(("local", "night", "day"), [
    ("22:00", True, False), ("23:30", True, False), ("01:59", True, False), ("02:00", True, False),
    ("02:01", False, False), ("08:00", False, True), ("20:00", False, True), ("20:01", False, False),
])
def test_time_between_wraps_midnight(local: str, night: bool, day: bool) -> None:
    hour, minute = map(int, local.split(":"))
    start = utc("2024-06-03 00:00") + ((hour - 2) % 24 * 60 + minute) * MIN   # Berlin is UTC+2 in June
    env = Env(tz="Europe/Berlin", start_ms=start)
    assert run(env.compile("time between 22:00 and 02:00")) is night
    assert run(env.compile("time between 08:00 and 20:00")) is day
    assert run(env.compile("time >= 08:00")) is (hour >= 8)


def test_weekday_lists_and_word_comparisons() -> None:
    env = Env(tz="UTC", start_ms=utc("2024-06-07 12:00"))   # a Friday
    assert run(env.compile("weekday in [mon, fri]")) is True
    assert run(env.compile("weekday in [tue, sat, sun]")) is False
    assert run(env.compile("weekday == fri")) is True
    assert run(env.compile("weekday != weekend")) is True
    env.at(utc("2024-06-08 12:00"))
    assert run(env.compile("weekday in [mon, fri]")) is False
    assert run(env.compile("weekday == sat")) is True


def test_local_time_follows_the_clock(env: Env) -> None:
    c = env.compile("hour == 0")
    assert run(c) is True
    env.at(T0 + 61 * MIN)
    assert run(c) is False


# --- memory, source, errors -------------------------------------------------------------------------


def _drive(env: Env, c: CompiledCondition, prices: list[float], start: int) -> list[bool | None]:
    out = []
    for i, p in enumerate(prices):
        env.at(T0 + (start + i) * MIN)
        env.live.set_last(p)
        env.account.position = 1.0 if p > 100 else 0.0
        env.bar(p)
        out.append(run(c))
    return out


def test_snapshot_and_restore_continue_where_the_memory_stopped() -> None:
    text = "(price crosses above 100 or position > 0 for 2 bars) and price > 99 for 3m"
    prices = [99.0, 101.0, 102.0, 99.5, 103.0, 104.0, 105.0, 99.0, 101.0, 102.0]
    whole_env = Env()
    whole = _drive(whole_env, whole_env.compile(text), prices, 0)
    assert {True, False} <= set(whole)

    first_env = Env()
    first = first_env.compile(text)
    head = _drive(first_env, first, prices[:5], 0)
    saved = json.loads(json.dumps([m.snapshot() for m in first.memories]))
    second = first_env.compile(text)               # the same market, a new compilation (a reload)
    for memory, state in zip(second.memories, saved):
        memory.restore(state)
    tail = _drive(first_env, second, prices[5:], 5)
    assert head + tail == whole

    fresh_env = Env()
    fresh = fresh_env.compile(text)
    _drive(fresh_env, fresh, prices[:5], 0)
    forgetful = fresh_env.compile(text)
    assert _drive(fresh_env, forgetful, prices[5:], 5) != whole[5:]   # without the memory it differs


def test_generated_source_uses_only_slot_and_vocabulary_names(env: Env) -> None:
    c = env.compile("rsi(14) < 30 and bid1 > ema(20) + 1% and weekday in [mon, sat] and close rising 2 "
                    "and price crosses above 5 and (position > 0 for 2 bars) and ask1 - bid1 > 2 ticks")
    tree = pyast.parse(c.source)
    names = {n.id for n in pyast.walk(tree) if isinstance(n, pyast.Name)}
    names |= {a.arg for n in pyast.walk(tree) if isinstance(n, pyast.arguments) for a in n.args}
    attributes = {n.attr for n in pyast.walk(tree) if isinstance(n, pyast.Attribute)}
    ours = re.compile(r"^(L|A|TM|TK|[SHM][0-9]+|_(t|d|w|m|c|f)[0-9]+|_run[0-9]+|_factory|k|NAN|INF|_trend|_all_bars|"
                      r"_time_between|True|False|None)$")
    assert all(ours.match(n) for n in names), names
    allowed = set(LIVE_FIELDS) | set(ACCOUNT_FIELDS) | {"value", "at", "step", "time", "hour", "minute", "weekday",
                                                        "open", "high", "low", "close", "volume"}
    assert attributes <= allowed
    assert not any(isinstance(n, pyast.Constant) and isinstance(n.value, str) for n in pyast.walk(tree))


def test_deep_expressions_compile(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "price / (" * 98 + "price" + ")" * 98 + " > 0.5"     # as deep as the parser allows
    c = env.compile(text)
    env.live.set_last(2.0)
    assert run(c) is True                       # 98 divisions of equal prices: 1
    env.live.set_last(NAN)
    assert run(c) is None
    env.live.set_last(0.0)
    assert run(c) is None                       # 0 / 0 is unknown


def test_deeper_trees_are_split_into_local_variables(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    expr: A.Expr = A.Name("price")
    for _ in range(120):                        # each division nests its divisor two parentheses deeper
        expr = A.BinOp("/", A.Name("price"), expr)
    cond = A.Compare(">", expr, A.Number("0.5"))
    fn = compile_condition(cond, SYMBOL, env.bindings)
    env.live.set_last(2.0)
    assert fn() is True
    monkeypatch.setattr(codegen, "MAX_DEPTH", 10_000)
    with pytest.raises(CompileError, match="too large"):   # without splitting, CPython refuses the source
        compile_condition(cond, SYMBOL, env.bindings)


@pytest.mark.parametrize("text", ["rsi(14) > 5m", "price is long", "bid1[1] > 3", "30 < rsi(14) < 70",
                                  "rsi(14) < 30%", "position == long", "rsi(0) < 3"])
def test_a_condition_the_checker_refuses_does_not_compile(env: Env, text: str) -> None:
    node = parse(Source.contiguous("<t>", text), "condition").node
    assert node is not None
    with pytest.raises(CompileError):
        compile_condition(node, SYMBOL, env.bindings)  # type: ignore[arg-type]


def test_candle_fields_read_the_series_slots(env: Env) -> None:
    env.bar(7.0, open_=6.0, volume=3.0)
    series = env.market.candles(SYMBOL, "1m")
    assert series.at(CandleField.CLOSE, 0) == 7.0
    assert run(env.compile("close == 7 and open == 6 and high == 7 and low == 6 and volume == 3")) is True
