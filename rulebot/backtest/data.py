"""The candles of a backtest: read per symbol, checked, put on one timeframe, cut to a range.

Reading and checking a file is ``rulebot.backtest.replay.read_klines``; here its report is
judged for a backtest. Rows it had to leave out (a cell that is not a number, an empty cell,
a zero or negative price, a high and low that do not contain the open and close) mean the
file is damaged: the backtest does not run on it (``CannotRun``). What can safely be replayed
around — gaps, duplicate or unsorted timestamps, bars off the grid, zero volume — becomes a
warning and the run goes on.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter

import numpy as np

from rulebot.backtest.errors import CannotRun
from rulebot.backtest.options import DataSpec
from rulebot.backtest.replay import DataError, DataReport, KlineSeries, ProblemKind, read_klines
from rulebot.market.timeframes import check_aggregation, normalize_timeframe
from rulebot.model.events import KlineUpdate

DAMAGED = frozenset({
    ProblemKind.NON_NUMERIC, ProblemKind.MISSING_VALUE, ProblemKind.NON_POSITIVE_PRICE,
    ProblemKind.INCONSISTENT_OHLC, ProblemKind.NEGATIVE_VOLUME,
})


@dataclass(frozen=True, slots=True, eq=False)
class MarketData:
    """Every traded symbol's bars on one timeframe (in the rule files' symbol order), and the
    warnings about them."""

    series: Mapping[str, KlineSeries]
    timeframe: str
    interval_ms: int
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """The replayed range: open of the first bar, close of the last, bars opening before ``cut_ms``."""

    start_ms: int
    end_ms: int
    cut_ms: int | None


def load_market_data(specs: Sequence[DataSpec], symbols: Sequence[str], timeframe: str | None = None) -> MarketData:
    """Read the data of each traded symbol; raises ``CannotRun`` when it cannot be replayed."""
    paths = _assign(specs, symbols)
    warnings: list[str] = []
    extra = [s.symbol for s in specs if s.symbol is not None and s.symbol not in symbols]
    for symbol in extra:
        warnings.append(f"--data {symbol}=...: no rule file trades {symbol}; its data is not replayed")
    loaded: dict[str, KlineSeries] = {}
    for symbol in symbols:
        try:
            series = read_klines(paths[symbol], symbol)
        except DataError as err:
            raise CannotRun(str(err)) from None
        _refuse_damaged(series.report)
        warnings.extend(series.report.messages())
        loaded[symbol] = series
    intervals = {s.timeframe for s in loaded.values()}
    target = _target_timeframe(timeframe, intervals, loaded)
    if target is not None:
        loaded = {symbol: aggregate(series, target) for symbol, series in loaded.items()}
    first = next(iter(loaded.values()))
    return MarketData(loaded, first.timeframe, first.interval_ms, tuple(warnings))


def _assign(specs: Sequence[DataSpec], symbols: Sequence[str]) -> dict[str, str]:
    if len(specs) == 1 and specs[0].symbol is None:
        if len(symbols) > 1:
            raise CannotRun(f"the rule files trade {', '.join(symbols)}: give each its data, "
                            f"--data {symbols[0]}=FILE --data {symbols[1]}=FILE")
        return {symbols[0]: str(specs[0].path)}
    given = {s.symbol: str(s.path) for s in specs}
    missing = [s for s in symbols if s not in given]
    if missing:
        raise CannotRun(f"no --data for {', '.join(missing)}, which the rule files trade: add --data {missing[0]}=FILE")
    return {s: given[s] for s in symbols}


def _refuse_damaged(report: DataReport) -> None:
    damaged = [p for p in report.problems if p.kind in DAMAGED]
    if damaged:
        what = "; ".join(p.message.replace(" (left out)", "") for p in damaged)
        raise CannotRun(f"{report.path}: {what}. Fix or remove those rows: the backtest does not run on damaged data")


def _target_timeframe(timeframe: str | None, intervals: set[str], loaded: Mapping[str, KlineSeries]) -> str | None:
    """The timeframe to aggregate to, ``None`` when the data is replayed as it is."""
    if timeframe is None:
        if len(intervals) > 1:
            shown = ", ".join(f"{s} {k.timeframe}" for s, k in loaded.items())
            raise CannotRun(f"the data files have different intervals ({shown}): give --timeframe to replay one")
        return None
    try:
        target = normalize_timeframe(timeframe)
    except ValueError as err:
        raise CannotRun(f"--timeframe: {err}") from None
    for interval in intervals - {target}:
        try:
            check_aggregation(interval, target)
        except ValueError:
            raise CannotRun(f"--timeframe {timeframe}: cannot be built from the data's {interval} bars "
                            f"(it must be a whole multiple of {interval}, up to 1d)") from None
    return None if intervals == {target} else target


def aggregate(series: KlineSeries, timeframe: str) -> KlineSeries:
    """``series`` as bars of ``timeframe`` (a whole multiple of its own), on UTC epoch multiples.

    A first or last bar that the data covers only in part is left out (it never closed in the data).
    """
    if series.timeframe == timeframe:
        return series
    src_ms, dst_ms = check_aggregation(series.timeframe, timeframe)
    ts = series.ts_ms
    bucket = ts - ts % dst_ms
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    ends = np.append(starts[1:], ts.size)
    keep = np.ones(starts.size, dtype=bool)
    covered = (ts[ends - 1] - ts[starts]) // src_ms + 1
    ratio = dst_ms // src_ms
    if ts[starts[0]] != bucket[starts[0]] or covered[0] < ratio:
        keep[0] = False
    if covered[-1] < ratio:
        keep[-1] = False
    out = KlineSeries(
        series.symbol, timeframe, dst_ms,
        bucket[starts][keep],
        series.open[starts][keep],
        np.maximum.reduceat(series.high, starts)[keep],
        np.minimum.reduceat(series.low, starts)[keep],
        series.close[ends - 1][keep],
        np.add.reduceat(series.volume, starts)[keep],
        series.report,
    )
    if not len(out):
        raise CannotRun(f"{series.report.path}: not one whole {timeframe} bar in the data")
    return out


def window(data: MarketData, start_ms: int | None, end_ms: int | None) -> Span:
    """The replayed range for ``--from`` / ``--to``; ``CannotRun`` when a symbol has no bar in it."""
    firsts: list[int] = []
    lasts: list[int] = []
    for symbol, series in data.series.items():
        part = series.window(start_ms, end_ms)
        if not len(part):
            raise CannotRun(
                f"{symbol}: no bars {_range_text(start_ms, end_ms)}; the data runs from "
                f"{_utc(int(series.ts_ms[0]))} to {_utc(int(series.ts_ms[-1]) + series.interval_ms)}"
            )
        firsts.append(int(part.ts_ms[0]))
        lasts.append(int(part.ts_ms[-1]) + series.interval_ms)
    return Span(min(firsts), max(lasts), end_ms)


def replay_events(data: MarketData, cut_ms: int | None) -> Iterator[KlineUpdate]:
    """Every bar opening before ``cut_ms`` (warm-up included) as events, in close-time order."""
    streams = [series.window(None, cut_ms).events() for series in data.series.values()]
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=attrgetter("ts_event_ms"))


def _range_text(start_ms: int | None, end_ms: int | None) -> str:
    if start_ms is not None and end_ms is not None:
        return f"from {_utc(start_ms)} to {_utc(end_ms)}"
    if start_ms is not None:
        return f"from {_utc(start_ms)} on"
    if end_ms is not None:
        return f"before {_utc(end_ms)}"
    return "at all"


def _utc(ts_ms: int) -> str:
    moment = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
