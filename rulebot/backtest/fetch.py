"""Download candles from Bybit into a kline file, resuming a partial one, written atomically.

The file is CSV (or gzip-compressed CSV for a ``.csv.gz`` name) with the header
``timestamp,open,high,low,close,volume``: ``timestamp`` is the bar's open time in epoch ms,
rows ascending, each timestamp once, numbers exactly as Bybit sent them. Only closed bars
are written; the bar still forming when the download starts is left for the next run.

Resuming: when the file exists and is a valid kline file of the same interval, only the
bars before its first row and after its last row are fetched, as far as the requested
window needs, and the file stays one contiguous series (a window that does not touch the
file's range also fetches the bars in between). A file that is not valid is never
overwritten: :class:`FetchError` says which line is wrong.

Atomic: the new file is written beside the old one under a temporary name, flushed to disk
and renamed over it, so an interrupted run leaves the old file or the new one, never half a
file. If the exchange fails (after its retries) or the user interrupts, the bars already
fetched that join the existing ones without a hole are saved that way before
:class:`DownloadStopped` is raised; running the same command again fetches the rest.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import re
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pybit.unified_trading import HTTP

from rulebot.exchange.bybit.market_data import (
    BarGrid,
    KlinePage,
    RetryNotice,
    RetryPolicy,
    fetch_klines,
)
from rulebot.exchange.errors import ExchangeError
from rulebot.model.clock import Clock
from rulebot.model.enums import Category

HEADER = "timestamp,open,high,low,close,volume"
DEFAULT_DAYS = 30
_DAY_MS = 86_400_000
_NUM = r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_BATCH = 10_000  # lines encoded and written at once
_ROW = re.compile(rf"([0-9]+),({_NUM}),({_NUM}),({_NUM}),({_NUM}),({_NUM})")


class FetchError(Exception):
    """The download cannot be done as asked (bad window, bad output file); the message says why."""


class NoCandles(FetchError):
    """The window holds no closed candle of the symbol, and there is no file to keep."""


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """What to download: the bars of ``symbol`` opening in [``start_ms``, ``end_ms``), into ``output``."""

    category: Category
    symbol: str
    timeframe: str
    start_ms: int
    end_ms: int
    output: Path


@dataclass(frozen=True, slots=True)
class FetchProgress:
    """Bars covered so far out of the bars the missing part of the window can hold."""

    done: int
    expected: int


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The file after a download: its rows and range, how many rows are new, whether it was rewritten."""

    path: Path
    rows: int
    fetched: int
    first_ms: int | None
    last_ms: int | None
    written: bool


class DownloadStopped(Exception):
    """The exchange failed or the user interrupted; ``saved`` is the file as it was left (None:
    untouched), ``cause`` the ``ExchangeError`` or ``KeyboardInterrupt``."""

    def __init__(self, cause: ExchangeError | KeyboardInterrupt, saved: FetchResult | None) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.cause = cause
        self.saved = saved


@dataclass(frozen=True, slots=True)
class ExistingFile:
    """What a valid kline file holds: row count and the first and last open times (None when empty)."""

    rows: int
    first_ms: int | None
    last_ms: int | None


@dataclass(frozen=True, slots=True)
class _Segment:
    lo_ms: int
    hi_ms: int
    # joins the existing rows at its newest end (or there are none), so any pages fetched,
    # newest first, already extend the file without a hole
    joined: bool
    before_file: bool


def parse_utc(text: str, option: str) -> int:
    """``YYYY-MM-DD`` or an ISO date-time (UTC unless it names an offset) as epoch ms."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FetchError(f"{option} '{text}' is not a date like 2025-06-01 or 2025-06-01T12:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def resolve_window(*, now_ms: int, days: int | None, date_from: str | None, date_to: str | None) -> tuple[int, int]:
    """[start, end) in epoch ms from ``--days`` or ``--from``/``--to`` (end defaults to now,
    start to ``days`` (default 30) before the end)."""
    if days is not None and date_from is not None:
        raise FetchError("give either --days or --from, not both")
    if days is not None and days < 1:
        raise FetchError(f"--days must be at least 1, not {days}")
    end = parse_utc(date_to, "--to") if date_to is not None else now_ms
    if date_from is not None:
        start = parse_utc(date_from, "--from")
    else:
        start = end - (days if days is not None else DEFAULT_DAYS) * _DAY_MS
    if start >= end:
        raise FetchError(f"the window is empty: {_utc(start)} is not before {_utc(end)}")
    return start, end


def download(
    request: FetchRequest,
    *,
    http: HTTP,
    clock: Clock,
    on_progress: Callable[[FetchProgress], None] | None = None,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> FetchResult:
    """Fetch what ``request.output`` lacks of the window and write the file atomically.

    Raises :class:`FetchError` when it cannot start (bad output name, invalid existing file),
    :class:`NoCandles` when there is nothing at all to write, and :class:`DownloadStopped`
    when the exchange fails or the user interrupts part way.
    """
    gz = _output_kind(request.output)
    grid = BarGrid(request.timeframe)
    existing = inspect_file(request.output, grid, gz=gz)
    newest = min(grid.floor(request.end_ms - 1), grid.last_closed(clock.now_ms()))
    segments = _plan(existing, request.start_ms, newest)
    counts = [grid.count(s.lo_ms, s.hi_ms) for s in segments]
    expected = sum(counts)
    pages: list[list[KlinePage]] = [[] for _ in segments]
    finished = 0
    _report(on_progress, 0, expected)
    try:
        for i, segment in enumerate(segments):
            done = sum(counts[:i])
            for page in fetch_klines(
                request.category,
                request.symbol,
                request.timeframe,
                segment.lo_ms,
                segment.hi_ms,
                http=http,
                clock=clock,
                retry=retry,
                sleep=sleep,
                on_retry=on_retry,
            ):
                pages[i].append(page)
                done += grid.count(page.lo_ms, page.hi_ms)
                _report(on_progress, min(done, expected), expected)
            finished = i + 1
        _report(on_progress, expected, expected)
    except (ExchangeError, KeyboardInterrupt) as stop:
        # an unfinished segment that does not join the file would leave a hole: drop its pages
        kept = [p if i < finished or segments[i].joined else [] for i, p in enumerate(pages)]
        has_new = any(page.rows for part in kept for page in part)
        saved = _save(request.output, gz, existing, segments, kept) if has_new else None
        raise DownloadStopped(stop, saved) from stop
    if not any(page.rows for part in pages for page in part):
        if existing is None or existing.first_ms is None:
            raise NoCandles(
                f"no closed {request.timeframe} candle of {request.symbol} ({request.category.value}) "
                f"from {_utc(request.start_ms)} to {_utc(request.end_ms)}"
            )
        return FetchResult(request.output, existing.rows, 0, existing.first_ms, existing.last_ms, written=False)
    return _save(request.output, gz, existing, segments, pages)


def _report(on_progress: Callable[[FetchProgress], None] | None, done: int, expected: int) -> None:
    if on_progress is not None:
        on_progress(FetchProgress(done, expected))


def inspect_file(path: Path, grid: BarGrid, *, gz: bool) -> ExistingFile | None:
    """None when ``path`` does not exist; what it holds when it is a valid kline file of
    ``grid``'s interval; :class:`FetchError` naming the first wrong line otherwise."""
    if not path.exists():
        return None
    if not path.is_file():
        raise FetchError(f"{path} is not a file")
    rows, first, last, gap = 0, None, None, 0
    for number, parsed in _read_rows(path, gz=gz):
        start = int(parsed[0])
        if not grid.on_grid(start):
            raise _invalid(path, number, f"{start} is not the open time of a {grid.timeframe} bar")
        if last is not None:
            if start <= last:
                raise _invalid(path, number, f"timestamp {start} does not come after {last}")
            gap = math.gcd(gap, start - last)
        first = start if first is None else first
        last = start
        rows += 1
    if grid.step_ms is not None and rows > 1 and gap != grid.step_ms:
        raise FetchError(
            f"{path} holds bars {gap // 60_000} minutes apart, not {grid.timeframe} bars; "
            "choose another --output or the file's --interval"
        )
    return ExistingFile(rows, first, last)


def _read_rows(path: Path, *, gz: bool) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line number, fields) of each row, after checking the header; FetchError on a bad line."""
    try:
        with _open_text(path, gz) as f:
            header = f.readline()
            if header and header.rstrip("\r\n") != HEADER:
                raise _invalid(path, 1, f"the header is not '{HEADER}'")
            for number, line in enumerate(f, start=2):
                text = line.rstrip("\r\n")
                if not text:
                    continue
                match = _ROW.fullmatch(text)
                if match is None:
                    raise _invalid(path, number, f"'{text[:60]}' is not 'timestamp,open,high,low,close,volume'")
                yield number, match.groups()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
        kind = "gzip-compressed CSV" if gz else "UTF-8 CSV"
        raise FetchError(f"{path} cannot be read as {kind}: {e}; not resuming from it") from e


def _open_text(path: Path, gz: bool) -> io.TextIOWrapper:
    if gz:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _invalid(path: Path, line: int, problem: str) -> FetchError:
    return FetchError(
        f"{path}:{line}: {problem}; the file is not a kline file to resume, so it is left as it is "
        "(move it away or choose another --output)"
    )


def _output_kind(path: Path) -> bool:
    """True for gzip (``.csv.gz``), False for ``.csv``; FetchError for any other name."""
    name = path.name.lower()
    if name.endswith(".csv.gz"):
        return True
    if name.endswith(".csv"):
        return False
    raise FetchError(f"--output '{path}' must end in .csv or .csv.gz")


def _plan(existing: ExistingFile | None, lo_ms: int, hi_ms: int) -> list[_Segment]:
    """The missing parts of [lo, hi], newest first; the bars between the file and the window count as missing."""
    if existing is None or existing.first_ms is None or existing.last_ms is None:
        return [_Segment(lo_ms, hi_ms, joined=True, before_file=False)] if lo_ms <= hi_ms else []
    segments = []
    if hi_ms > existing.last_ms:
        segments.append(_Segment(existing.last_ms + 1, hi_ms, joined=False, before_file=False))
    if lo_ms < existing.first_ms:
        segments.append(_Segment(lo_ms, existing.first_ms - 1, joined=True, before_file=True))
    return segments


def _save(
    path: Path, gz: bool, existing: ExistingFile | None, segments: list[_Segment], pages: list[list[KlinePage]]
) -> FetchResult:
    """Write each segment's pages (newest first) before or after the existing rows, atomically."""
    before = [page for seg, part in zip(segments, pages, strict=True) if seg.before_file for page in part]
    after = [page for seg, part in zip(segments, pages, strict=True) if not seg.before_file for page in part]
    kept = existing.rows if existing else 0
    chunks: list[Iterable[str]] = [_page_lines(before)]
    if kept:
        chunks.append(f"{','.join(fields)}\n" for _, fields in _read_rows(path, gz=gz))
    chunks.append(_page_lines(after))
    _write_atomically(path, gz, chunks)
    starts = [row.start_ms for page in before + after for row in page.rows]
    if existing is not None and existing.first_ms is not None and existing.last_ms is not None:
        starts += [existing.first_ms, existing.last_ms]
    fetched = sum(len(page.rows) for page in before + after)
    return FetchResult(path, kept + fetched, fetched, min(starts), max(starts), written=True)


def _page_lines(pages: list[KlinePage]) -> Iterator[str]:
    for page in reversed(pages):
        for r in page.rows:
            yield f"{r.start_ms},{r.open},{r.high},{r.low},{r.close},{r.volume}\n"


def _write_atomically(path: Path, gz: bool, chunks: Iterable[Iterable[str]]) -> None:
    """Write the header and the lines of ``chunks`` to a temporary file beside ``path``, flush it
    to disk and rename it over ``path``; on any failure the temporary file is removed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FetchError(f"cannot create the folder {path.parent}: {e.strerror or e}") from e
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open(tmp, "xb") as raw:
            if gz:
                # no name and no time in the gzip header: the same rows give the same bytes
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
                    _write_lines(packed, chunks)
            else:
                _write_lines(raw, chunks)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise FetchError(f"cannot write {path}: {e.strerror or e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_lines(sink: BinaryIO, chunks: Iterable[Iterable[str]]) -> None:
    sink.write(f"{HEADER}\n".encode("ascii"))
    for chunk in chunks:
        batch: list[str] = []
        for line in chunk:
            batch.append(line)
            if len(batch) == _BATCH:
                sink.write("".join(batch).encode("ascii"))
                batch.clear()
        sink.write("".join(batch).encode("ascii"))


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
