"""`MarketState`: the engine's one view of the market, fed market events, never fetching.

Per symbol it holds the live fields (from tickers, the order book and trade prints), the
order book, and candle series per timeframe with their indicator caches. The engine calls
``apply(event)`` for each market event and gets back what changed, as interned `Changed`
descriptors, so it evaluates only the rules that read it.

Where the live quotes come from: the ticker's bid1/ask1 until an order book snapshot has
arrived for the symbol; from then on the book is authoritative, and a stale book makes
``bid1``/``ask1``/sizes (and ``mid``, ``spread``) unknown until the next snapshot, whatever
the ticker says. ``price``/``last`` is the most recent of the ticker's last price and the
last trade print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from math import inf as INF

from rulebot.market.anomalies import Anomaly, AnomalyLog
from rulebot.market.candles import CandleSeries
from rulebot.market.indicator_spec import IndicatorSpec
from rulebot.market.indicators import IndicatorHandle
from rulebot.market.live import LiveFields, TickerState
from rulebot.market.orderbook import OrderBook
from rulebot.market.timeframes import normalize_timeframe
from rulebot.model.events import BookUpdate, Event, KlineUpdate, TickerUpdate, TradePrint


class ChangeKind(str, Enum):
    """Which kind of market fact changed, and so which rules are due."""

    TICKER = "ticker"
    BOOK = "book"
    TRADE = "trade"
    BAR_CLOSE = "bar_close"


@dataclass(frozen=True, slots=True)
class Changed:
    """What an event changed: a kind, a symbol and, for a closed bar, its timeframe."""

    kind: ChangeKind
    symbol: str
    timeframe: str | None = None


class SymbolState:
    """Everything known about one symbol."""

    __slots__ = ("symbol", "live", "ticker", "book", "candles", "_changed", "_bar_closed", "_closed_alone")

    def __init__(self, symbol: str, anomalies: AnomalyLog) -> None:
        self.symbol = symbol
        self.live = LiveFields()
        self.ticker = TickerState()
        self.book = OrderBook(symbol, anomalies)
        self.candles: dict[str, CandleSeries] = {}
        # interned answers, so applying an event allocates nothing
        self._changed = {kind: (Changed(kind, symbol),) for kind in (ChangeKind.TICKER, ChangeKind.BOOK, ChangeKind.TRADE)}
        self._bar_closed: dict[str, Changed] = {}
        self._closed_alone: dict[str, tuple[Changed, ...]] = {}  # (bar_closed(timeframe),)

    def bar_closed(self, timeframe: str) -> Changed:
        """The interned descriptor of a bar close on ``timeframe``."""
        found = self._bar_closed.get(timeframe)
        if found is None:
            found = self._bar_closed[timeframe] = Changed(ChangeKind.BAR_CLOSE, self.symbol, timeframe)
        return found


_NOTHING: tuple[Changed, ...] = ()


class MarketState:
    """The market as the engine sees it; the engine thread is its only writer."""

    def __init__(self, history: int = 1000) -> None:
        """``history``: closed bars kept per candle series (at least the largest ``[n]`` read)."""
        self.history = history
        self.anomalies = AnomalyLog()
        self._symbols: dict[str, SymbolState] = {}
        # what `replay_bar` found for the last bar: (symbol, timeframe) as the event spelled them,
        # then the live fields, the series and its interned close answer
        self._replayed: tuple[str, str, LiveFields, CandleSeries, tuple[Changed, ...]] | None = None

    def symbol(self, symbol: str) -> SymbolState:
        """The state of a symbol, created empty on first use."""
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = SymbolState(symbol, self.anomalies)
        return state

    def symbols(self) -> tuple[str, ...]:
        """Symbols seen or asked for, in the order they first appeared."""
        return tuple(self._symbols)

    def live_fields(self, symbol: str) -> LiveFields:
        """The live fields object of a symbol; the same object for the symbol's lifetime."""
        return self.symbol(symbol).live

    def order_book(self, symbol: str) -> OrderBook:
        """The order book of a symbol."""
        return self.symbol(symbol).book

    def candles(self, symbol: str, timeframe: str, aggregate_from: str | None = None) -> CandleSeries:
        """The candle series of a symbol and timeframe, created on first use.

        ``aggregate_from``: build its bars from the closed bars of that lower timeframe
        (created too if needed) instead of from klines of its own. Asking again with the
        same source is fine; a different source is a ValueError.
        """
        tf = normalize_timeframe(timeframe)
        state = self.symbol(symbol)
        series = state.candles.get(tf)
        if series is None:
            series = state.candles[tf] = CandleSeries(symbol, tf, self.history, self.anomalies)
        if aggregate_from is not None and series.source != normalize_timeframe(aggregate_from):
            self.candles(symbol, aggregate_from).aggregate_into(series)
        return series

    def indicator(self, symbol: str, spec: IndicatorSpec, lookback: int = 1) -> IndicatorHandle:
        """The handle of an indicator of a symbol (on the series of ``spec.timeframe``)."""
        return self.candles(symbol, spec.timeframe).indicator(spec, lookback)

    @property
    def anomaly_counts(self) -> Mapping[Anomaly, int]:
        """Bad data seen so far, by kind."""
        return self.anomalies.counts

    def apply(self, event: Event) -> tuple[Changed, ...]:
        """Update the state with a market event; return what changed (empty: nothing).

        Non-market events change nothing here and return an empty tuple.
        """
        if isinstance(event, TickerUpdate):
            return self._apply_ticker(event)
        if isinstance(event, BookUpdate):
            return self._apply_book(event)
        if isinstance(event, TradePrint):
            return self._apply_trade(event)
        if isinstance(event, KlineUpdate):
            return self.apply_kline(event)
        return _NOTHING

    def _apply_ticker(self, event: TickerUpdate) -> tuple[Changed, ...]:
        state = self.symbol(event.symbol)
        changed = state.ticker.apply(event)
        if not changed:
            return _NOTHING
        live = state.live
        state.ticker.copy_to(live, changed, quotes=not state.book.has_snapshot)
        live.ts_ms = event.ts_event_ms
        return state._changed[ChangeKind.TICKER]

    def _apply_book(self, event: BookUpdate) -> tuple[Changed, ...]:
        state = self.symbol(event.symbol)
        live = state.live
        book = state.book
        authoritative = book.has_snapshot
        before = (live.bid1, live.bid1_size, live.ask1, live.ask1_size)
        book.apply(event)
        if not book.has_snapshot:
            return _NOTHING
        top = book.top()
        if authoritative and _same(before, top):
            return _NOTHING
        live.set_quotes(top[0], top[1], top[2], top[3])
        live.ts_ms = event.ts_event_ms
        return state._changed[ChangeKind.BOOK]

    def _apply_trade(self, event: TradePrint) -> tuple[Changed, ...]:
        state = self.symbol(event.symbol)
        if not event.price > 0.0:
            self.anomalies.record(Anomaly.BAD_PRICE, f"symbol={event.symbol} trade price={event.price}")
            return _NOTHING
        state.live.set_last(event.price)
        state.live.ts_ms = event.ts_event_ms
        return state._changed[ChangeKind.TRADE]

    def apply_kline(self, event: KlineUpdate) -> tuple[Changed, ...]:
        """``apply`` for a kline, without the dispatch on the event's type (a replay's one call per bar)."""
        state = self._symbols.get(event.symbol)
        if state is None:
            state = self.symbol(event.symbol)
        series = state.candles.get(event.timeframe)
        if series is None:
            series = self.candles(event.symbol, event.timeframe)
        if event.confirm and event.start_ms > series.start_ms and series.forming is None:
            # the next closed bar, as a replay feeds them: what `on_kline` does with it, one call less
            closed = series.append_closed(
                event.start_ms, event.open, event.high, event.low, event.close, event.volume
            )
        else:
            closed = series.on_kline(event)
        if not closed:
            return _NOTHING
        if len(closed) == 1:
            tf = series.timeframe  # the one series that closed
            alone = state._closed_alone.get(tf)
            if alone is None:
                alone = state._closed_alone[tf] = (state.bar_closed(tf),)
            return alone
        # after a gap a series can close twice at once: report each series once, in order
        seen: dict[str, Changed] = {}
        for s in closed:
            seen.setdefault(s.timeframe, state.bar_closed(s.timeframe))
        return tuple(seen.values())

    def replay_bar(self, event: KlineUpdate) -> tuple[Changed, ...]:
        """A replayed bar (the last price is its close, as nothing else trades in a bar replay),
        then ``apply_kline``: a replay's one market call per bar.

        The next valid closed bar of a series with no aggregates and nothing forming — every bar
        of a replay — is closed here in one step: the ring stores of `CandleSeries.append_closed`
        and the indicator updates of `IndicatorCache.on_bar`, written out (each call saved is a
        fair part of a replayed bar). Any other kline takes `apply_kline`.
        """
        found = self._replayed
        # a replay's bars are mostly of one symbol and timeframe, each one string object: an
        # identity test finds their series without two dict lookups
        if found is None or event.symbol is not found[0] or event.timeframe is not found[1]:
            # the last price first: it is set even when the timeframe turns out to be bad
            self.live_fields(event.symbol).set_last(event.close)
            found = self._replay_target(event)
        live = found[2]
        live.price = live.last = event.close  # `LiveFields.set_last`
        series = found[3]
        start = event.start_ms
        if not (event.confirm and start > series.start_ms and series.forming is None and not series._children):
            return self.apply_kline(event)
        o, h, lo, c, v = event.open, event.high, event.low, event.close, event.volume
        # the validity test of `append_closed`, same comparisons in the same order; an invalid bar
        # (recorded and stored as unknown) takes the general path
        if not (0.0 < lo and lo <= o and o <= h and h < INF and lo <= c and c <= h and 0.0 <= v and v < INF):
            return self.apply_kline(event)
        i = series._pos
        opens, highs, lows, closes, volumes = series._cols
        opens[i] = o
        highs[i] = h
        lows[i] = lo
        closes[i] = c
        volumes[i] = v
        series._starts[i] = start
        series._pos = i + 1 if i + 1 < series.capacity else 0
        series.count += 1
        series.start_ms = start
        for kernel, outs in series.indicators._plan:
            values = kernel.update(o, h, lo, c, v)
            for handle, k in outs:
                x = values[k]
                pos = handle._pos
                hist = handle._hist
                hist[pos] = x
                handle._pos = pos + 1 if pos + 1 < len(hist) else 0
                handle.count += 1
                handle.value = x
        return found[4]

    def _replay_target(self, event: KlineUpdate) -> tuple[str, str, LiveFields, CandleSeries, tuple[Changed, ...]]:
        """What `replay_bar` needs for the symbol and timeframe of ``event`` (created if new)."""
        state = self.symbol(event.symbol)
        series = state.candles.get(event.timeframe)
        if series is None:
            series = self.candles(event.symbol, event.timeframe)
        tf = series.timeframe
        alone = state._closed_alone.get(tf)
        if alone is None:
            alone = state._closed_alone[tf] = (state.bar_closed(tf),)
        found = self._replayed = (event.symbol, event.timeframe, state.live, series, alone)
        return found

    def load_bars(
        self,
        symbol: str,
        timeframe: str,
        start_ms: list[int],
        open_: list[float],
        high: list[float],
        low: list[float],
        close: list[float],
        volume: list[float],
    ) -> int:
        """Append closed history bars (oldest first) as if their klines had been confirmed.

        For the history loaded at start; aggregates and indicators advance with them.
        Bars not later than the last one kept are skipped and counted. Returns the number
        of bars appended.
        """
        series = self.candles(symbol, timeframe)
        appended = 0
        for bar in zip(start_ms, open_, high, low, close, volume, strict=True):
            if series.count and bar[0] <= series.start_ms:
                kind = Anomaly.DUPLICATE_BAR if bar[0] == series.start_ms else Anomaly.OUT_OF_ORDER_BAR
                self.anomalies.record(kind, f"symbol={symbol} tf={series.timeframe} start_ms={bar[0]} (history)")
                continue
            series.append_closed(*bar)
            appended += 1
        return appended


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Equal, with NaN equal to NaN (both unknown)."""
    return all(x == y or (x != x and y != y) for x, y in zip(a, b, strict=True))
