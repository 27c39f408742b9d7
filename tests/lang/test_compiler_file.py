"""Compiling whole rule files: rules per symbol, triggers, feeds, actions and their values, rule state."""

from __future__ import annotations

import json
import math

import pytest

from rulebot.lang.compile_actions import format_value, short_number
from rulebot.lang.compiled import (
    Bindings,
    CompiledCancel,
    CompiledClose,
    CompiledFile,
    CompiledHalt,
    CompiledNotify,
    CompiledOrder,
    CompiledPause,
    CompiledSet,
    CompileError,
    Feed,
    Trigger,
)
from rulebot.lang.compiler import compile_file
from rulebot.lang.kinds import Kind
from rulebot.lang.lint import FileAnalysis, analyze_text
from rulebot.market.indicator_spec import IndicatorSpec
from rulebot.market.state import MarketState
from rulebot.model.clock import SimClock
from rulebot.model.enums import OrderType, Side, TimeInForce, TriggerMode
from rulebot.model.events import KlineUpdate

T0 = 1_717_200_000_000  # 2024-06-01 00:00 UTC, a Saturday
MIN = 60_000
NAN = math.nan


class Account:
    def __init__(self) -> None:
        for name in ("position", "long_size", "short_size", "position_size", "entry_price", "liq_price", "upnl",
                     "upnl_pct", "leverage", "balance", "equity", "available", "open_orders",
                     "time_in_position", "bars_in_position", "pnl_today"):
            setattr(self, name, 0.0)


class World:
    def __init__(self) -> None:
        self.market = MarketState(history=600)
        self.accounts = {"BTCUSDT": Account(), "ETHUSDT": Account()}
        self.clock = SimClock(T0)
        self.bindings = Bindings(self.market, self.accounts.__getitem__, self.clock, "UTC",  # type: ignore[arg-type]
                                 lambda s: 0.5 if s == "BTCUSDT" else 0.01)

    def compile(self, text: str, **kw: object) -> CompiledFile:
        return compile_file(analysis(text), self.bindings, **kw)  # type: ignore[arg-type]

    def klines(self, symbol: str, closes: list[float], tf: str = "1m", start: int = T0 - 120 * MIN) -> None:
        step = {"1m": MIN, "5m": 5 * MIN, "1h": 60 * MIN}[tf]
        for i, c in enumerate(closes):
            self.market.apply(KlineUpdate(symbol, tf, start + (i + 1) * step, 0, start + i * step, c, c, c, c, 1.0, True))


def analysis(text: str) -> FileAnalysis:
    result = analyze_text(text, "test.yaml")
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors or "broken" in text, errors
    return result


HEAD = "symbol: [BTCUSDT, ETHUSDT]\ntimeframe: 1m\nrisk:\n  max_position: 0.05\nrules:\n"


@pytest.fixture
def world() -> World:
    return World()


# --- rules, order, fields, triggers -------------------------------------------------------------------


FILE = HEAD + """\
  - name: dip
    when: rsi(14) < 30 and close(1h) > ema(50, 1h) and position is flat
    then: buy 0.01 limit bid1 - 0.1%
    cooldown: 15m
    priority: 2
  - name: live
    when: price crosses above mark_price + 1% and position > 0 and hour >= 8
    then: close market
    trigger: level
  - name: scheduled
    every: 1h
    then: cancel orders
  - name: off
    when: price > 1
    then: notify "x"
    enabled: false
  - name: memory
    when: (position > 0 for 3 bars) or (price > 5 for 5m)
    then: notify "held"
  - name: at times
    at: ["08:00", "20:30"]
    when: funding_rate > 0.05%
    then: notify "funding"
"""


def test_one_rule_per_enabled_rule_and_symbol_in_file_order(world: World) -> None:
    compiled = world.compile(FILE)
    assert [(r.name, r.symbol) for r in compiled] == [
        (n, s) for s in ("BTCUSDT", "ETHUSDT") for n in ("dip", "live", "scheduled", "memory", "at times")]
    assert len(compiled) == 10 and compiled[0] is compiled.rules[0]
    dip, live, scheduled, _, at_times = compiled.rules[:5]
    assert (dip.index, dip.priority, dip.cooldown_ms, dip.trigger_mode) == (0, 2, 900_000, TriggerMode.EDGE)
    assert live.trigger_mode is TriggerMode.LEVEL and live.cooldown_ms is None
    assert (scheduled.every_s, scheduled.condition, scheduled.scheduled) == (3600, None, True)
    assert at_times.at == ((8, 0), (20, 30)) and at_times.condition is not None and at_times.triggers == ()
    assert all(r.enabled for r in compiled)


def test_triggers_follow_what_the_condition_reads(world: World) -> None:
    dip, live, scheduled, memory, at_times = world.compile(FILE).rules[:5]
    assert dip.triggers == (Trigger("bar", "1m"), Trigger("bar", "1h"))       # a bar rule: bar closes only
    assert live.triggers == (Trigger("market", None), Trigger("account", None), Trigger("minute", None))
    assert scheduled.triggers == () and at_times.triggers == ()
    assert set(memory.triggers) == {Trigger("account", None), Trigger("market", None), Trigger("bar", "1m"),
                                    Trigger("minute", None)}


def test_each_symbol_reads_its_own_fields(world: World) -> None:
    compiled = world.compile(HEAD + "  - when: bid1 > 100 and position == 0\n    then: notify \"x\"\n")
    btc, eth = compiled.rules
    world.market.live_fields("BTCUSDT").set_quotes(150.0, 1.0, 151.0, 1.0)
    world.market.live_fields("ETHUSDT").set_quotes(50.0, 1.0, 51.0, 1.0)
    assert btc.condition is not None and eth.condition is not None
    assert (btc.condition(), eth.condition()) == (True, False)
    world.accounts["BTCUSDT"].position = 0.01
    assert (btc.condition(), eth.condition()) == (False, False)


def test_rules_with_errors_are_left_out_and_an_unreadable_file_is_refused(world: World) -> None:
    compiled = world.compile(HEAD + "  - when: rsii(14) < 30\n    then: notify \"broken\"\n"
                                    "  - when: price > 1\n    then: notify \"ok\"\n")
    assert [r.index for r in compiled] == [1, 1]
    with pytest.raises(CompileError):
        compile_file(analyze_text("rules: [", "broken.yaml"), world.bindings)


def test_text_hash_changes_only_with_the_rule(world: World) -> None:
    first = world.compile(FILE)
    again = world.compile(FILE)
    edited = world.compile(FILE.replace("rsi(14) < 30", "rsi(14) < 25"))
    retimed = world.compile(FILE.replace("timeframe: 1m", "timeframe: 5m"))
    assert [r.text_hash for r in first] == [r.text_hash for r in again]
    assert first[0].text_hash != edited[0].text_hash
    assert [r.text_hash for r in first if r.name != "dip"] == [r.text_hash for r in edited if r.name != "dip"]
    assert first[1].text_hash != retimed[1].text_hash
    assert first[0].text_hash == first[5].text_hash     # the same rule on the other symbol


# --- feeds ----------------------------------------------------------------------------------------------


def test_feeds_aggregate_higher_timeframes_from_the_lowest(world: World) -> None:
    compiled = world.compile(FILE)
    checked = analysis(FILE).rules[0].checked
    assert checked is not None
    assert compiled.feeds == (
        Feed("BTCUSDT", "1m", None, checked.warmup_for("1m")),
        Feed("BTCUSDT", "1h", "1m", checked.warmup_for("1h")),
        Feed("ETHUSDT", "1m", None, checked.warmup_for("1m")),
        Feed("ETHUSDT", "1h", "1m", checked.warmup_for("1h")),
    )
    assert compiled.fed_timeframes("BTCUSDT") == ("1m",)
    assert compiled.feeds[1].source_bars == (checked.warmup_for("1h") + 1) * 60
    assert world.market.candles("BTCUSDT", "1h").source == "1m"


def test_an_aggregated_series_closes_from_the_fed_klines(world: World) -> None:
    compiled = world.compile(HEAD + "  - when: close(1h) > 100 and close > 0\n    then: notify \"x\"\n")
    rule = compiled[0]
    assert rule.condition is not None
    world.klines("BTCUSDT", [90.0] * 59)
    assert rule.condition() is None
    world.klines("BTCUSDT", [101.0], start=T0 - 61 * MIN)    # the 60th minute closes the hour
    assert rule.condition() is True


def test_feed_timeframe_and_timeframes_that_do_not_divide(world: World) -> None:
    five = world.compile(HEAD + "  - when: close(5m) > 1 and close(3m) > 1\n    then: notify \"x\"\n",
                         feed_timeframe="1m")
    assert [(f.timeframe, f.aggregate_from) for f in five.feeds if f.symbol == "BTCUSDT"] == [
        ("1m", None), ("3m", "1m"), ("5m", "1m")]
    other = World()
    odd = other.compile(HEAD + "  - when: close(5m) > 1 and close(3m) > 1\n    then: notify \"x\"\n")
    assert [(f.timeframe, f.aggregate_from) for f in odd.feeds if f.symbol == "BTCUSDT"] == [
        ("3m", None), ("5m", None)]                         # 5m is no multiple of 3m: fed itself


def test_an_existing_series_keeps_its_wiring(world: World) -> None:
    world.market.candles("BTCUSDT", "1h")                   # say, history loaded before compiling
    compiled = world.compile(FILE)
    assert Feed("BTCUSDT", "1h", None, compiled.feeds[1].warmup_bars) in compiled.feeds
    assert Feed("ETHUSDT", "1h", "1m", compiled.feeds[1].warmup_bars) in compiled.feeds


def test_indicator_handles_are_created_with_their_history(world: World) -> None:
    world.compile(HEAD + "  - when: rsi(14)[3] > 50 or macd() crosses above macd_signal()\n    then: notify \"x\"\n")
    rsi = world.market.indicator("BTCUSDT", IndicatorSpec.make("rsi", (14,), "1m"), 1)
    macd = world.market.indicator("BTCUSDT", IndicatorSpec.make("macd", (), "1m"), 1)
    assert rsi.lookback >= 3 and macd.lookback >= 1


# --- actions ----------------------------------------------------------------------------------------------


ACTIONS = HEAD + """\
  - name: order
    when: position == 0
    then: buy 100 usdt limit bid1 - 0.1% tp 2% sl ema(3) trail 5 ticks post only expire 5m tag "dip"
  - name: more orders
    when: position == 0
    then: 'buy 10% equity, sell 0.5 btc ioc reduce only, buy 0.01 limit 65000 fok tp 70000 sl 60000 trail bid1 - ask1 + 1'
  - name: close
    when: position > 0
    then: 'close long 50% limit ask1 + 2 ticks, close market, cancel buys, pause, halt'
  - name: settings
    every: 1h
    then: 'set leverage 5, set mode hedge, set margin cross, set tpsl partial, set tp 2%, set sl 64000, set trail 10 ticks'
"""


def test_order_actions_and_their_values(world: World) -> None:
    rules = world.compile(ACTIONS).rules
    world.market.live_fields("BTCUSDT").set_quotes(1000.0, 1.0, 1001.0, 1.0)
    world.klines("BTCUSDT", [10.0, 20.0, 30.0])
    order = rules[0].actions[0]
    assert isinstance(order, CompiledOrder)
    assert (order.side, order.order_type, order.qty_basis, order.tif) == (Side.BUY, OrderType.LIMIT, "", TimeInForce.POST_ONLY)
    assert (order.post_only, order.reduce_only, order.expire_s, order.tag) == (True, False, 300, "dip")
    assert (order.qty.kind, order.qty.coin, order.qty.fn()) == ("money", "usdt", 100.0)
    assert order.price is not None and order.price.kind == "price" and order.price.fn() == pytest.approx(999.0)
    assert order.tp is not None and (order.tp.kind, order.tp.fn()) == ("percent", 0.02)
    ema = world.market.indicator("BTCUSDT", IndicatorSpec.make("ema", (3,), "1m"), 1).value
    assert order.sl is not None and order.sl.kind == "price" and order.sl.fn() == ema and ema == ema
    assert order.trail is not None and (order.trail.kind, order.trail.fn()) == ("ticks", 5.0)

    share, sell, fok = rules[1].actions
    assert isinstance(share, CompiledOrder) and isinstance(sell, CompiledOrder) and isinstance(fok, CompiledOrder)
    assert (share.qty.kind, share.qty_basis, share.qty.fn(), share.order_type) == ("percent", "equity", 0.1,
                                                                                  OrderType.MARKET)
    assert (sell.side, sell.qty.kind, sell.qty.coin, sell.tif, sell.reduce_only) == (
        Side.SELL, "money", "btc", TimeInForce.IOC, True)
    assert (fok.qty.kind, fok.qty.fn(), fok.tif, fok.post_only) == ("number", 0.01, TimeInForce.FOK, False)
    assert fok.tp is not None and fok.sl is not None and fok.trail is not None
    assert (fok.tp.kind, fok.tp.fn(), fok.sl.fn()) == ("price", 70000.0, 60000.0)
    assert (fok.trail.kind, fok.trail.fn()) == ("price", 0.0)      # bid1 - ask1 + 1


def test_close_cancel_pause_halt_and_settings(world: World) -> None:
    rules = world.compile(ACTIONS).rules
    world.market.live_fields("BTCUSDT").set_quotes(1000.0, 1.0, 1001.0, 1.0)
    partial, whole, cancel, pause, halt = rules[2].actions
    assert isinstance(partial, CompiledClose) and isinstance(whole, CompiledClose)
    assert (partial.side, partial.fraction, partial.order_type) == ("long", 0.5, OrderType.LIMIT)
    assert partial.price is not None and partial.price.fn() == 1002.0      # 2 ticks of 0.5
    assert (whole.side, whole.fraction, whole.order_type, whole.price) == ("", None, OrderType.MARKET, None)
    assert cancel == CompiledCancel("buys") and isinstance(pause, CompiledPause) and isinstance(halt, CompiledHalt)
    settings = rules[3].actions
    assert all(isinstance(s, CompiledSet) for s in settings)
    shown = [(s.setting, s.word, s.value.kind if s.value else None, s.value.fn() if s.value else None)
             for s in settings if isinstance(s, CompiledSet)]
    assert shown == [("leverage", None, "number", 5.0), ("mode", "hedge", None, None), ("margin", "cross", None, None),
                     ("tpsl", "partial", None, None), ("tp", None, "percent", 0.02), ("sl", None, "price", 64000.0),
                     ("trail", None, "ticks", 10.0)]


def test_values_of_actions_are_unknown_without_data(world: World) -> None:
    order = world.compile(ACTIONS).rules[0].actions[0]
    assert isinstance(order, CompiledOrder) and order.price is not None and order.sl is not None
    assert math.isnan(order.price.fn()) and math.isnan(order.sl.fn())


def test_notify_renders_values_now(world: World) -> None:
    text = HEAD + ("  - when: position == 0\n    then: 'notify \"p={price} s={spread_pct} r={rsi(3)} "
                   "d={weekday} t={time} h={time_in_position} up={position > 0} x={bid1 / (ask1 - ask1)} {{literal}}\"'\n")
    rule = world.compile(text).rules[0]
    notify = rule.actions[0]
    assert isinstance(notify, CompiledNotify)
    assert notify.render() == "p=unknown s=unknown r=unknown d=sat t=00:00 h=0s up=false x=unknown {literal}"
    live = world.market.live_fields("BTCUSDT")
    live.set_quotes(64000.0, 1.0, 64032.0, 1.0)
    live.set_last(64012.345)
    world.klines("BTCUSDT", [10.0, 11.0, 12.0, 13.0, 12.5])
    world.accounts["BTCUSDT"].time_in_position = 3725.0
    world.accounts["BTCUSDT"].position = 1.0
    world.clock.advance_to(T0 + 8 * 60 * MIN + 5 * MIN)
    rsi = world.market.indicator("BTCUSDT", IndicatorSpec.make("rsi", (3,), "1m"), 1).value
    assert notify.render() == (f"p=64012.35 s=0.04999% r={short_number(rsi)} d=sat t=08:05 h=1h 2m 5s up=true "
                               "x=unknown {literal}")


@pytest.mark.parametrize(("x", "kind", "text"), [
    (64123.456, Kind.PRICE, "64123.46"), (30.0, Kind.NUMBER, "30"), (0.000012345, Kind.PRICE, "0.00001234"),
    (-250.5, Kind.MONEY, "-250.5"), (0.0005, Kind.PERCENT, "0.05%"), (0.0, Kind.NUMBER, "0"),
    (NAN, Kind.PRICE, "unknown"), (None, Kind.CONDITION, "unknown"), (True, Kind.CONDITION, "true"),
    (90.0, Kind.DURATION, "1m 30s"), (510.0, Kind.TIME_OF_DAY, "08:30"), (6.0, Kind.WORD, "sun"),
    (float("inf"), Kind.NUMBER, "inf"),
])
def test_values_are_formatted_for_people(x: object, kind: Kind, text: str) -> None:
    assert format_value(x, kind) == text


# --- rule state -----------------------------------------------------------------------------------------


def test_rule_state_survives_a_reload_through_json(world: World) -> None:
    text = HEAD + "  - name: cross\n    when: price crosses above 100 or (price > 1 for 5m)\n    then: notify \"x\"\n"
    rule = world.compile(text).rules[0]
    assert rule.condition is not None
    live = world.market.live_fields("BTCUSDT")
    live.set_last(99.0)
    assert rule.condition() is None
    saved = json.loads(json.dumps(rule.snapshot_state()))
    assert set(saved) == {"m0.ts", "m0.pa", "m0.pb", "m0.a", "m0.b", "m1.true_since", "m1.open", "m1.known_since"}
    assert saved["m0.pa"] is None and saved["m0.a"] == 99.0            # NaN is saved as None

    reloaded = world.compile(text).rules[0]
    reloaded.restore_state(saved)
    fresh = world.compile(text).rules[0]
    world.clock.advance_to(T0 + MIN)
    live.set_last(101.0)
    assert reloaded.condition is not None and fresh.condition is not None
    assert reloaded.condition() is True       # 99 -> 101 crosses, remembered across the reload
    assert fresh.condition() is None          # a fresh rule has no previous evaluation
    world.clock.advance_to(T0 + 6 * MIN)
    assert reloaded.condition() is True       # true since the evaluation before the reload, 6 minutes ago
    assert reloaded.snapshot_state()["m1.true_since"] == T0
    reloaded.restore_state({"other.key": 1})  # keys of no memory are ignored
