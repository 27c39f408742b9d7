"""The engine: one queue of events, one thread that decides (ARCHITECTURE.md).

Every source — exchange callbacks, the scheduler, the file watcher, a replay — only puts
events on the engine's queue (``emit``). One thread takes them in order (``run``), or a
replay hands them over one by one (``process``), and is the only writer of the market
state, the account and the rule states. For each event:

* a market event updates ``MarketState``; what changed (a ticker, the book, a trade, a bar
  close of one timeframe) is routed through the precomputed index to the rules that read it;
* an exchange event (fill, order, position, wallet) updates the account and the journal,
  unblocks rules whose orders finished, and evaluates the rules that read the account;
* a ``TimerFired`` evaluates its scheduled rule (or, each minute, the rules that read the time);
* a ``ReloadRequested`` re-reads a rule file and swaps the new rules in if the file is clean.

The rules that fire on one event act in firing order (priority, then file order). Bad input
— a malformed event, a NaN, a division by zero — is unknown, counted and logged once per
kind, and the engine goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from rulebot.actions.notify import Notifier
from rulebot.engine.account import AccountBook
from rulebot.engine.badinput import BadInputLog
from rulebot.engine.orders import ActionRunner
from rulebot.engine.reload import Reloader
from rulebot.engine.routes import Routes
from rulebot.engine.rulestate import RuleSlot, carry_over, restore, to_record
from rulebot.engine.ruleset import CompileContext, FileRules, RuleSet
from rulebot.engine.scheduler import MINUTE_JOB, LiveScheduler, SimSchedule
from rulebot.engine.settings import apply_settings
from rulebot.exchange.base import Exchange
from rulebot.journal.journal import Journal
from rulebot.market.state import Changed, MarketState
from rulebot.model.clock import Clock
from rulebot.model.events import (
    BookUpdate,
    Event,
    Execution,
    KlineUpdate,
    OrderUpdate,
    PositionUpdate,
    ReloadRequested,
    Shutdown,
    TickerUpdate,
    TimerFired,
    TradePrint,
    WalletUpdate,
)
from rulebot.model.instruments import InstrumentRules, default_rules

log = logging.getLogger(__name__)

_NEVER_MS = 2**62
# what a malformed event raises when its fields have the wrong type or value
_MALFORMED = (TypeError, ValueError, AttributeError, ArithmeticError, KeyError, IndexError)


class Engine:
    """The engine loop over a ``RuleSet``; live with ``start(live=True)`` + ``run()``, in a replay
    with ``start()`` + ``process(event)``.

    ``accounts`` must be the book the rules were compiled against (``CompileContext``); by
    default the engine makes its own, for rule sets built by hand. ``instruments`` gives each
    symbol's trading rules (default: the bundled snapshot). ``persist_state``: write rule state
    to the journal as it changes (live); a replay writes it once, at ``stop``.
    ``feed_timeframe``: the timeframe of the klines fed, for files compiled at a reload.
    """

    def __init__(
        self,
        ruleset: RuleSet,
        market: MarketState,
        exchange: Exchange,
        journal: Journal,
        clock: Clock,
        *,
        accounts: AccountBook | None = None,
        instruments: Mapping[str, InstrumentRules] | Callable[[str], InstrumentRules] | None = None,
        notifier: Notifier | None = None,
        queue_size: int = 100_000,
        persist_state: bool = True,
        feed_timeframe: str | None = None,
    ) -> None:
        self.market = market
        self.exchange = exchange
        self.journal = journal
        self.clock = clock
        self.instruments = instrument_lookup(instruments)
        self.accounts = accounts or AccountBook(clock, self._settle_coin, market.live_fields)
        self.bad = BadInputLog()
        self.runner = ActionRunner(
            exchange, journal, self.accounts, self.instruments, notifier,
            resolves_percent_stops=bool(getattr(exchange, "resolves_percent_stops", False)),
        )
        self.reloader = Reloader(
            CompileContext(market, self.accounts, clock, self.instruments, feed_timeframe=feed_timeframe), journal
        )
        self._routes = Routes(ruleset, self.bad)
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=queue_size)
        self._local: deque[Event] = deque()
        self._owner: int | None = None
        self._full_warned_ms = -(2**62)
        self._persist = persist_state
        self._dirty = False
        self._schedule: SimSchedule | None = None
        self._next_timer_ms = _NEVER_MS
        self._live: LiveScheduler | None = None
        self._started = False
        self._stopped = False
        self._handlers: dict[type, Callable[[Event], None]] = {
            KlineUpdate: self._on_market,
            TickerUpdate: self._on_market,
            BookUpdate: self._on_market,
            TradePrint: self._on_market,
            Execution: self._on_execution,
            OrderUpdate: self._on_order,
            PositionUpdate: self._on_position,
            WalletUpdate: self._on_wallet,
            TimerFired: self._on_timer,
            ReloadRequested: self._on_reload,
        }

    # -- the public surface ---------------------------------------------------------------------

    @property
    def ruleset(self) -> RuleSet:
        """The rules running now."""
        return self._routes.ruleset

    @property
    def routes(self) -> Routes:
        """The rule slots (compiled rule + state) and the routing index now in force."""
        return self._routes

    def slot(self, key: str) -> RuleSlot | None:
        """A rule's slot by its state key (``file:name@symbol``)."""
        return self._routes.by_key.get(key)

    def emit(self, event: Event) -> None:
        """Put an event on the queue; any thread may call it, and it returns at once unless the
        queue is full, when it waits (nothing is ever dropped) and warns at most once a second."""
        if threading.get_ident() == self._owner:
            # the engine thread itself (an exchange answering inside submit): after this event
            self._local.append(event)
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            now = self.clock.now_ms()
            if now - self._full_warned_ms >= 1000:
                self._full_warned_ms = now
                log.warning("queue_full size=%d: the engine is behind; producers wait", self._queue.maxsize)
            self._queue.put(event)

    def start(self, *, live: bool = False) -> None:
        """Get ready: learn the account from the exchange, restore rule state from the journal,
        apply each file's settings and start the schedule (live: a background scheduler;
        otherwise fire times are taken from the simulated clock)."""
        if self._started:
            raise RuntimeError("the engine has already started")
        self._started = True
        self._owner = threading.get_ident()
        now = self.clock.now_ms()
        self.reconcile()
        self._restore()
        self.runner.adopt_in_flight(self._routes)
        for file in self.ruleset.files:
            self._apply_settings(file, now)
        self._start_schedule(live, now)
        self.journal.record_event("start", f"files={len(self.ruleset.files)} rules={len(self._routes.slots)}", now)
        self._drain()

    @property
    def started(self) -> bool:
        """Whether ``start`` has run."""
        return self._started

    def process_pending(self) -> None:
        """Handle what the engine's own thread emitted (an exchange answering synchronously),
        e.g. the fills a replay's paper exchange reported while walking a bar."""
        if self._local:
            self._drain()

    def process(self, event: Event) -> None:
        """Handle one event now, on the calling thread, then what it caused (replays and tests)."""
        if not self._started:
            raise RuntimeError("call start() before feeding events")
        self._dispatch(event)
        self._after_event()

    def process_kline(self, bar: KlineUpdate) -> None:
        """``process`` for a kline, without the dispatch by type: a replay's one call per bar."""
        self._on_market(bar)
        if self._local:
            self._drain()
        now = self.clock.now_ms()
        if now >= self._next_timer_ms:
            self._run_timers(now)
        if self._dirty and self._persist:
            self.save_states(now)

    def run(self) -> None:
        """The engine thread: take events from the queue in order until a ``Shutdown``."""
        if not self._started:
            raise RuntimeError("call start() before run()")
        self._owner = threading.get_ident()
        while True:
            event = self._queue.get()
            if isinstance(event, Shutdown):
                log.info("shutdown reason=%r", event.reason)
                break
            self.process(event)
        self.stop()

    def stop(self) -> None:
        """Save the rule states, stop the scheduler, journal the stop and flush."""
        if self._stopped:
            return
        self._stopped = True
        if self._live is not None:
            self._live.shutdown()
        now = self.clock.now_ms()
        self.save_states(now)
        self.journal.record_event("stop", f"fired={self.runner.fired} rejected={self.runner.rejected}", now)
        self.journal.flush()

    def save_states(self, now_ms: int | None = None) -> None:
        """Write every rule's state (with its compiled memory) to the journal."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        self.journal.save_rule_states([to_record(s) for s in self._routes.slots], now)
        self._dirty = False

    def reconcile(self) -> None:
        """Learn the wallet, positions and open orders of every symbol from the exchange; orders in
        flight that are no longer open are finished (after a restart or a reconnect)."""
        wallet = self.exchange.wallet()
        self.accounts.on_wallet(wallet)
        open_links: set[str] = set()
        for symbol in self._symbols():
            for position in self.exchange.positions(symbol):
                self.accounts.on_position(position)
            orders = self.exchange.open_orders(symbol)
            self.accounts.forget_orders(symbol, (o.order_id for o in orders))
            for order in orders:
                self.accounts.on_order(order)
                open_links.add(order.order_link_id)
        for link in self.runner.settle_in_flight(open_links):
            log.info("reconciled link=%s: no longer open", link)

    def swap(self, ruleset: RuleSet) -> None:
        """Put ``ruleset`` in force (a reload): rules whose name and text are unchanged keep their
        state; one assignment switches the engine to the new routes."""
        old = self._routes
        routes = Routes(ruleset, self.bad)
        kept = 0
        for slot in routes.slots:
            before = old.by_key.get(slot.key)
            if before is not None and carry_over(slot, before):
                kept += 1
        self.runner.adopt_in_flight(routes)
        self._routes = routes
        log.info("rules_swapped rules=%d kept_state=%d", len(routes.slots), kept)
        if self._started:
            now = self.clock.now_ms()
            self._restart_schedule(now)
            self._dirty = True

    # -- dispatch -------------------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is None:
            self.bad.record(f"event:{type(event).__name__}", f"the engine does not handle {event!r}")
            return
        handler(event)

    def _after_event(self) -> None:
        if self._local:
            self._drain()
        now = self.clock.now_ms()
        if now >= self._next_timer_ms:
            self._run_timers(now)
        if self._dirty and self._persist:
            self.save_states(now)

    def _drain(self) -> None:
        local = self._local
        while local:
            self._dispatch(local.popleft())

    def _on_market(self, event: Event) -> None:
        try:
            changed = self.market.apply(event)
        except _MALFORMED as err:
            self.bad.record(f"event:{type(event).__name__}:{type(err).__name__}", f"{event!r}: {err}")
            return
        if not changed:
            return
        routes = self._routes
        if len(changed) == 1:
            slots = routes.for_change(changed[0])
            if slots:
                self._evaluate(slots, changed[0])
            return
        merged: dict[int, RuleSlot] = {}
        for ch in changed:
            for slot in routes.for_change(ch):
                merged.setdefault(slot.rank, slot)
        if merged:
            self._evaluate([merged[r] for r in sorted(merged)], changed[-1])

    def _evaluate(self, slots: Iterable[RuleSlot], cause: Changed | str) -> None:
        now = self.clock.now_ms()
        fired: list[RuleSlot] | None = None
        for slot in slots:
            if slot.evaluate(now):
                if fired is None:
                    fired = [slot]
                else:
                    fired.append(slot)
        if fired is not None:
            text = _cause(cause)
            for slot in fired:
                self.runner.run(slot, now, text)
            self._dirty = True

    def _account_rules(self, symbol: str) -> None:
        slots = self._routes.for_account(symbol)
        if slots:
            self._evaluate(slots, "account")

    def _on_execution(self, event: Event) -> None:
        assert isinstance(event, Execution)
        if not self._account_event(self.accounts.on_execution, event):
            return
        self.runner.on_execution(event)
        self._account_rules(event.symbol)

    def _on_order(self, event: Event) -> None:
        assert isinstance(event, OrderUpdate)
        if not self._account_event(self.accounts.on_order, event):
            return
        if not event.status.is_open and event.order_link_id:
            self._dirty = True
        self.runner.on_order(event)
        self._account_rules(event.symbol)

    def _on_position(self, event: Event) -> None:
        assert isinstance(event, PositionUpdate)
        if self._account_event(self.accounts.on_position, event):
            self._account_rules(event.symbol)

    def _on_wallet(self, event: Event) -> None:
        assert isinstance(event, WalletUpdate)
        if self._account_event(self.accounts.on_wallet, event):
            for symbol in self._routes.account_symbols():
                self._account_rules(symbol)

    def _account_event(self, apply: Callable[[Event], object], event: Event) -> bool:
        try:
            apply(event)
        except _MALFORMED as err:
            self.bad.record(f"event:{type(event).__name__}:{type(err).__name__}", f"{event!r}: {err}")
            return False
        return True

    def _on_timer(self, event: Event) -> None:
        assert isinstance(event, TimerFired)
        routes = self._routes
        if event.job_id == MINUTE_JOB:
            if routes.minute:
                self._evaluate(routes.minute, "minute")
            if self._persist and self._live is not None:
                self._dirty = True  # `for` and `crosses` memory moves with time: save it each minute
            return
        slot = routes.scheduled.get(event.job_id)
        if slot is None:
            self.bad.record("timer:unknown_job", f"job={event.job_id!r} (a rule removed by a reload?)")
            return
        self._evaluate((slot,), "schedule")

    def _on_reload(self, event: Event) -> None:
        assert isinstance(event, ReloadRequested)
        new = self.reloader.rebuild(self.ruleset, event.path, self.clock.now_ms())
        if new is None:
            return
        self.swap(new.ruleset)
        now = self.clock.now_ms()
        self._apply_settings(new.file, now)

    # -- timers ----------------------------------------------------------------------------------

    def _start_schedule(self, live: bool, now: int) -> None:
        jobs = self._routes.jobs(now)
        if live:
            self._live = LiveScheduler(jobs, self.emit, self.clock)
            self._live.start()
        else:
            self._schedule = SimSchedule(jobs, now)
            self._next_timer_ms = self._schedule.next_due_ms

    def _restart_schedule(self, now: int) -> None:
        if self._live is not None:
            self._live.shutdown()
            self._live = LiveScheduler(self._routes.jobs(now), self.emit, self.clock)
            self._live.start()
        elif self._schedule is not None:
            self._schedule = SimSchedule(self._routes.jobs(now), now)
            self._next_timer_ms = self._schedule.next_due_ms

    def _run_timers(self, now: int) -> None:
        schedule = self._schedule
        if schedule is None:
            self._next_timer_ms = _NEVER_MS
            return
        for job_id, at in schedule.due(now):
            self._dispatch(TimerFired(job_id=job_id, ts_event_ms=at, ts_recv_ms=now))
            if self._local:
                self._drain()
        self._next_timer_ms = schedule.next_due_ms

    # -- start ---------------------------------------------------------------------------------

    def _restore(self) -> None:
        stored = self.journal.load_rule_states()
        restored = 0
        for slot in self._routes.slots:
            record = stored.get(slot.key)
            if record is not None and restore(slot, record):
                restored += 1
        if stored:
            log.info("rule_state_restored restored=%d stored=%d", restored, len(stored))

    def _apply_settings(self, file: FileRules, now: int) -> None:
        for symbol, mode in apply_settings(file, self.exchange, self.journal, self.accounts, self.instruments, now):
            self.runner.note_mode(symbol, mode)
        self._drain()

    def _symbols(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.ruleset.symbols(), *self.accounts.symbols())))

    def _settle_coin(self, symbol: str) -> str:
        return self.instruments(symbol).settle_coin.upper()


def _cause(cause: Changed | str) -> str:
    if isinstance(cause, str):
        return cause
    if cause.timeframe:
        return f"{cause.kind.value} {cause.timeframe}"
    return cause.kind.value


def instrument_lookup(
    instruments: Mapping[str, InstrumentRules] | Callable[[str], InstrumentRules] | None,
) -> Callable[[str], InstrumentRules]:
    """A symbol -> instrument rules function from a table, a function, or the bundled defaults."""
    if instruments is None:
        return default_rules
    if callable(instruments):
        return instruments
    table = dict(instruments)
    return lambda symbol: table.get(symbol) or default_rules(symbol)
