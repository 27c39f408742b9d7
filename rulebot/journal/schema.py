"""The journal's schema as an ordered list of migrations, applied at open.

``PRAGMA user_version`` is the number of migrations applied. Opening an older journal copies
the file aside first (``<name>.v<old>.bak``), then runs the missing migrations in order, each in
its own transaction; nothing reads the journal before its schema is current. A migration is
never edited once released: a change is a new entry at the end.

Prices, sizes and fees are TEXT: the exact strings that were sent to or received from Bybit.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


class JournalError(Exception):
    """The journal cannot be opened or written: not a database, newer than this rulebot, disk error."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: what it does, and its SQL."""

    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "fires, actions, rejections, orders, fills, rule state, events",
        """
        CREATE TABLE fires (
            id INTEGER PRIMARY KEY,
            ts_ms INTEGER NOT NULL,
            rule TEXT NOT NULL,
            symbol TEXT NOT NULL,
            seq INTEGER NOT NULL,
            summary TEXT NOT NULL
        );
        CREATE INDEX fires_ts ON fires (ts_ms);
        CREATE INDEX fires_rule ON fires (rule, ts_ms);

        CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            ts_ms INTEGER NOT NULL,
            rule TEXT NOT NULL,
            symbol TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            params TEXT NOT NULL
        );
        CREATE INDEX actions_ts ON actions (ts_ms);
        CREATE INDEX actions_rule ON actions (rule, ts_ms);

        CREATE TABLE rejections (
            id INTEGER PRIMARY KEY,
            ts_ms INTEGER NOT NULL,
            rule TEXT NOT NULL,
            symbol TEXT NOT NULL,
            reason TEXT NOT NULL,
            code TEXT NOT NULL
        );
        CREATE INDEX rejections_ts ON rejections (ts_ms);
        CREATE INDEX rejections_rule ON rejections (rule, ts_ms);

        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            order_link_id TEXT NOT NULL UNIQUE,
            ts_ms INTEGER NOT NULL,
            rule TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            order_type TEXT NOT NULL,
            qty TEXT NOT NULL,
            price TEXT NOT NULL,
            params TEXT NOT NULL,
            status TEXT NOT NULL,
            order_id TEXT NOT NULL DEFAULT '',
            filled_qty TEXT NOT NULL DEFAULT '0',
            reject_reason TEXT NOT NULL DEFAULT '',
            updated_ms INTEGER NOT NULL
        );
        CREATE INDEX orders_ts ON orders (ts_ms);
        CREATE INDEX orders_rule ON orders (rule, ts_ms);

        CREATE TABLE fills (
            id INTEGER PRIMARY KEY,
            exec_id TEXT NOT NULL UNIQUE,
            ts_ms INTEGER NOT NULL,
            rule TEXT NOT NULL,
            symbol TEXT NOT NULL,
            order_id TEXT NOT NULL,
            order_link_id TEXT NOT NULL,
            side TEXT NOT NULL,
            price TEXT NOT NULL,
            qty TEXT NOT NULL,
            fee TEXT NOT NULL,
            is_maker INTEGER NOT NULL,
            exit_reason TEXT NOT NULL
        );
        CREATE INDEX fills_ts ON fills (ts_ms);
        CREATE INDEX fills_rule ON fills (rule, ts_ms);

        CREATE TABLE rule_state (
            name TEXT PRIMARY KEY,
            text_hash TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_ms INTEGER NOT NULL
        );

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ts_ms INTEGER NOT NULL,
            kind TEXT NOT NULL,
            rule TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX events_ts ON events (ts_ms);
        """,
    ),
)
"""Every migration in order; ``user_version`` = how many of them a journal has had."""


def current_version() -> int:
    """The schema version this rulebot writes."""
    return len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, path: Path | None, *, apply: bool = True) -> int:
    """Bring the journal at ``path`` (``None``: in memory) to the current schema; returns the old version.

    An existing journal at an older version is backed up to ``<file>.v<old>.bak`` first. With
    ``apply=False`` an out-of-date journal is an error instead.
    """
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as err:
        raise JournalError(f"{path} is not a rulebot journal: {err}") from err
    latest = current_version()
    if version > latest:
        raise JournalError(
            f"{path} has journal schema version {version}; this rulebot knows up to {latest}: "
            "upgrade rulebot or use another journal file"
        )
    if version == latest:
        return version
    if not apply and version == 0:
        raise JournalError(f"{path} is not a rulebot journal: an SQLite file without the journal's tables")
    if not apply:
        raise JournalError(
            f"{path} has journal schema version {version}, this rulebot writes {latest}: "
            "open it once for writing (start the engine) to migrate it"
        )
    if version > 0 and path is not None:
        backup = path.with_name(f"{path.name}.v{version}.bak")
        with sqlite3.connect(backup) as copy:
            conn.backup(copy)
        copy.close()
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        try:
            conn.execute("BEGIN")
            for statement in _statements(step.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            conn.execute("ROLLBACK")
            raise JournalError(f"migration {number} ({step.description}) failed on {path}: {err}") from err
    return version


def _statements(script: str) -> list[str]:
    """Split a migration into statements (no semicolons inside our own SQL literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
