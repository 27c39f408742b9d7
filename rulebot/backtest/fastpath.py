"""The backtest's fast replay: the event-by-event replay's result, without its cost on every bar.

``rulebot.engine.replay.replay_bars`` hands every bar to the paper exchange, the market state
(candles, aggregates, every indicator) and the rules due at its close. Most bars change
nothing: no order can fill, no stop can trigger, no rule's condition can hold. This driver
finds those bars with numpy and skips them, and hands every other bar to the same engine and
paper exchange in the same order, so the result is the same, trade for trade:

* the candles of every timeframe and every indicator are worked out once for the whole
  history (`precomputed`), and written into the market state before anything reads it — the
  engine, the rules, their actions — as it would be after the bars replayed so far;
* a bar is skipped only when the paper exchange would only take its close
  (``PaperExchange.quiet_range``: nothing open, or the bar stays inside every level that could
  fill or trigger), no scheduled job falls due at its close (``Engine.next_timer_ms``), and no
  rule due at its close could fire there: its condition, read vectorised (`masks.RuleMask`)
  with the account as it is until the next event, is not true, or the rule is blocked (an order
  in flight, paused, cooling down) or, edge-triggered, not armed. A skipped bar where an
  unblocked edge rule's condition is false re-arms it, as its evaluation would have;
* a rule whose condition remembers earlier evaluations (``crosses`` / ``for`` of live values,
  ``for DURATION``), or one the masks cannot read, is evaluated at every bar it is due.

The bars of several symbols are replayed in close-time order, ties in the order of the mapping
(``merged_events``, the order ``heapq.merge`` gives the event-by-event replay). The market
state must be fresh (no bar applied yet), else the replay falls back to event by event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from heapq import merge
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from rulebot.backtest.maskops import MaskContext, Unsupported
from rulebot.backtest.masks import RuleMask, rule_mask
from rulebot.backtest.precomputed import SymbolBars
from rulebot.backtest.replay import KlineSeries, kline_events
from rulebot.engine.loop import Engine
from rulebot.engine.replay import Replay, ReplayStats, replay_bars
from rulebot.engine.rulestate import RuleSlot
from rulebot.exchange.paper.exchange import PaperExchange
from rulebot.lang.lint import FileAnalysis
from rulebot.model.clock import SimClock
from rulebot.model.enums import ExitReason
from rulebot.model.events import KlineUpdate

__all__ = ["fast_replay", "fast_replay_bars", "merged_events"]

INF = math.inf
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Progress = Callable[[int], None]

_FIRST_WINDOW = 256  # bars searched at once, growing fourfold while nothing happens
_MAX_WINDOW = 1 << 16


def merged_events(series_by_symbol: Mapping[str, KlineSeries]) -> Iterator[KlineUpdate]:
    """Every bar as an event, in close-time order, ties in the mapping's order: what the
    event-by-event replay must be fed to give the result `fast_replay_bars` gives."""
    streams = [kline_events(s) for s in series_by_symbol.values()]
    if len(streams) == 1:
        return streams[0]
    return merge(*streams, key=attrgetter("ts_event_ms"))


def fast_replay(replay: Replay, series_by_symbol: Mapping[str, KlineSeries], start_ms: int | None = None, *,
                analyses: Sequence[FileAnalysis] | None = None, progress: Progress | None = None,
                every: int = 20_000) -> ReplayStats:
    """``replay.run(merged_events(series_by_symbol), start_ms=start_ms)``, fast: replay the
    bars (see `fast_replay_bars`), close what is open at the end and stop the engine."""
    stats = fast_replay_bars(replay.engine, replay.paper, replay.clock, series_by_symbol, start_ms=start_ms,
                             analyses=analyses, progress=progress, every=every)
    replay.engine.stop()
    return stats


def fast_replay_bars(
    engine: Engine,
    paper: PaperExchange,
    clock: SimClock,
    series_by_symbol: Mapping[str, KlineSeries],
    *,
    start_ms: int | None = None,
    close_at_end: bool = True,
    analyses: Sequence[FileAnalysis] | None = None,
    progress: Progress | None = None,
    every: int = 20_000,
) -> ReplayStats:
    """``replay_bars(engine, paper, clock, merged_events(series_by_symbol), start_ms=...)``, fast.

    Bars opening before ``start_ms`` only warm the market up. ``analyses``: the checked rule
    files the engine's rules were compiled from (by default each file is analysed again; a
    rule whose text differs from the compiled one is then evaluated at every bar it is due).
    ``progress`` is told, about every ``every`` bars, how many bars went by (warm-up included).
    """
    market = engine.market
    if any(s.count for sym in market.symbols() for s in market.symbol(sym).candles.values()):
        # bars already applied to the market: the whole-history arrays would not match it
        return replay_bars(engine, paper, clock, merged_events(series_by_symbol), start_ms=start_ms,
                           close_at_end=close_at_end)
    run = _FastReplay(engine, paper, clock, series_by_symbol, analyses, progress, every)
    return run.replay(start_ms, close_at_end)


@dataclass(eq=False)
class _Watch:
    """A bar rule of one symbol: at which bars it is due (None: every one) and its mask (None:
    it is evaluated at every bar it is due, and, when its condition ``remembers`` earlier
    evaluations, even while it is blocked)."""

    slot: RuleSlot
    due: BoolArray | None
    mask: RuleMask | None
    remembers: bool


class _Symbol:
    """One replayed symbol: its bars, their places in the merged order, its bar rules."""

    def __init__(self, bars: SymbolBars, gpos: IntArray) -> None:
        self.bars = bars
        self.gpos = gpos
        self.low = bars.raw[2]
        self.high = bars.raw[1]
        self.watches: list[_Watch] = []
        self.given = 0  # bars handed to the paper exchange
        # its bars come first in the merged order (a single symbol): its own index is the merged one
        self.alone = bool(len(gpos)) and int(gpos[-1]) == len(gpos) - 1

    def before(self, p: int) -> int:
        """How many of its bars come before bar ``p`` of the merged order."""
        return min(p, len(self.gpos)) if self.alone else int(self.gpos.searchsorted(p))

    def event(self, k: int) -> KlineUpdate:
        """Bar ``k`` as the closed-bar event the event-by-event replay builds."""
        data = self.bars.data
        start = int(self.bars.starts[k])
        end = start + data.interval_ms
        o, h, lo, c, v = self.bars.raw[:, k].tolist()
        return KlineUpdate(data.symbol, data.timeframe, end, end, start, o, h, lo, c, v, True)


class _FastReplay:
    def __init__(self, engine: Engine, paper: PaperExchange, clock: SimClock,
                 series_by_symbol: Mapping[str, KlineSeries], analyses: Sequence[FileAnalysis] | None,
                 progress: Progress | None, every: int) -> None:
        self.engine = engine
        self.paper = paper
        self.clock = clock
        self.progress = progress
        self.every = max(1, every)
        self._reported = 0
        market = engine.market
        data = list(series_by_symbol.values())
        close_ms = np.concatenate([np.asarray(s.ts_ms, dtype=np.int64) + s.interval_ms for s in data]) \
            if data else np.zeros(0, dtype=np.int64)
        which = np.concatenate([np.full(len(s), i, dtype=np.int64) for i, s in enumerate(data)]) \
            if data else np.zeros(0, dtype=np.int64)
        order = np.lexsort((which, close_ms))  # close time, then the mapping's order
        self.n = int(order.size)
        self.g_ts: IntArray = close_ms[order]
        self.g_sym: IntArray = which[order]
        starts = np.concatenate([np.asarray(s.ts_ms, dtype=np.int64) for s in data]) if data else close_ms
        self.g_start: IntArray = starts[order]
        own = np.concatenate([np.arange(len(s), dtype=np.int64) for s in data]) if data else which
        self.g_own: IntArray = own[order]
        self.symbols: list[_Symbol] = []
        for i, series in enumerate(data):
            gpos = np.flatnonzero(self.g_sym == i).astype(np.int64)
            self.symbols.append(_Symbol(SymbolBars(market, series), gpos))
        self._watch_rules(analyses)

    # --- set up ------------------------------------------------------------------------------

    def _watch_rules(self, analyses: Sequence[FileAnalysis] | None) -> None:
        engine = self.engine
        routes = engine.routes
        by_path = {a.file: a for a in analyses} if analyses is not None else {}
        for sym in self.symbols:
            bars = sym.bars
            state = engine.market.symbol(bars.symbol)
            due: dict[int, tuple[RuleSlot, BoolArray | None]] = {}
            for sb in bars.ordered:
                for slot in routes.for_change(state.bar_closed(sb.timeframe)):
                    seen = due.get(slot.rank)
                    if sb.closes is None or (seen is not None and seen[1] is None):
                        due[slot.rank] = (slot, None)
                    elif seen is None:
                        due[slot.rank] = (slot, sb.closes)
                    else:
                        due[slot.rank] = (slot, seen[1] | sb.closes)
            ctx = MaskContext(
                bars, engine.market.live_fields(bars.symbol), self.clock,
                float(engine.instruments(bars.symbol).tick_size), engine.market.history,
            )
            for rank in sorted(due):
                slot, when = due[rank]
                remembers = bool(getattr(slot.rule, "memories", ()))
                mask = None if remembers else rule_mask(slot, ctx, engine.accounts, by_path)
                sym.watches.append(_Watch(slot, when, mask, remembers))

    # --- the replay ----------------------------------------------------------------------------

    def replay(self, start_ms: int | None, close_at_end: bool) -> ReplayStats:
        engine, n = self.engine, self.n
        first = 0  # the first bar fed to the rules; those before it only warm the market up
        if start_ms is not None:
            later = self.g_start >= start_ms
            first = int(later.argmax()) if later.any() else n
        warm = first
        self._catch_up_paper(warm)
        self._sync_market(warm)
        if not engine.started:
            if start_ms is not None and first < n:
                self.clock.advance_to(int(self.g_start[first]))
            engine.start()
        p = warm
        self._tell(p)
        while p < n:
            j = self._next(p)
            if j >= n:
                break
            self._process(j)
            p = j + 1
            self._tell(p)
        if n > warm:
            self.clock.advance_to(int(self.g_ts[n - 1]))
        self._catch_up_paper(n)
        self._sync_market(n)
        if close_at_end and n > warm:
            self.paper.close_all(ExitReason.END)
            engine.process_pending()
        self._tell(n, final=True)
        return ReplayStats(n - warm, warm, engine.runner.fired, engine.runner.rejected)

    def _tell(self, p: int, *, final: bool = False) -> None:
        if self.progress is not None and (p - self._reported >= self.every or (final and p > self._reported)):
            self.progress(p - self._reported)
            self._reported = p

    def _process(self, j: int) -> None:
        """Bar ``j`` (of the merged order) as the event-by-event replay handles it."""
        sym = self.symbols[int(self.g_sym[j])]
        k = int(self.g_own[j])
        self.clock.advance_to(int(self.g_ts[j]))
        self._catch_up_paper(j)
        self.paper.on_bar(sym.event(k))
        sym.given = k + 1
        engine = self.engine
        if engine.pending:
            self._sync_market(j)
            engine.process_pending()  # the fills of this bar, before the rules at its close see the market
        self._sync_market(j + 1)
        engine.process_closes(sym.bars.changed_at(k))

    def _catch_up_paper(self, p: int) -> None:
        """Give the paper exchange the last bar before ``p`` of each symbol whose bars were
        skipped: it was quiet, so all ``on_bar`` does with it is take its close."""
        for sym in self.symbols:
            c = sym.before(p)
            if sym.given < c:
                self.paper.on_bar(sym.event(c - 1))
                sym.given = c

    def _sync_market(self, p: int) -> None:
        """Write the market state after the bars before ``p`` (of the merged order)."""
        for sym in self.symbols:
            sym.bars.sync(sym.before(p))

    # --- skipping --------------------------------------------------------------------------------

    def _next(self, p: int) -> int:
        """The first bar from ``p`` on that must be handed over (``n``: none); skipped bars
        re-arm the edge rules whose evaluation there would have."""
        n = self.n
        window = _FIRST_WINDOW
        while True:
            hi = min(p + window, n)
            stop = hi
            due_ms = self.engine.next_timer_ms
            if due_ms <= self.g_ts[hi - 1]:
                stop = min(stop, max(p, int(self.g_ts.searchsorted(due_ms, side="left"))))
            rearm: list[tuple[RuleSlot, int]] = []
            for sym in self.symbols:
                c0 = sym.before(p)
                c1 = sym.before(stop)
                if c1 <= c0:
                    continue
                loud = self._first_loud(sym, c0, c1)
                if loud < c1:
                    c1 = loud
                    stop = int(sym.gpos[loud])
                for watch in sym.watches:
                    if c1 <= c0:
                        break
                    found, again = _search(watch, sym, c0, c1)
                    if again is not None:
                        rearm.append((watch.slot, int(sym.gpos[again])))
                    if found is not None and found < c1:
                        c1 = found
                        stop = int(sym.gpos[found])
            for slot, at in rearm:
                if at < stop:
                    slot.state.armed = True
            if stop < hi or hi >= n:
                return stop
            p = hi
            window = min(window * 4, _MAX_WINDOW)

    def _first_loud(self, sym: _Symbol, c0: int, c1: int) -> int:
        """The first bar in [c0, c1) the paper exchange would walk (``c1``: none)."""
        lo, hi, until = self.paper.quiet_range(sym.bars.symbol)
        if lo == INF:
            return c0  # an order waits for the next open
        if lo == -INF and hi == INF and until > sym.bars.starts[c1 - 1]:
            return c1
        loud = (sym.low[c0:c1] <= lo) | (sym.high[c0:c1] >= hi) | (sym.bars.starts[c0:c1] >= until)
        i = int(loud.argmax())
        return c0 + i if loud[i] else c1


def _search(watch: _Watch, sym: _Symbol, c0: int, c1: int) -> tuple[int | None, int | None]:
    """Where in [c0, c1) the rule must be evaluated by the engine (None: nowhere), and where a
    skipped evaluation re-arms it (None: nowhere)."""
    if watch.remembers:  # its memory must see every evaluation
        return _first(watch.due[c0:c1] if watch.due is not None else None, c0, c1), None
    st = watch.slot.state
    if st.paused or st.in_flight:
        return None, None  # blocked throughout: its evaluations change nothing
    cand = watch.due[c0:c1] if watch.due is not None else None
    times = sym.bars.close_ms
    if st.blocked_until_ms > times[c0]:
        free = times[c0:c1] >= st.blocked_until_ms  # its cooldown has passed
        cand = free if cand is None else cand & free
    mask = watch.mask
    values = None
    if mask is not None:
        try:
            values = mask.evaluate(c0, c1)
        except Unsupported:
            values = None
    if values is None:
        return _first(cand, c0, c1), None
    t, f = values
    if watch.slot.level or st.armed:
        return _first(t if cand is None else cand & t, c0, c1), None
    falls = f if cand is None else cand & f
    r = _first(falls, c0, c1)
    if r is None:
        return None, None  # not armed, and never re-armed here: a true condition does nothing
    after = t[r + 1 - c0:] if cand is None else (cand & t)[r + 1 - c0:]
    found = _first(after, r + 1, c1)
    return found, r


def _first(mask: BoolArray | None, c0: int, c1: int) -> int | None:
    """The first index in [c0, c1) where ``mask`` (over that range; None: everywhere) holds."""
    if c1 <= c0:
        return None
    if mask is None:
        return c0
    if not len(mask):
        return None
    i = int(mask.argmax())
    return c0 + i if mask[i] else None
