"""``rulebot journal``: select journal entries and show them as lines, a table or JSON.

The selection reads the journal through ``Journal.entries`` only, opened read-only (a running
engine may own the file). Times are UTC: options are read as UTC unless they carry an offset,
and every time shown ends in ``Z``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from rulebot.journal.journal import Journal
from rulebot.journal.records import EntryKind, JournalEntry
from rulebot.journal.schema import JournalError

_KIND_RANK = {kind: rank for rank, kind in enumerate(EntryKind)}
_SPAN = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_SPAN_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
# Parameters that say nothing when left at their empty value, left out of an action's one-line reading.
_QUIET = {"kind", "symbol"}


class ListingError(ValueError):
    """An option of ``rulebot journal`` that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """Which entries to show: of these kinds (all when empty), of one rule, ``since_ms`` <= time
    < ``until_ms``, of one symbol (any case; no events then, they belong to no symbol), and of
    those the most recent ``limit`` (all when ``None``)."""

    kinds: tuple[EntryKind, ...] = ()
    rule: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    limit: int | None = None
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """The entries selected, oldest first; ``more``: older entries matched but ``limit`` left them out."""

    entries: tuple[JournalEntry, ...]
    more: bool


def parse_moment(text: str, option: str, now_ms: int) -> int:
    """``2026-01-01``, ``2026-01-01T08:00`` (UTC unless an offset is given) or a span back from
    ``now_ms`` (``30m``, ``2h``, ``3d``, ``1w``) as epoch ms; ``ListingError`` otherwise."""
    raw = text.strip()
    span = _SPAN.match(raw)
    if span:
        return now_ms - int(span.group(1)) * _SPAN_MS[span.group(2)]
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ListingError(
            f"{option} {text!r}: expected a UTC time like 2026-01-01 or 2026-01-01T08:00, "
            "or a span back from now like 30m, 2h, 3d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def check_query(query: JournalQuery) -> None:
    """``ListingError`` for a query that can select nothing by construction."""
    if query.since_ms is not None and query.until_ms is not None and query.since_ms >= query.until_ms:
        raise ListingError("--since is not before --until")
    if query.limit is not None and query.limit < 1:
        raise ListingError("--limit: at least 1 (0 on the command line shows every entry)")
    if query.symbol is not None and not query.symbol.strip():
        raise ListingError("--symbol: a symbol like BTCUSDT")


def read_listing(path: Path, query: JournalQuery) -> Listing:
    """The entries of the journal at ``path`` that ``query`` selects; ``JournalError`` when the
    file is missing, not a rulebot journal, or of a schema this rulebot does not read."""
    check_query(query)
    if not path.exists():
        raise JournalError(f"{path}: no such file")
    if not path.is_file():
        raise JournalError(f"{path}: not a file")
    # One more than asked tells whether older entries were left out.
    fetch = None if query.limit is None else query.limit + 1
    try:
        with Journal(path, read_only=True) as journal:
            if len(query.kinds) <= 1:
                kind = query.kinds[0] if query.kinds else None
                found = journal.entries(kind, query.rule, query.since_ms, query.until_ms, fetch, symbol=query.symbol)
            else:
                found = []
                for kind in dict.fromkeys(query.kinds):
                    found += journal.entries(
                        kind, query.rule, query.since_ms, query.until_ms, fetch, symbol=query.symbol
                    )
                # Stable: entries of one kind and time keep the journal's order, as entries() gives it.
                found.sort(key=lambda e: (e.ts_ms, _KIND_RANK[e.kind]))
    except sqlite3.Error as err:
        # The header was readable but the tables are not a journal's (or the file is damaged).
        raise JournalError(f"{path} is not a rulebot journal: {err}") from err
    if query.limit is not None and len(found) > query.limit:
        return Listing(tuple(found[-query.limit :]), more=True)
    return Listing(tuple(found), more=False)


def format_time(ts_ms: int) -> str:
    """ISO-8601 UTC: ``2026-01-01T08:00:00Z``, with milliseconds only when there are some."""
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ts_ms % 1000:03d}Z" if ts_ms % 1000 else "Z")


def describe(entry: JournalEntry) -> str:
    """The entry in one line for people: an action's parameters as ``name=value`` (empty ones
    left out) instead of its JSON text; every other kind as the journal summarises it."""
    if entry.kind is not EntryKind.ACTION:
        return entry.summary
    fields = dict(entry.fields)
    try:
        params = json.loads(fields.get("params", ""))
    except ValueError:
        return entry.summary
    if not isinstance(params, dict):
        return entry.summary
    return f"{fields.get('kind', '')} {_compact(params)}".strip()


def _compact(params: dict[str, object]) -> str:
    parts: list[str] = []
    for name, value in params.items():
        if name in _QUIET or value is None or value == "" or value is False:
            continue
        if isinstance(value, list):
            inner = "; ".join(_compact(v) if isinstance(v, dict) else str(v) for v in value)
            parts.append(f"{name}=[{inner}]")
        elif isinstance(value, dict):
            parts.append(f"{name}=({_compact(value)})")
        else:
            parts.append(f"{name}={'yes' if value is True else value}")
    return " ".join(parts)


def render_lines(entries: Sequence[JournalEntry]) -> str:
    """One line per entry: time, kind, rule, symbol, what happened; columns aligned, ``-`` for none."""
    rows = [(format_time(e.ts_ms), e.kind.value, e.rule or "-", e.symbol or "-", describe(e)) for e in entries]
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
             for row in rows]
    return "\n".join(lines) + "\n"


def entries_table(entries: Sequence[JournalEntry]) -> Table:
    """The entries as a rich table, for a terminal."""
    table = Table(show_lines=False, header_style="bold")
    for name in ("time (UTC)", "kind", "rule", "symbol"):
        table.add_column(name, no_wrap=True)
    table.add_column("what", overflow="fold")
    for e in entries:
        table.add_row(format_time(e.ts_ms), e.kind.value, e.rule or "-", e.symbol or "-", describe(e))
    return table


def render_json(entries: Sequence[JournalEntry]) -> str:
    """A JSON list of ``{time, ts_ms, kind, rule, symbol, summary, fields}``; ``fields`` holds the
    stored columns as the exact text journalled (``params`` is the JSON text of the parameters)."""
    doc = [
        {
            "time": format_time(e.ts_ms),
            "ts_ms": e.ts_ms,
            "kind": e.kind.value,
            "rule": e.rule,
            "symbol": e.symbol,
            "summary": e.summary,
            "fields": dict(e.fields),
        }
        for e in entries
    ]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "JournalQuery",
    "Listing",
    "ListingError",
    "check_query",
    "describe",
    "entries_table",
    "format_time",
    "parse_moment",
    "read_listing",
    "render_json",
    "render_lines",
]
