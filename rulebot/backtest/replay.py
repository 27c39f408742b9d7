"""Kline files for replay: read, check, report, and turn into closed-bar events.

A file is CSV or gzip-compressed CSV with the header ``timestamp,open,high,low,close,volume``,
``timestamp`` the bar's open time in epoch milliseconds (the format of ``../shared/data``).

What makes a file unusable raises :class:`DataError` with one clear sentence: a missing or
unreadable file, wrong columns, no usable row, bar spacing that is no Bybit timeframe. What
can be replayed around is fixed and told in a :class:`DataReport`: rows with non-numeric,
missing or non-positive values, or with high/low not containing open/close, are left out;
rows out of order are sorted; of a duplicated timestamp the last row is kept; gaps, zero-volume
bars and times off the bar grid are only counted. Each problem says how many and where the
first ones are.
"""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from rulebot.market.timeframes import TIMEFRAMES, timeframe_ms
from rulebot.model.events import KlineUpdate

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
_PRICES = ("open", "high", "low", "close")
_FIRST = 5  # how many first occurrences a problem names
_TF_BY_MS = {ms: name for name in TIMEFRAMES if (ms := timeframe_ms(name)) is not None}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class DataError(Exception):
    """The data file cannot be replayed; the message says why, naming the file."""


class ProblemKind(str, Enum):
    """What can be wrong in a kline file that is still usable."""

    NON_NUMERIC = "non_numeric"
    MISSING_VALUE = "missing_value"
    NON_POSITIVE_PRICE = "non_positive_price"
    INCONSISTENT_OHLC = "inconsistent_ohlc"
    NEGATIVE_VOLUME = "negative_volume"
    UNSORTED = "unsorted"
    DUPLICATE = "duplicate"
    GAP = "gap"
    OFF_GRID = "off_grid"
    ZERO_VOLUME = "zero_volume"


@dataclass(frozen=True, slots=True)
class DataProblem:
    """One kind of problem: how many rows (or gaps), the first few timestamps and file lines,
    whether those rows were left out, and one sentence for the user."""

    kind: ProblemKind
    count: int
    first_ts_ms: tuple[int, ...]
    first_lines: tuple[int, ...]
    dropped: bool
    message: str
    missing_bars: int = 0


@dataclass(frozen=True, slots=True)
class DataReport:
    """What reading a file found: rows read and kept, and each problem (in a fixed order)."""

    path: str
    rows_read: int
    rows_used: int
    problems: tuple[DataProblem, ...] = ()

    @property
    def clean(self) -> bool:
        """True when nothing at all was found."""
        return not self.problems

    def problem(self, kind: ProblemKind) -> DataProblem | None:
        """The problem of ``kind``, if there is one."""
        return next((p for p in self.problems if p.kind is kind), None)

    def messages(self) -> list[str]:
        """One line per problem, naming the file."""
        return [f"{self.path}: {p.message}" for p in self.problems]


@dataclass(frozen=True, slots=True, eq=False)
class KlineSeries:
    """Closed bars of one symbol, ascending and unique: ``ts_ms`` is each bar's open time."""

    symbol: str
    timeframe: str
    interval_ms: int
    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    report: DataReport = field(default_factory=lambda: DataReport("", 0, 0))

    def __len__(self) -> int:
        return int(self.ts_ms.size)

    def window(self, start_ms: int | None = None, end_ms: int | None = None) -> KlineSeries:
        """The bars opening in [``start_ms``, ``end_ms``), possibly none."""
        lo = 0 if start_ms is None else int(np.searchsorted(self.ts_ms, start_ms, side="left"))
        hi = len(self) if end_ms is None else int(np.searchsorted(self.ts_ms, end_ms, side="left"))
        cut = slice(lo, max(lo, hi))
        return KlineSeries(
            self.symbol,
            self.timeframe,
            self.interval_ms,
            self.ts_ms[cut],
            self.open[cut],
            self.high[cut],
            self.low[cut],
            self.close[cut],
            self.volume[cut],
            self.report,
        )

    def events(self) -> Iterator[KlineUpdate]:
        """Each bar as a closed-bar ``KlineUpdate`` (``confirm=True``), stamped at its close time."""
        return kline_events(self)


def kline_events(series: KlineSeries) -> Iterator[KlineUpdate]:
    """The bars of ``series`` as ``KlineUpdate`` events, in order, for event-by-event replay.

    ``ts_event_ms`` (and ``ts_recv_ms``) is the bar's close time, start + interval: when the
    confirmed bar exists. Values are plain Python floats and ints.
    """
    symbol, timeframe, step = series.symbol, series.timeframe, series.interval_ms
    rows = zip(
        series.ts_ms.tolist(),
        series.open.tolist(),
        series.high.tolist(),
        series.low.tolist(),
        series.close.tolist(),
        series.volume.tolist(),
        strict=True,
    )
    if not _DRAFT_WORKS:
        for start, o, h, lo, c, v in rows:
            end = start + step
            yield KlineUpdate(symbol, timeframe, end, end, start, o, h, lo, c, v, True)
        return
    # A frozen dataclass sets each field through object.__setattr__, and a slot setter called from
    # Python builds an argument tuple: eleven of either cost more than the rest of a replayed bar's
    # market update. A draft with the same slots takes plain attribute stores and then becomes the
    # KlineUpdate it describes (same layout, so the class switch is allowed), frozen from then on.
    draft, kline = _KlineDraft, KlineUpdate
    for start, o, h, lo, c, v in rows:
        end = start + step
        e = draft()
        e.symbol = symbol
        e.timeframe = timeframe
        e.ts_event_ms = end
        e.ts_recv_ms = end
        e.start_ms = start
        e.open = o
        e.high = h
        e.low = lo
        e.close = c
        e.volume = v
        e.confirm = True
        e.__class__ = kline
        yield e


class _KlineDraft:
    """A KlineUpdate being built: its slots, none of its freezing (see `kline_events`)."""

    __slots__ = tuple(f.name for f in dataclasses.fields(KlineUpdate))


def _draft_works() -> bool:
    """Whether a draft turns into a KlineUpdate equal to the one its constructor makes (the slots
    are still KlineUpdate's, in order, and nothing else is in its layout)."""
    if getattr(KlineUpdate, "__slots__", None) != _KlineDraft.__slots__:
        return False
    values = ("X", "1m", 2, 2, 1, 1.0, 2.0, 0.5, 1.5, 3.0, True)
    e = _KlineDraft()
    for name, value in zip(_KlineDraft.__slots__, values, strict=True):
        setattr(e, name, value)
    try:
        e.__class__ = KlineUpdate  # type: ignore[assignment]
    except TypeError:
        return False
    return e == KlineUpdate(*values)  # type: ignore[arg-type]


_DRAFT_WORKS = _draft_works()


def read_klines(path: str | Path, symbol: str, *, timeframe: str | None = None) -> KlineSeries:
    """Read and check a kline CSV / CSV.gz; raises ``DataError`` when it cannot be replayed.

    ``timeframe`` (e.g. ``"1m"``) fixes the bar length; by default it is the most common spacing
    of the timestamps, which must be a Bybit timeframe.
    """
    name = str(path)
    frame = _load(Path(path), name)
    rows_read = len(frame)
    lines = np.arange(2, rows_read + 2, dtype=np.int64)  # file line of each row (header is line 1)
    problems: list[DataProblem] = []
    (ts_f, o, h, lo, c, v), missing, non_numeric, example = _cells(frame, name, lines)
    bad = missing | non_numeric
    ts_show = np.where(bad, -1, np.nan_to_num(ts_f, nan=-1.0)).astype(np.int64)

    def add(kind: ProblemKind, mask: npt.NDArray[np.bool_], what: str, dropped: bool = True) -> None:
        count = int(mask.sum())
        if count:
            first_lines = tuple(int(x) for x in lines[mask][:_FIRST])
            first_ts = tuple(int(x) for x in ts_show[mask][:_FIRST] if x >= 0)
            where = f"first at line{'s' if len(first_lines) > 1 else ''} {', '.join(map(str, first_lines))}"
            if kind is ProblemKind.NON_NUMERIC and example:
                where += f" ({example})"
            fate = "left out" if dropped else "kept"
            problems.append(
                DataProblem(
                    kind,
                    count,
                    first_ts,
                    first_lines,
                    dropped,
                    f"{count} row{_s(count)} {what} ({fate}); {where}",
                )
            )

    add(ProblemKind.NON_NUMERIC, non_numeric, "with a cell that is not a number")
    add(ProblemKind.MISSING_VALUE, missing & ~non_numeric, "with an empty or NaN cell")
    ok = ~bad
    with np.errstate(invalid="ignore"):
        non_positive = ok & ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0))
        add(ProblemKind.NON_POSITIVE_PRICE, non_positive, "with a zero or negative price")
        ok &= ~non_positive
        inconsistent = ok & ((lo > np.minimum(o, c)) | (h < np.maximum(o, c)))
        add(ProblemKind.INCONSISTENT_OHLC, inconsistent, "whose high and low do not contain open and close")
        ok &= ~inconsistent
        negative_volume = ok & (v < 0)
        add(ProblemKind.NEGATIVE_VOLUME, negative_volume, "with a negative volume")
        ok &= ~negative_volume
    if not ok.any():
        raise DataError(f"{name}: no usable row among {rows_read}" + _why_none(problems))

    ts = ts_f[ok].astype(np.int64)
    keep_lines = lines[ok]
    cols = [x[ok] for x in (o, h, lo, c, v)]
    if ts.size and int(ts.max()) < 100_000_000_000:
        raise DataError(f"{name}: timestamps look like seconds ({int(ts[0])}); expected epoch milliseconds")

    back = np.zeros(ts.size, dtype=bool)
    back[1:] = ts[1:] < np.maximum.accumulate(ts)[:-1]
    if back.any():
        idx = np.flatnonzero(back)
        problems.append(_at(ProblemKind.UNSORTED, idx, ts, keep_lines, False,
                            f"{idx.size} row{_s(idx.size)} out of time order (sorted)"))
        order = np.argsort(ts, kind="stable")
        ts, keep_lines = ts[order], keep_lines[order]
        cols = [x[order] for x in cols]

    dup = np.zeros(ts.size, dtype=bool)
    dup[:-1] = ts[:-1] == ts[1:]  # an earlier row of a repeated timestamp: the last one wins
    if dup.any():
        idx = np.flatnonzero(dup)
        problems.append(_at(ProblemKind.DUPLICATE, idx, ts, keep_lines, True,
                            f"{idx.size} duplicate timestamp{_s(idx.size)} (the last row of each kept)"))
        keep = ~dup
        ts, keep_lines = ts[keep], keep_lines[keep]
        cols = [x[keep] for x in cols]

    interval = _interval(ts, timeframe, name)
    tf_name = timeframe if timeframe is not None else _TF_BY_MS[interval]
    off = ts % interval != 0
    if off.any():
        idx = np.flatnonzero(off)
        problems.append(_at(ProblemKind.OFF_GRID, idx, ts, keep_lines, False,
                            f"{idx.size} bar{_s(idx.size)} not starting on a {tf_name} boundary"))
    if ts.size > 1:
        steps = np.diff(ts)
        gap_idx = np.flatnonzero(steps > interval)
        if gap_idx.size:
            missing_per = (steps[gap_idx] + interval - 1) // interval - 1
            total = int(missing_per.sum())
            starts = ts[gap_idx] + interval
            shown = ", ".join(
                f"{_iso(int(t))} ({int(m)} bar{_s(int(m))})"
                for t, m in zip(starts[:_FIRST], missing_per[:_FIRST], strict=True)
            )
            problems.append(
                DataProblem(
                    ProblemKind.GAP,
                    int(gap_idx.size),
                    tuple(int(t) for t in starts[:_FIRST]),
                    tuple(int(x) for x in keep_lines[gap_idx + 1][:_FIRST]),
                    False,
                    f"{gap_idx.size} gap{_s(int(gap_idx.size))}, {total} bar{_s(total)} missing;"
                    f" first: {shown}",
                    missing_bars=total,
                )
            )
    zero_volume = cols[4] == 0
    if zero_volume.any():
        idx = np.flatnonzero(zero_volume)
        problems.append(_at(ProblemKind.ZERO_VOLUME, idx, ts, keep_lines, False,
                            f"{idx.size} bar{_s(idx.size)} with zero volume (kept)"))

    report = DataReport(name, rows_read, int(ts.size), tuple(problems))
    o, h, lo, c, v = (np.ascontiguousarray(x, dtype=np.float64) for x in cols)
    for a in (ts, o, h, lo, c, v):
        a.setflags(write=False)
    return KlineSeries(symbol, tf_name, interval, ts, o, h, lo, c, v, report=report)


def _cells(frame: pd.DataFrame, name: str, lines: IntArray) -> tuple[tuple[FloatArray, ...], BoolArray, BoolArray, str]:
    """The six columns as floats (NaN where a cell is not a number), the rows with an empty or NaN
    cell, the rows with another cell that is not a finite number, and the first such cell's text."""
    if frame.shape[1] == len(COLUMNS) and all(dtype.kind in "iuf" for dtype in frame.dtypes):
        # Every cell read as a number (the usual file): the masks below are what the general
        # path finds on such columns, without its text-to-number pass.
        arrays = tuple(frame[col].to_numpy(dtype=np.float64) for col in COLUMNS)
        stacked = np.stack(arrays)
        missing = np.isnan(stacked).any(axis=0)
        return arrays, missing, ~missing & np.isinf(stacked).any(axis=0), ""
    raw_ts = frame["timestamp"]
    ts_num = pd.to_numeric(raw_ts, errors="coerce")
    values = {col: pd.to_numeric(frame[col], errors="coerce") for col in COLUMNS[1:]}
    if ts_num.notna().sum() == 0 and raw_ts.notna().any():
        first = raw_ts[raw_ts.notna()].iloc[0]
        raise DataError(f"{name}: the timestamp column holds no epoch milliseconds (first value {first!r})")
    missing = raw_ts.isna().to_numpy().copy()
    non_numeric = (ts_num.isna() & raw_ts.notna()).to_numpy().copy()
    examples = [_first_bad_cell(frame, "timestamp", non_numeric, lines)]
    for col in COLUMNS[1:]:
        missing |= frame[col].isna().to_numpy()
        bad_col = (values[col].isna() & frame[col].notna()).to_numpy()
        examples.append(_first_bad_cell(frame, col, bad_col, lines))
        non_numeric |= bad_col
    example = min((e for e in examples if e[0]), default=(0, ""))[1]
    ts_f = ts_num.to_numpy(dtype=np.float64, na_value=np.nan)
    o, h, lo, c, v = (values[col].to_numpy(dtype=np.float64, na_value=np.nan) for col in COLUMNS[1:])
    non_numeric |= ~missing & ~non_numeric & ~np.isfinite(np.stack([ts_f, o, h, lo, c, v])).all(axis=0)
    return (ts_f, o, h, lo, c, v), missing, non_numeric, example


def _load(path: Path, name: str) -> pd.DataFrame:
    """The file as a frame of the six columns (as pandas read them), or a ``DataError``."""
    if not path.exists():
        raise DataError(f"{name}: no such file")
    if path.is_dir():
        raise DataError(f"{name}: is a folder, not a kline file")
    frame = _read_numbers(path)
    if frame is None:
        frame = _read_any(path, name)
    found = [str(c).strip().lower() for c in frame.columns]
    frame.columns = found
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise DataError(
            f"{name}: wrong columns: expected {','.join(COLUMNS)}, found {','.join(found) or 'none'}"
            f" (missing {', '.join(missing)})"
        )
    if frame.empty:
        raise DataError(f"{name}: has a header but no rows")
    return frame[list(COLUMNS)]


def _read_numbers(path: Path) -> pd.DataFrame | None:
    """The usual file, numbers only, read without guessing types or keeping text (a number may start
    with blanks); ``None`` when that fails for any reason (a cell that is not a number, an extra
    text column, headers that differ only by blanks, a damaged file...): ``_read_any`` then reads
    it again, keeps every cell and says what is wrong."""
    try:
        frame = pd.read_csv(path, compression="infer", dtype=np.float64)
    except (ValueError, OSError, EOFError, zlib.error):  # ParserError and UnicodeDecodeError are ValueErrors
        return None
    found = [str(c).strip().lower() for c in frame.columns]
    if len(set(found)) != len(found) or not set(COLUMNS) <= set(found):
        return None
    return frame


def _read_any(path: Path, name: str) -> pd.DataFrame:
    """The file with each column as pandas reads it, or a ``DataError``."""
    try:
        return pd.read_csv(path, compression="infer", skipinitialspace=True, low_memory=False)
    except pd.errors.EmptyDataError as err:
        raise DataError(f"{name}: the file is empty") from err
    except pd.errors.ParserError as err:
        raise DataError(f"{name}: not a CSV file pandas can read: {_first_line(err)}") from err
    except (UnicodeDecodeError, gzip.BadGzipFile, zlib.error, EOFError) as err:
        raise DataError(f"{name}: not a readable CSV or CSV.gz file ({err})") from err
    except OSError as err:
        raise DataError(f"{name}: cannot be read: {err.strerror or err}") from err


def _interval(ts: IntArray, timeframe: str | None, name: str) -> int:
    if timeframe is not None:
        try:
            step = timeframe_ms(timeframe)
        except ValueError as err:
            raise DataError(f"{name}: {err}") from err
        if step is None:
            raise DataError(f"{name}: timeframe {timeframe} has no fixed bar length to replay")
        return step
    if ts.size < 2:
        raise DataError(f"{name}: one bar only: the timeframe cannot be told; give it explicitly")
    diffs = np.diff(ts)
    step = int(diffs[0])  # a spacing of more than half the steps is the most common: no need to count
    if 2 * int(np.count_nonzero(diffs == step)) <= diffs.size:
        steps, counts = np.unique(diffs, return_counts=True)
        step = int(steps[np.argmax(counts)])
    if step not in _TF_BY_MS:
        raise DataError(f"{name}: bars are mostly {step} ms apart, which is no Bybit timeframe")
    return step


def _at(
    kind: ProblemKind, idx: npt.NDArray[np.intp], ts: IntArray, lines: IntArray, dropped: bool, what: str
) -> DataProblem:
    first_ts = tuple(int(t) for t in ts[idx][:_FIRST])
    shown = ", ".join(_iso(t) for t in first_ts)
    return DataProblem(
        kind,
        int(idx.size),
        first_ts,
        tuple(int(x) for x in lines[idx][:_FIRST]),
        dropped,
        f"{what}; first: {shown}",
    )


def _first_bad_cell(
    frame: pd.DataFrame, col: str, mask: npt.NDArray[np.bool_], lines: IntArray
) -> tuple[int, str]:
    """(line, ``"line 7: open 'abc'"``) for the first flagged cell of ``col``; (0, "") if none."""
    hits = np.flatnonzero(mask)
    if not hits.size:
        return 0, ""
    line = int(lines[hits[0]])
    return line, f"line {line}: {col} {str(frame[col].iloc[int(hits[0])])!r}"


def _why_none(problems: list[DataProblem]) -> str:
    return (": " + "; ".join(p.message for p in problems)) if problems else ""


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _s(n: int) -> str:
    return "" if n == 1 else "s"
