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

from collections.abc import Iterable
from dataclasses import dataclass

from rulebot.engine.loop import Engine
from rulebot.exchange.paper.exchange import PaperExchange
from rulebot.market.state import MarketState
from rulebot.market.timeframes import normalize_timeframe, timeframe_ms
from rulebot.model.clock import SimClock
from rulebot.model.enums import ExitReason
from rulebot.model.events import KlineUpdate


@dataclass(frozen=True, slots=True)
class ReplayStats:
    """What a replay did: bars fed to the rules, bars used for warm-up, rules fired."""

    bars: int
    warmup_bars: int
    fired: int
    rejected: int


def aggregate_from(market: MarketState, engine: Engine, symbol: str, base_timeframe: str) -> None:
    """Build every longer timeframe the rules of ``symbol`` read from the replayed bars."""
    base = normalize_timeframe(base_timeframe)
    base_ms = timeframe_ms(base) or 0
    for file in engine.ruleset.files:
        if symbol not in file.symbols:
            continue
        for tf in (*file.timeframes, *(w[0] for w in file.warmup), file.timeframe):
            norm = normalize_timeframe(tf)
            if norm != base and (timeframe_ms(norm) or 0) > base_ms:
                market.candles(symbol, norm, aggregate_from=base)


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
    process = engine.process
    pending = engine.process_pending
    on_bar = paper.on_bar
    advance = clock.advance_to
    lives: dict[str, object] = {}
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
    for bar in _chain(first, iterator):
        advance(bar.ts_event_ms)
        on_bar(bar)
        pending()  # the fills of this bar, before the rules at its close see the market
        live = lives.get(bar.symbol)
        if live is None:
            live = lives[bar.symbol] = market.live_fields(bar.symbol)
        live.set_last(bar.close)  # type: ignore[attr-defined]
        process(bar)
        count += 1
        last = bar
    if close_at_end and last is not None:
        paper.close_all(ExitReason.END)
        pending()
    return ReplayStats(count, warm, engine.runner.fired, engine.runner.rejected)


def _chain(first: KlineUpdate | None, rest: Iterable[KlineUpdate]) -> Iterable[KlineUpdate]:
    if first is not None:
        yield first
    yield from rest
