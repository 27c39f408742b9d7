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
from collections import deque
from typing import TypeVar
from collections.abc import Callable, Iterable, Mapping, Sequence

from rulebot.actions.notify import Notifier
from rulebot.engine.account import AccountBook
from rulebot.engine.badinput import BadInputLog
from rulebot.engine.inbox import Inbox
from rulebot.engine.orders import ActionRunner
from rulebot.engine.reload import Reloader
from rulebot.engine.routes import Routes, describe
from rulebot.engine.recovery import reconcile, restore_states
from rulebot.engine.rulestate import RuleSlot, carry_over, evaluate, to_record
from rulebot.engine.ruleset import CompileContext, FileRules, RuleSet, instrument_lookup, load_ruleset
from rulebot.engine.scheduler import MINUTE_JOB, Timers
from rulebot.engine.settings import apply_settings
from rulebot.exchange.base import Exchange
from rulebot.journal.journal import Journal
from rulebot.lang.lint import FileAnalysis
from rulebot.market.state import Changed, MarketState
from rulebot.model.clock import Clock
from rulebot.model.events import (
    BookUpdate, Event, Execution, KlineUpdate, OrderUpdate, PositionUpdate, ReloadRequested, Shutdown, TickerUpdate,
    TimerFired, TradePrint, WalletUpdate,
)
from rulebot.model.instruments import InstrumentRules

log = logging.getLogger(__name__)

E = TypeVar("E", Execution, OrderUpdate, PositionUpdate, WalletUpdate)

_SAVE_EVERY_MS = 1000
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
            resolves_percent_stops=exchange.resolves_percent_stops,
        )
        self.reloader = Reloader(
            CompileContext(market, self.accounts, clock, self.instruments, feed_timeframe=feed_timeframe), journal
        )
        self._routes = Routes(ruleset)
        # the rules due on the last bar close `process_closes` routed (reset when the routes change)
        self._bar_changed: tuple[Changed, ...] | None = None
        self._bar_slots: tuple[RuleSlot, ...] = ()
        self._inbox = Inbox(clock, queue_size)
        self._local = self._inbox.local
        self._persist = persist_state
        self._dirty = False  # a rule fired or an order finished: save the states now
        self._touched = False  # conditions were evaluated: their memory moved
        self._saved_ms = -(2**62)
        self._timers = Timers(self.emit, clock)
        self._started = False
        self._stopped = False
        self._handlers: dict[type, Callable[[Event], None]] = {
            **dict.fromkeys((KlineUpdate, TickerUpdate, BookUpdate, TradePrint), self._on_market),
            Execution: self._on_execution,
            OrderUpdate: self._on_order,
            PositionUpdate: self._on_position,
            WalletUpdate: self._on_wallet,
            TimerFired: self._on_timer,
            ReloadRequested: self._on_reload,
        }

    @classmethod
    def from_files(
        cls,
        paths: Sequence[str],
        exchange: Exchange,
        journal: Journal,
        clock: Clock,
        *,
        market: MarketState | None = None,
        instruments: Mapping[str, InstrumentRules] | Callable[[str], InstrumentRules] | None = None,
        notifier: Notifier | None = None,
        persist_state: bool = True,
        feed_timeframe: str | None = None,
    ) -> tuple[Engine, list[FileAnalysis]]:
        """Load, check and compile rule files and build an engine over the clean ones; the
        analyses of files with errors come back for the caller to report."""
        market = market or MarketState()
        lookup = instrument_lookup(instruments)
        accounts = AccountBook(clock, lambda symbol: lookup(symbol).settle_coin.upper(), market.live_fields)
        ctx = CompileContext(market, accounts, clock, lookup, feed_timeframe=feed_timeframe)
        ruleset, failed = load_ruleset(paths, ctx)
        engine = cls(ruleset, market, exchange, journal, clock, accounts=accounts, instruments=lookup,
                     notifier=notifier, persist_state=persist_state, feed_timeframe=feed_timeframe)
        return engine, failed

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
        self._inbox.put(event)

    def start(self, *, live: bool = False) -> None:
        """Get ready: learn the account from the exchange, restore rule state from the journal,
        apply each file's settings and start the schedule (live: a background scheduler;
        otherwise fire times are taken from the simulated clock)."""
        if self._started:
            raise RuntimeError("the engine has already started")
        self._started = True
        self._inbox.own()
        now = self.clock.now_ms()
        restore_states(self.journal, self._routes)
        self.runner.adopt_in_flight(self._routes)
        self.reconcile()  # after the restore: restored orders the venue no longer lists are finished
        for file in self.ruleset.files:
            self._apply_settings(file, now)
        self._timers.start(self._routes.jobs(now), now, live=live)
        self.journal.record_event("start", f"files={len(self.ruleset.files)} rules={len(self._routes.slots)}", now)
        self._drain()

    @property
    def started(self) -> bool:
        """Whether ``start`` has run."""
        return self._started

    @property
    def pending(self) -> deque[Event]:
        """What the engine's own thread emitted and the engine has not handled yet (an exchange
        answering synchronously: the fills a replay's paper exchange reports while walking a bar)."""
        return self._local

    def process_pending(self) -> None:
        """Handle the ``pending`` events now."""
        if self._local:
            self._drain()

    def run_timers(self) -> None:
        """Run the scheduled jobs the simulated clock has passed (``process`` does it after each
        event; this is for a clock that moved with no event)."""
        now = self.clock.now_ms()
        if now >= self._timers.next_due_ms:
            self._run_timers(now)
        if self._local:
            self._drain()

    def process(self, event: Event) -> None:
        """Handle one event now, on the calling thread, then what it caused (replays and tests)."""
        if not self._started:
            raise RuntimeError("call start() before feeding events")
        self._dispatch(event)
        self._after_event()

    def replay_bar(self, bar: KlineUpdate, now: int) -> None:
        """``process`` for a replayed closed bar, ``now`` being the clock's time: the bar goes to the
        market with its close as the last price (`MarketState.replay_bar`), then as in
        ``process_closes``. A replay's one engine call per bar."""
        try:
            changed = self.market.replay_bar(bar)
        except _MALFORMED as err:
            self.bad.record(f"event:KlineUpdate:{type(err).__name__}", f"{bar!r}: {err}")
            changed = ()
        self.process_closes(changed, now)

    def process_closes(self, changed: tuple[Changed, ...], now: int | None = None) -> None:
        """The engine's part of a replayed bar, for a replay that wrote closed bars into the market
        state itself (the backtest's fast path sets candles and indicators from whole-history
        arrays): ``changed`` is what ``market.apply`` returned, or would have, for the bar, and
        ``now`` the clock's time (read if not given). The rules due on it are evaluated, then the
        steps after an event follow."""
        if now is None:
            now = self.clock.now_ms()
        if changed:
            if changed is self._bar_changed:
                # the same (interned) answer as the bar before: the same rules are due
                slots = self._bar_slots
            elif len(changed) == 1:
                slots = self._routes.for_change(changed[0])
                self._bar_changed, self._bar_slots = changed, slots
            else:
                self._evaluate_changes(changed, now)
                slots = ()
            if slots:
                # `_evaluate`, written out: this runs on every bar of a replay
                self._touched = True
                fired = evaluate(slots, now, self.bad)
                if fired is not None:
                    self._act(fired, changed[0], now)
        self._after_event(now)

    @property
    def next_timer_ms(self) -> int:
        """When the next scheduled job falls due on the simulated clock (2**62 when none will): a
        replay that skips bars must hand over the bar whose close reaches it."""
        return self._timers.next_due_ms

    def run(self) -> None:
        """The engine thread: take events from the queue in order until a ``Shutdown``."""
        if not self._started:
            raise RuntimeError("call start() before run()")
        self._inbox.own()
        while True:
            event = self._inbox.get()
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
        self._timers.shutdown()
        now = self.clock.now_ms()
        self.save_states(now)
        self.journal.record_event("stop", f"fired={self.runner.fired} rejected={self.runner.rejected}", now)
        self.journal.flush()

    def save_states(self, now_ms: int | None = None) -> None:
        """Write every rule's state (with its compiled memory) to the journal."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        self.journal.save_rule_states([to_record(s) for s in self._routes.slots], now)
        self._dirty = self._touched = False
        self._saved_ms = now

    def _maybe_save(self, now: int) -> None:
        # a fire or a finished order is written at once; the memory of `crosses` and `for`,
        # which moves at every evaluation, at most once a second
        if self._dirty or (self._touched and now - self._saved_ms >= _SAVE_EVERY_MS):
            self.save_states(now)

    def resume(self, key: str) -> bool:
        """Unblock a paused (or halted) rule by its state key; False when there is no such rule."""
        slot = self._routes.by_key.get(key)
        if slot is None:
            return False
        slot.state.paused = False
        self.journal.record_event("resume", f"symbol={slot.symbol}", self.clock.now_ms(), rule=slot.name)
        self._dirty = True
        return True

    def reconcile(self) -> None:
        """Learn the wallet, positions and open orders from the exchange; orders in flight that are
        no longer open are finished (after a restart or a reconnect)."""
        symbols = tuple(dict.fromkeys((*self.ruleset.symbols(), *self.accounts.symbols())))
        reconcile(self.exchange, self.accounts, self.runner, symbols)

    def swap(self, ruleset: RuleSet) -> None:
        """Put ``ruleset`` in force (a reload): rules whose name and text are unchanged keep their
        state; one assignment switches the engine to the new routes."""
        old = self._routes
        routes = Routes(ruleset)
        kept = 0
        for slot in routes.slots:
            before = old.by_key.get(slot.key)
            if before is not None and carry_over(slot, before):
                kept += 1
        self.runner.adopt_in_flight(routes)
        self._routes = routes
        self._bar_changed = None
        log.info("rules_swapped rules=%d kept_state=%d", len(routes.slots), kept)
        if self._started:
            now = self.clock.now_ms()
            self._timers.restart(routes.jobs(now), now)
            self._dirty = True

    # -- dispatch -------------------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is None:
            self.bad.record(f"event:{type(event).__name__}", f"the engine does not handle {event!r}")
            return
        handler(event)

    def _after_event(self, now: int | None = None) -> None:
        """The steps after every event: what it caused, the timers due, the periodic state save."""
        if self._local:
            self._drain()
        if now is None:
            now = self.clock.now_ms()
        if now >= self._timers.next_due_ms:
            self._run_timers(now)
        if self._persist:
            self._maybe_save(now)

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
        now = self.clock.now_ms()
        if len(changed) == 1:
            slots = self._routes.for_change(changed[0])
            if slots:
                self._evaluate(slots, changed[0], now)
        else:
            self._evaluate_changes(changed, now)

    def _evaluate_changes(self, changed: tuple[Changed, ...], now: int) -> None:
        """Several changes at once (bars of several timeframes closing together): each rule due
        on any of them is evaluated once, all in firing order."""
        merged: dict[int, RuleSlot] = {}
        for ch in changed:
            for slot in self._routes.for_change(ch):
                merged.setdefault(slot.rank, slot)
        if merged:
            self._evaluate([merged[r] for r in sorted(merged)], changed[-1], now)

    def _evaluate(self, slots: Iterable[RuleSlot], cause: Changed | str, now: int) -> None:
        """Evaluate ``slots`` (in firing order), then act for those that fired, in that order."""
        self._touched = True
        fired = evaluate(slots, now, self.bad)
        if fired is not None:
            self._act(fired, cause, now)

    def _act(self, fired: list[RuleSlot], cause: Changed | str, now: int) -> None:
        """Run the actions of the rules that fired, in firing order."""
        text = describe(cause)
        for slot in fired:
            if not slot.state.paused:  # a `halt` of a rule that acted before it stops it
                self.runner.run(slot, now, text)
        self._dirty = True

    def _account_rules(self, symbol: str) -> None:
        slots = self._routes.for_account(symbol)
        if slots:
            self._evaluate(slots, "account", self.clock.now_ms())

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

    def _account_event(self, apply: Callable[[E], object], event: E) -> bool:
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
                self._evaluate(routes.minute, "minute", self.clock.now_ms())
            return
        slot = routes.scheduled.get(event.job_id)
        if slot is None:
            self.bad.record("timer:unknown_job", f"job={event.job_id!r} (a rule removed by a reload?)")
            return
        self._evaluate((slot,), "schedule", self.clock.now_ms())

    def _on_reload(self, event: Event) -> None:
        assert isinstance(event, ReloadRequested)
        new = self.reloader.rebuild(self.ruleset, event.path, self.clock.now_ms())
        if new is None:
            return
        self.swap(new.ruleset)
        now = self.clock.now_ms()
        self._apply_settings(new.file, now)

    # -- timers ----------------------------------------------------------------------------------

    def _run_timers(self, now: int) -> None:
        for job_id, at in self._timers.due(now):
            self._dispatch(TimerFired(job_id=job_id, ts_event_ms=at, ts_recv_ms=now))
            if self._local:
                self._drain()

    # -- start ---------------------------------------------------------------------------------

    def _apply_settings(self, file: FileRules, now: int) -> None:
        for symbol, mode in apply_settings(file, self.exchange, self.journal, self.accounts, self.instruments, now):
            self.runner.note_mode(symbol, mode)
        self._drain()

    def _settle_coin(self, symbol: str) -> str:
        return self.instruments(symbol).settle_coin.upper()
