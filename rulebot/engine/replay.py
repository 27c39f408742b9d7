"""Replaying closed bars through the engine and the paper exchange (the backtest path).

The same engine as live, fed by a replay source with a simulated clock (ARCHITECTURE.md).
For each closed bar, as SIMULATION.md orders it:

1. the clock moves to the bar's close time;
2. the paper exchange walks the bar: market orders decided at the previous close fill at its
   open, then resting orders and stops along open -> nearer extreme -> other extreme -> close;
3. the engine takes what the exchange reported (fills, positions, wallet, order statuses);
4. the bar goes to the market state as a confirmed kline, and the last price becomes its
   close (in a bar replay there is no other trade price); the rules evaluated at the close
   decide; their market orders fill at the next bar's open.

At the end every position still open is closed at the last close with exit reason ``end``.
Bars before ``start_ms`` only warm the market state up (indicators, history) — no rule is
evaluated and nothing fills.

This layer takes bars as ``KlineUpdate`` events; reading files is ``rulebot.backtest``'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from rulebot.engine.loop import Engine
from rulebot.exchange.paper.exchange import FillMode, PaperConfig, PaperExchange
from rulebot.journal.journal import Journal
from rulebot.lang.diagnostics import render_text
from rulebot.market.state import MarketState
from rulebot.model.clock import SimClock
from rulebot.model.enums import ExitReason
from rulebot.model.events import Event, KlineUpdate
from rulebot.model.instruments import InstrumentRules


@dataclass(frozen=True, slots=True)
class ReplayStats:
    """What a replay did: bars fed to the rules, bars used for warm-up, rules fired."""

    bars: int
    warmup_bars: int
    fired: int
    rejected: int


class ReplayError(Exception):
    """The rule files cannot be replayed; the message holds their diagnostics."""


@dataclass(frozen=True, slots=True, eq=False)
class Replay:
    """An engine trading on a bar-mode paper exchange with a simulated clock, ready for bars."""

    engine: Engine
    paper: PaperExchange
    clock: SimClock
    market: MarketState
    journal: Journal

    def run(self, bars: Iterable[KlineUpdate], *, start_ms: int | None = None) -> ReplayStats:
        """Replay ``bars`` (see ``replay_bars``), close what is open at the end and stop the
        engine (its rule states are journalled)."""
        stats = replay_bars(self.engine, self.paper, self.clock, bars, start_ms=start_ms)
        self.engine.stop()
        return stats


def prepare_replay(
    paths: Sequence[str],
    *,
    timeframe: str = "1m",
    paper: PaperConfig | None = None,
    instruments: Mapping[str, InstrumentRules] | None = None,
    journal: Journal | None = None,
    start_ms: int = 0,
    history: int = 1000,
    persist_state: bool = False,
) -> Replay:
    """Load and compile ``paths`` against a fresh market fed ``timeframe`` klines, with a paper
    exchange in bar mode; raises ``ReplayError`` with the diagnostics of files that have errors.

    ``instruments``: trading rules by symbol, for the engine and the paper exchange alike
    (symbols not in it use the bundled snapshot).

    ``journal`` defaults to one in memory (nothing is kept); a file journal should be opened
    with ``batch=True`` so that it does not dominate the replay. ``persist_state``: write rule
    state as it changes, as live (a replay otherwise writes it once, at the end).
    """
    clock = SimClock(start_ms)
    market = MarketState(history=history)
    sink: list[Engine] = []

    def emit(event: Event) -> None:
        sink[0].emit(event)

    config = paper or PaperConfig()
    if config.fill_mode is not FillMode.BARS:
        raise ValueError("a replay fills by bars: use PaperConfig(fill_mode=FillMode.BARS)")
    exchange = PaperExchange(emit, clock, config, instruments=instruments)
    engine, failed = Engine.from_files(
        paths, exchange, journal or Journal.memory(), clock, market=market, instruments=instruments,
        persist_state=persist_state, feed_timeframe=timeframe,
    )
    if failed:
        text = "\n".join(
            render_text([d for d in a.diagnostics if d.is_error], {a.file: a.lines}) for a in failed
        )
        raise ReplayError(f"{len(failed)} rule file(s) have errors:\n{text}")
    sink.append(engine)
    return Replay(engine, exchange, clock, market, engine.journal)


def replay_bars(
    engine: Engine,
    paper: PaperExchange,
    clock: SimClock,
    bars: Iterable[KlineUpdate],
    *,
    start_ms: int | None = None,
    close_at_end: bool = True,
) -> ReplayStats:
    """Feed closed bars through ``paper`` and ``engine`` (started here unless it already is).

    ``bars`` are confirmed klines in time order, ``ts_event_ms`` their close time, the
    replayed (finest) timeframe of each symbol. The engine must trade through ``paper`` and
    read ``clock``.
    """
    market = engine.market
    process = engine.replay_bar
    pending = engine.process_pending
    waiting = engine.pending
    on_bar = paper.on_bar
    advance = clock.advance_to
    iterator = iter(bars)
    warm = 0
    first: KlineUpdate | None = None
    if start_ms is not None:
        for bar in iterator:
            if bar.start_ms >= start_ms:
                first = bar
                break
            market.apply(bar)
            market.live_fields(bar.symbol).set_last(bar.close)
            paper.on_bar(bar)  # only remembers the close: nothing is open yet
            warm += 1
    if not engine.started:
        if first is not None:
            clock.advance_to(first.start_ms)
        engine.start()
    count = 0
    last: KlineUpdate | None = None
    for bar in iterator if first is None else chain((first,), iterator):
        now = advance(bar.ts_event_ms)
        on_bar(bar)
        if waiting:
            pending()  # the fills of this bar, before the rules at its close see the market
        process(bar, now)  # the market, the last price (the bar's close), then the rules
        count += 1
        last = bar
    if close_at_end and last is not None:
        paper.close_all(ExitReason.END)
        pending()
    return ReplayStats(count, warm, engine.runner.fired, engine.runner.rejected)
