"""Reading the journal back as ``JournalEntry`` lines, for ``rulebot journal``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from rulebot.journal.records import EntryKind, JournalEntry

Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class _Source:
    kind: EntryKind
    table: str
    columns: tuple[str, ...]
    summary: Callable[[Row], str]


_SOURCES = (
    _Source(EntryKind.FIRE, "fires", ("seq", "summary"), lambda r: f"fired #{r['seq']}: {r['summary']}"),
    _Source(EntryKind.ACTION, "actions", ("seq", "kind", "params"), lambda r: f"{r['kind']} {r['params']}"),
    _Source(
        EntryKind.REJECTION,
        "rejections",
        ("reason", "code"),
        lambda r: f"rejected {r['code']}: {r['reason']}",
    ),
    _Source(
        EntryKind.ORDER,
        "orders",
        (
            "order_link_id",
            "side",
            "order_type",
            "qty",
            "price",
            "status",
            "order_id",
            "filled_qty",
            "reject_reason",
        ),
        lambda r: (
            f"{r['order_link_id']} {r['side']} {r['qty']} {r['order_type']}"
            + (f" @ {r['price']}" if r["price"] else "")
            + f" {r['status']}, {r['filled_qty']} filled"
            + (f" ({r['reject_reason']})" if r["reject_reason"] else "")
        ),
    ),
    _Source(
        EntryKind.FILL,
        "fills",
        ("exec_id", "order_link_id", "side", "price", "qty", "fee", "is_maker", "exit_reason"),
        lambda r: (
            f"{r['side']} {r['qty']} @ {r['price']} fee {r['fee']}"
            + (f" exit {r['exit_reason']}" if r["exit_reason"] else "")
            + (f" ({r['order_link_id']})" if r["order_link_id"] else "")
        ),
    ),
    _Source(EntryKind.EVENT, "events", ("kind", "detail"), lambda r: f"{r['kind']}: {r['detail']}"),
)
_RANK = {source.kind: rank for rank, source in enumerate(_SOURCES)}


def select_entries(
    conn: sqlite3.Connection,
    kind: EntryKind | None,
    rule: str | None,
    since_ms: int | None,
    until_ms: int | None,
    limit: int | None,
    symbol: str | None = None,
) -> list[JournalEntry]:
    """Entries of every (or one) kind in time order; with ``limit``, the most recent ones.

    ``symbol`` (any case) keeps one symbol's entries and leaves out the events, which belong
    to no symbol."""
    if limit is not None and limit <= 0:
        return []
    found: list[tuple[int, int, int, JournalEntry]] = []
    for source in _SOURCES:
        if kind is not None and source.kind is not kind:
            continue
        if symbol is not None and source.kind is EntryKind.EVENT:
            continue
        where: list[str] = []
        params: list[object] = []
        if rule is not None:
            where.append("rule = ?")
            params.append(rule)
        if symbol is not None:
            # Stored symbols are Bybit's, in capitals (rule files refuse any other spelling), so
            # the plain comparison matches whatever case the user typed.
            where.append("symbol = ?")
            params.append(symbol.upper())
        if since_ms is not None:
            where.append("ts_ms >= ?")
            params.append(since_ms)
        if until_ms is not None:
            where.append("ts_ms < ?")
            params.append(until_ms)
        symbol_column = "''" if source.kind is EntryKind.EVENT else "symbol"
        sql = f"SELECT id, ts_ms, rule, {symbol_column}, {', '.join(source.columns)} FROM {source.table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY ts_ms DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for row in conn.execute(sql, params):
            rowid, ts_ms, rule_name, sym = row[:4]
            cells = zip(source.columns, row[4:], strict=True)
            values = {name: "" if value is None else str(value) for name, value in cells}
            entry = JournalEntry(
                kind=source.kind,
                ts_ms=int(ts_ms),
                rule=rule_name,
                symbol=sym,
                summary=source.summary(values),
                fields=tuple(values.items()),
            )
            found.append((int(ts_ms), _RANK[source.kind], int(rowid), entry))
    found.sort(key=lambda item: item[:3])
    if limit is not None:
        found = found[-limit:]
    return [item[3] for item in found]
