"""Run a backtest: rule files + kline files -> a ``BacktestResult``.

The rules run in the live engine against the paper exchange in bar mode, with a simulated
clock, fed closed bars by ``rulebot.backtest.fastpath.fast_replay_bars`` (which hands over only
the bars where something can happen, with the result of ``rulebot.engine.replay.replay_bars``):
the engine's own code path, with no backtest-only strategy code
(ARCHITECTURE.md). This module
only loads and checks the inputs, taps what the exchange reports (``trades.FillTape``) and
turns it, with the journal, into trades, the equity curve and per-rule statistics.

Order of work, so that each problem is told before anything slow runs: rule files (lint
errors -> :class:`RuleFileError`), then the data (unreadable, wrong columns, damaged rows,
nothing in the range -> :class:`CannotRun`; gaps, duplicates, unsorted rows -> warnings),
then the replay. Bars before ``start_ms`` only warm the indicators up.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rulebot.backtest.data import MarketData, load_market_data, replay_events, window
from rulebot.backtest.errors import CannotRun, RuleFileError
from rulebot.backtest.fastpath import fast_replay_bars
from rulebot.backtest.options import DataSpec
from rulebot.backtest.result import BacktestResult, FireMark, RuleStats
from rulebot.backtest.trades import Closes, FillTape, build_trades, equity_curve
from rulebot.engine.account import AccountBook
from rulebot.engine.loop import Engine
from rulebot.engine.replay import replay_bars
from rulebot.engine.ruleset import (
    CompileContext, FileRules, RiskConfigError, RuleSet, compile_analysis, instrument_lookup,
)
from rulebot.exchange.errors import RetCode
from rulebot.exchange.paper.exchange import FillMode, PaperConfig, PaperExchange
from rulebot.journal.journal import Journal, JournalError
from rulebot.journal.records import EntryKind
from rulebot.lang.lint import FileAnalysis, analyze_file
from rulebot.market.state import MarketState
from rulebot.model.clock import SimClock
from rulebot.model.enums import Category, OrderStatus
from rulebot.model.events import Event

BYBIT_MAKER_FEE = Decimal("0.0002")
BYBIT_TAKER_FEE = Decimal("0.00055")
HISTORY_BARS = 1000  # closed bars kept per candle series, as prepare_replay keeps them
REPLAY_GC_THRESHOLD = 50_000  # allocations between young-generation collections during a replay

Progress = Callable[[int], None]
"""Told the number of bars replayed since it was last called (warm-up bars included)."""


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Everything one backtest run needs; times are epoch ms, UTC, ``end_ms`` excluded.

    ``params``: values for ``${name}`` parameters, as the texts the rule language reads,
    applied to each file that declares the name (a sweep's combination).
    ``journal``: a new SQLite file to keep the run's journal in (``rulebot journal`` reads it);
    ``None`` keeps it in memory.
    """

    files: tuple[Path, ...]
    data: tuple[DataSpec, ...]
    start_ms: int | None = None
    end_ms: int | None = None
    balance: Decimal = Decimal("10000")
    fee_maker: Decimal = BYBIT_MAKER_FEE
    fee_taker: Decimal = BYBIT_TAKER_FEE
    slippage_ticks: int = 0
    timeframe: str | None = None
    params: tuple[tuple[str, str], ...] = field(default=())
    journal: Path | None = None


def run_backtest(config: BacktestConfig, progress: Progress | None = None, *,
                 every: int = 20_000) -> BacktestResult:
    """Check the inputs and replay them; raises ``RuleFileError`` or ``CannotRun``.

    ``progress`` (a progress bar) is told every ``every`` bars.
    """
    analyses = load_rule_files(config.files, dict(config.params))
    data = load_market_data(config.data, traded_symbols(analyses), config.timeframe)
    return replay(analyses, data, config, progress, every=every)


def load_rule_files(files: Sequence[Path], params: Mapping[str, str]) -> tuple[FileAnalysis, ...]:
    """Analyse each rule file with the ``params`` it declares; raises ``CannotRun`` for a file
    that cannot be read or a parameter no file declares, ``RuleFileError`` for lint errors."""
    if not files:
        raise CannotRun("no rule file given")
    analyses: list[FileAnalysis] = []
    declared: set[str] = set()
    for path in files:
        if not path.is_file():
            raise CannotRun(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
        analysis = analyze_file(path)
        if analysis.rule_file is None and any(d.code == "E101" for d in analysis.diagnostics):
            raise CannotRun(f"{path}: cannot be read")
        if analysis.rule_file is not None and params:
            mine = {k: v for k, v in params.items() if k in analysis.rule_file.params}
            declared |= mine.keys()
            if mine:
                analysis = analyze_file(path, overrides=mine)
        analyses.append(analysis)
    failed = tuple(a for a in analyses if a.has_errors or a.rule_file is None)
    if failed:
        raise RuleFileError(failed)
    unknown = sorted(set(params) - declared)
    if unknown:
        raise CannotRun(f"no rule file declares the parameter{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(unknown)} under 'params:'")
    for analysis in analyses:
        assert analysis.rule_file is not None
        if analysis.rule_file.category is not Category.LINEAR:
            raise CannotRun(f"{analysis.file}: category {analysis.rule_file.category.value}: "
                            "the backtest simulates linear (USDT) contracts only")
    return tuple(analyses)


def traded_symbols(analyses: Iterable[FileAnalysis]) -> tuple[str, ...]:
    """Every symbol the files trade, in first-seen order."""
    return tuple(dict.fromkeys(s for a in analyses if a.rule_file is not None for s in a.rule_file.symbols))


@dataclass(slots=True)
class _Wiring:
    engine: Engine
    paper: PaperExchange
    clock: SimClock
    tape: FillTape


def _wire(analyses: Sequence[FileAnalysis], data: MarketData, config: BacktestConfig) -> _Wiring:
    """The engine over the compiled files and a bar-mode paper exchange whose reports are taped.

    ``prepare_replay`` builds the same, from paths; here the analyses carry the sweep's
    parameter values, and the exchange's reports go through the tape on their way.
    """
    first = min(int(s.ts_ms[0]) for s in data.series.values())
    clock = SimClock(first)
    market = MarketState(history=HISTORY_BARS)
    lookup = instrument_lookup(None)
    accounts = AccountBook(clock, lambda symbol: lookup(symbol).settle_coin.upper(), market.live_fields)
    ctx = CompileContext(market, accounts, clock, lookup, feed_timeframe=data.timeframe)
    try:
        files = tuple(compile_analysis(a, ctx) for a in analyses)
    except RiskConfigError as err:
        raise RuleFileError((), str(err)) from None
    _check_feeds(files, data.timeframe)
    tape = FillTape(clock)
    sink: list[Engine] = []
    record = tape.record

    def emit(event: Event) -> None:
        record(event)
        sink[0].emit(event)

    paper = PaperExchange(emit, clock, PaperConfig(
        initial_balance=config.balance, taker_fee=config.fee_taker, maker_fee=config.fee_maker,
        slippage_ticks=config.slippage_ticks, fill_mode=FillMode.BARS,
    ))
    journal = Journal.memory() if config.journal is None else _journal_file(config.journal)
    engine = Engine(RuleSet(files), market, paper, journal, clock, accounts=accounts,
                    instruments=lookup, persist_state=False, feed_timeframe=data.timeframe)
    sink.append(engine)
    return _Wiring(engine, paper, clock, tape)


def _journal_file(path: Path) -> Journal:
    """The run's journal in a new file, written in batches (a backtest need not survive a crash)."""
    try:
        return Journal(path, batch=True)
    except JournalError as err:
        raise CannotRun(f"--journal {path}: {err}") from None


def _check_feeds(files: Iterable[FileRules], timeframe: str) -> None:
    """Every series the rules read must be the replayed one or built from it."""
    for file in files:
        for feed in file.feeds:
            if feed.aggregate_from is None and feed.timeframe != timeframe:
                raise CannotRun(
                    f"{file.path}: the rules read {feed.timeframe} bars of {feed.symbol}, which cannot be "
                    f"built from {timeframe} bars; replay finer data (or a finer --timeframe)"
                )


def replay(analyses: Sequence[FileAnalysis], data: MarketData, config: BacktestConfig,
           progress: Progress | None = None, *, every: int = 20_000,
           event_by_event: bool = False) -> BacktestResult:
    """Replay checked rule files over loaded data between ``config.start_ms`` and ``end_ms``.

    By default through ``fast_replay_bars`` (the same engine and exchange, skipping the bars
    where nothing can happen); ``event_by_event`` hands every bar over (``replay_bars``), the
    reference the fast path is tested against.
    """
    span = window(data, config.start_ms, config.end_ms)
    began = time.perf_counter()
    wiring = _wire(analyses, data, config)
    with _quiet_engine(), _few_collections():
        if event_by_event:
            events = replay_events(data, span.cut_ms)
            if progress is not None:
                events = _reporting(events, progress, every)
            stats = replay_bars(wiring.engine, wiring.paper, wiring.clock, events, start_ms=span.start_ms)
        else:
            series = {symbol: s.window(None, span.cut_ms) for symbol, s in data.series.items()}
            stats = fast_replay_bars(wiring.engine, wiring.paper, wiring.clock, series, start_ms=span.start_ms,
                                     analyses=analyses, progress=progress, every=every)
        wiring.engine.stop()
    try:
        return _result(wiring, data, config, span.start_ms, span.end_ms, stats.bars, began)
    finally:
        wiring.engine.journal.close()


def _reporting(events: Iterator[Event], progress: Progress, every: int) -> Iterator[Event]:
    """``events``, telling ``progress`` every ``every`` of them (not per bar: it must cost nothing)."""
    n = 0
    for event in events:
        yield event
        n += 1
        if n == every:
            progress(n)
            n = 0
    if n:
        progress(n)


@contextmanager
def _few_collections() -> Iterator[None]:
    """A replay makes millions of short-lived objects that reference counting frees; the cyclic
    collector's young-generation passes, run every 700 allocations by default, find next to
    nothing in them and cost a tenth of the replay. Run them less often while it lasts."""
    before = gc.get_threshold()
    gc.set_threshold(REPLAY_GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def _quiet_engine() -> Iterator[None]:
    """The engine logs each fire and refusal for a live operator; a backtest counts them in its
    tables instead, so its logs are held back to errors while it runs."""
    logger = logging.getLogger("rulebot")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(before)


def _result(wiring: _Wiring, data: MarketData, config: BacktestConfig, start_ms: int, end_ms: int,
            bars: int, began: float) -> BacktestResult:
    journal = wiring.engine.journal
    orders = journal.order_owners()
    rule_of_link = {link: rule for link, rule, _ in orders}
    trades = build_trades(wiring.tape, rule_of_link)
    closes = {}
    for symbol, series in data.series.items():
        lo, hi = series.ts_ms.searchsorted(start_ms), series.ts_ms.searchsorted(end_ms - data.interval_ms, "right")
        closes[symbol] = Closes(series.ts_ms[lo:hi] + data.interval_ms, series.close[lo:hi])
    initial = float(config.balance)
    curve = equity_curve(wiring.tape, start_ms, initial, closes)
    fires = tuple(FireMark(ts_ms, rule, symbol) for ts_ms, rule, symbol in journal.fire_times())
    rule_stats = _rule_stats(wiring.engine, journal, fires, orders)
    warnings = list(data.warnings)
    for kind, count in wiring.engine.bad.counts.items():
        warnings.append(f"the engine met bad input {count} time{'s' if count > 1 else ''} ({kind}); "
                        "the conditions that read it were unknown there")
    return BacktestResult(
        symbols=tuple(data.series),
        timeframe=data.timeframe,
        bars=bars,
        seconds=time.perf_counter() - began,
        start_ms=start_ms,
        end_ms=end_ms,
        initial_balance=initial,
        final_equity=float(curve.values[-1]),
        trades=trades,
        equity=curve,
        fires=fires,
        rule_stats=rule_stats,
        data_warnings=tuple(warnings),
    )


def _rule_stats(engine: Engine, journal: Journal, fires: Sequence[FireMark],
                orders: Sequence[tuple[str, str, str]]) -> tuple[RuleStats, ...]:
    """Per rule, in file order: fires, orders accepted, refusals counted by reason."""
    names = list(dict.fromkeys(rule.name for file in engine.ruleset.files for rule in file.rules))
    fired = Counter(f.rule for f in fires)
    placed = Counter(rule for _, rule, status in orders if status != OrderStatus.REJECTED.value)
    refused: dict[str, Counter[str]] = {}
    for entry in journal.entries(kind=EntryKind.REJECTION):
        refused.setdefault(entry.rule, Counter())[rejection_label(dict(entry.fields)["code"])] += 1
    for name in list(fired) + list(refused):
        if name not in names and name:
            names.append(name)
    return tuple(
        RuleStats(name, fired[name], placed[name], tuple(refused.get(name, Counter()).most_common()))
        for name in names
    )


def rejection_label(code: str) -> str:
    """A refusal's reason for the tables: the risk limit's name, or the exchange's retCode named."""
    if code.isdigit():
        try:
            return f"{RetCode(int(code)).name.lower()} ({code})"
        except ValueError:
            return f"exchange retCode {code}"
    return code


__all__ = [
    "BYBIT_MAKER_FEE", "BYBIT_TAKER_FEE", "BacktestConfig", "CannotRun", "Progress", "RuleFileError",
    "load_rule_files", "rejection_label", "replay", "run_backtest", "traded_symbols",
]
