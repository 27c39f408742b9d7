"""The engine loop live: one thread decides, other threads only enqueue; a full queue makes producers
wait (nothing dropped) and warns at most once a second; stops that wait for a fill are sent after it
by an exchange that cannot resolve them; bad input is counted and the engine goes on."""

from __future__ import annotations

import logging
import threading
from decimal import Decimal

import pytest
from engine_kit import (
    MINUTE,
    SYMBOL,
    T0,
    Inbox,
    StubExchange,
    Switch,
    buy,
    const,
    rule,
    say,
    stub_engine,
)

from rulebot.engine.scheduler import Job, LiveScheduler, make_trigger
from rulebot.exchange import ExchangeUnavailable
from rulebot.journal import EntryKind
from rulebot.market import Anomaly
from rulebot.model import (
    Event,
    Execution,
    KlineUpdate,
    LiveClock,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PlaceOrder,
    PositionUpdate,
    SetTradingStop,
    Shutdown,
    Side,
    TimerFired,
)


def kline(i: int, close: float = 100_000.0, **changes: object) -> KlineUpdate:
    start = T0 + i * MINUTE
    fields: dict[str, object] = dict(symbol=SYMBOL, timeframe="1m", ts_event_ms=start + MINUTE,
                                     ts_recv_ms=start + MINUTE, start_ms=start, open=close, high=close,
                                     low=close, close=close, volume=1.0, confirm=True)
    fields.update(changes)
    return KlineUpdate(**fields)  # type: ignore[arg-type]


def test_the_engine_thread_takes_events_from_other_threads_in_order() -> None:
    inbox = Inbox()
    exchange = StubExchange()
    seen: list[float] = []

    def cond() -> bool:
        seen.append(engine.market.candles(SYMBOL, "1m").close)
        return True

    engine, _ = stub_engine([rule("r", cond, [say("x")], level=True)], exchange, notifier=inbox)
    engine.start()
    thread = threading.Thread(target=engine.run, name="engine")
    thread.start()

    def produce(offset: int) -> None:
        for i in range(offset, 200, 2):
            engine.emit(kline(i, 100_000.0 + i))

    producers = [threading.Thread(target=produce, args=(k,)) for k in (0, 1)]
    for p in producers:
        p.start()
    for p in producers:
        p.join()
    engine.emit(Shutdown(0, 0, "test"))
    thread.join(timeout=30)
    assert not thread.is_alive()
    # the two producers raced; the engine took each bar once, and used those that came in time order
    assert len(seen) + engine.market.anomalies.count(Anomaly.OUT_OF_ORDER_BAR) == 200
    assert seen == sorted(seen)
    assert len(inbox.texts) == len(seen)
    assert [e.summary for e in engine.journal.entries(kind=EntryKind.EVENT)][-1].startswith("stop")


def test_a_full_queue_makes_producers_wait_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    exchange = StubExchange()
    calls = Switch(False)
    engine, _ = stub_engine([rule("r", calls)], exchange, queue_size=2)  # the producer outruns the engine
    engine.start()
    done = threading.Event()

    def produce() -> None:
        for i in range(20):
            engine.emit(kline(i))
        engine.emit(Shutdown(0, 0))
        done.set()

    with caplog.at_level(logging.WARNING, logger="rulebot.engine.inbox"):
        producer = threading.Thread(target=produce)
        producer.start()
        assert not done.wait(timeout=0.5)  # blocked: the queue is full and nothing takes from it
        engine.run()
        producer.join(timeout=30)
    assert done.is_set()
    assert calls.calls == 20  # nothing was dropped
    assert sum("queue_full" in r.getMessage() for r in caplog.records) == 1  # the clock stood still


def test_stops_that_wait_for_the_fill_are_sent_after_it_when_the_exchange_cannot_resolve_them() -> None:
    exchange = StubExchange(resolves_percent_stops=False)
    order = buy(0.01, tp=const(0.02, "percent"), trail=const(0.01, "percent"))
    engine, clock = stub_engine([rule("in", Switch(True), [order])], exchange)
    engine.start()
    engine.market.live_fields(SYMBOL).set_last(100_000.0)
    clock.advance_to(T0 + MINUTE)
    engine.process(kline(0))
    [placed] = [r for r in exchange.requests if isinstance(r, PlaceOrder)]
    assert placed.tp_pct == Decimal("2.00") and placed.trail_pct == Decimal("1.00")
    link, ts = placed.order_link_id, T0 + MINUTE
    for event in (
        OrderUpdate(SYMBOL, ts, ts, "o1", link, Side.BUY, OrderType.MARKET, OrderStatus.OPEN, "0.010", "0", "0"),
        Execution(SYMBOL, ts, ts, "e1", "o1", link, Side.BUY, "100050.3", "0.010", "0.55", False),
        PositionUpdate(SYMBOL, ts, ts, 0, 0.01, Side.BUY, 100_050.3, None, 10.0, 0.0),
        OrderUpdate(SYMBOL, ts, ts, "o1", link, Side.BUY, OrderType.MARKET, OrderStatus.FILLED, "0.010", "0",
                    "0.010"),
    ):
        engine.process(event)
    [stop] = [r for r in exchange.requests if isinstance(r, SetTradingStop)]
    assert stop.take_profit == Decimal("102051.3")  # 2% above the fill, rounded down toward it
    assert stop.trailing_stop == Decimal("1000.5")  # 1% of the entry, rounded down
    assert not engine.routes.slots[0].state.in_flight


def test_the_paper_exchange_resolves_percent_stops_itself() -> None:
    from rulebot.exchange.paper import PaperExchange

    assert PaperExchange.resolves_percent_stops is True


def test_a_malformed_event_is_counted_once_per_kind_and_the_engine_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    ok = Switch(True)
    engine, clock = stub_engine([rule("ok", ok, [say("x")], level=True)], StubExchange())
    engine.start()
    for i in range(3):
        clock.advance_to(T0 + (i + 1) * MINUTE)
        engine.process(kline(i, open="abc"))  # type: ignore[arg-type]
    engine.process(kline(3))
    assert sum(engine.bad.counts.values()) == 3
    assert sum("bad_input" in r.getMessage() for r in caplog.records) == 1
    assert ok.calls == 1


def test_a_bar_with_nan_or_zero_prices_makes_its_values_unknown() -> None:
    seen: list[float] = []

    def cond() -> bool | None:
        close = engine.market.candles(SYMBOL, "1m").close
        seen.append(close)
        return None if close != close else close > 0

    engine, _ = stub_engine([rule("r", cond, [say("x")], level=True)], StubExchange())
    engine.start()
    engine.process(kline(0, open=float("nan")))
    engine.process(kline(1, 0.0))
    engine.process(kline(2))
    assert [x != x for x in seen] == [True, True, False]
    assert engine.routes.slots[0].state.fire_seq == 1


def test_the_live_scheduler_only_enqueues_timer_events() -> None:
    got: list[Event] = []
    arrived = threading.Event()

    def emit(event: Event) -> None:
        got.append(event)
        arrived.set()

    clock = LiveClock()
    trigger = make_trigger(every_s=1, at=(), cron=None, timezone="UTC", start_ms=clock.now_ms())
    scheduler = LiveScheduler([Job("rules.yaml:r@BTCUSDT", trigger)], emit, clock)
    scheduler.start()
    try:
        assert arrived.wait(timeout=10)
    finally:
        scheduler.shutdown()
    assert isinstance(got[0], TimerFired) and got[0].job_id == "rules.yaml:r@BTCUSDT"


class Unreachable(StubExchange):
    """Times out on every order: whether the venue got it is unknown."""

    def submit(self, request):  # noqa: ANN001, ANN201
        if isinstance(request, PlaceOrder):
            raise ExchangeUnavailable("timeout")
        return super().submit(request)


def test_an_order_lost_in_a_timeout_stays_in_flight_until_a_reconciliation_settles_it() -> None:
    engine, clock = stub_engine([rule("in", Switch(True), [buy(0.01)], level=True)], Unreachable())
    engine.start()
    engine.market.live_fields(SYMBOL).set_last(100_000.0)
    clock.advance_to(T0 + MINUTE)
    engine.process(kline(0))
    slot = engine.routes.slots[0]
    [link] = slot.state.in_flight
    order = engine.journal.order(link)
    assert order is not None and order.status == "intent"
    assert [dict(r.fields)["code"] for r in engine.journal.entries(kind=EntryKind.REJECTION)] == ["unavailable"]
    clock.advance_to(T0 + 2 * MINUTE)
    engine.process(kline(1))
    assert slot.state.fire_seq == 1  # blocked: nothing is sent while the first order is unknown
    engine.reconcile()  # the venue lists no such order: it never arrived
    assert slot.state.in_flight == []
