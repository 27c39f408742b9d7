"""The SQLite journal: every fire, action, rejection, order, fill and event, and the rule state.

One writer (the engine thread) owns a ``Journal``. Live, every write is its own transaction,
so an order intent is on disk (in the WAL) before the order is sent, and a killed process
loses nothing it had written. A backtest opens the journal with ``batch=True`` (or
``Journal.memory()``): writes collect in memory and go to SQLite in one transaction, one
``executemany`` per statement, every ``batch_size`` writes, at ``flush()`` / ``close()`` and
before every read, so the journal does not dominate the replay. A batch journal still refuses
a second intent with the same ``orderLinkId`` at once: it keeps the ids it holds.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from rulebot.journal.queries import select_entries
from rulebot.journal.records import (
    FINAL_ORDER_STATUSES, ORDER_INTENT, EntryKind, FillRecord, JournalEntry, OrderRecord, RuleStateRecord,
)
from rulebot.journal.schema import JournalError, migrate

log = logging.getLogger(__name__)



class JsonText(str):
    """Text a JSON serializer has just produced (``model_dump_json()``, ``json.dumps``).

    The journal checks that parameters are JSON text by parsing them; text of this type was
    made by a serializer, so it is taken without parsing it a second time.
    """

    __slots__ = ()


class Journal:
    """The journal file (``path``), or an in-memory one (``path=None``).

    ``read_only`` opens an existing journal for reading only (``rulebot journal`` beside a
    running engine): no migration, no write.
    """

    def __init__(
        self,
        path: str | Path | None,
        *,
        batch: bool = False,
        batch_size: int = 10_000,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._batch = batch or path is None
        self._batch_size = batch_size
        # batch mode: the writes not yet in SQLite, per statement in their order, and every
        # orderLinkId in the journal (written or queued) with its rule
        self._queue: dict[str, list[tuple[object, ...]]] = {}
        self._queued = 0
        self._links: dict[str, str] = {}
        self._checked: str | None = None  # the last params text found to be JSON (one action, two records)
        if read_only and (self.path is None or not self.path.is_file()):
            raise JournalError(f"no journal at {self.path}")
        try:
            if read_only and self.path is not None:
                # A reader (``rulebot journal``) never migrates or writes a journal in use.
                target = self.path.resolve().as_uri() + "?mode=ro"
                self._conn = sqlite3.connect(target, uri=True, isolation_level=None, check_same_thread=False)
            else:
                target = ":memory:" if self.path is None else str(self.path)
                self._conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            raise JournalError(f"cannot open the journal {self.path}: {err}") from err
        try:
            if self.path is not None and not read_only:
                mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise JournalError(f"{self.path}: SQLite refused WAL mode (got {mode})")
                # WAL + NORMAL: a commit survives a killed process; only a power cut may lose the
                # last transactions. A backtest journal need not survive even that.
                self._conn.execute("PRAGMA synchronous=" + ("OFF" if batch else "NORMAL"))
            old = migrate(self._conn, self.path, apply=not read_only)
            if self._batch and not read_only:
                self._links = self._stored_links()
        except sqlite3.DatabaseError as err:
            self._conn.close()
            raise JournalError(f"{self.path} is not a rulebot journal: {err}") from err
        except JournalError:
            self._conn.close()
            raise
        log.debug("journal open path=%s schema_from=%d batch=%s", self.path, old, self._batch)

    @classmethod
    def memory(cls) -> Journal:
        """A journal that lives in memory (backtests that keep no file)."""
        return cls(None)

    # -- lifecycle --------------------------------------------------------------------------

    def flush(self) -> None:
        """Write and commit what a batch journal has collected.

        A write SQLite refuses here (a full disk) raises ``JournalError`` and the whole batch
        is rolled back: a batch journal keeps a backtest, which need not survive that."""
        if not self._queued:
            return
        queue, self._queue, self._queued = self._queue, {}, 0
        conn = self._conn
        # One executemany per statement, each in the order of its writes: the same rows as
        # writing one by one, because the tables do not depend on each other, except an order's
        # updates on its insert (queued only after it, run after every insert) and a fill's rule
        # on its order (looked up when the fill is recorded).
        order = sorted(queue, key=lambda sql: sql == _UPDATE_ORDER)
        try:
            conn.execute("BEGIN")
            for sql in order:
                conn.executemany(sql, queue[sql])
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._links = self._stored_links()
            raise JournalError(f"journal write failed ({self.path}): {err}") from err

    def close(self) -> None:
        """Commit and close; the journal cannot be used afterwards."""
        self.flush()
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- writes -----------------------------------------------------------------------------

    def record_fire(self, rule: str, symbol: str, seq: int, ts_ms: int, summary: str) -> None:
        """A rule fired (its ``seq``-th time); ``summary`` shows the values its condition read."""
        self._write(
            "INSERT INTO fires (ts_ms, rule, symbol, seq, summary) VALUES (?, ?, ?, ?, ?)",
            (ts_ms, rule, symbol, seq, summary),
        )

    def record_action(
        self, rule: str, symbol: str, seq: int, kind: str, params_json: str, ts_ms: int
    ) -> None:
        """An action of a firing, with its validated parameters as JSON text."""
        self._check_json(params_json)
        self._write(
            "INSERT INTO actions (ts_ms, rule, symbol, seq, kind, params) VALUES (?, ?, ?, ?, ?, ?)",
            (ts_ms, rule, symbol, seq, kind, params_json),
        )

    def record_rejection(self, rule: str, symbol: str, reason: str, code: str | int, ts_ms: int) -> None:
        """An action the risk layer or the exchange refused; ``code`` is a risk name or a retCode."""
        self._write(
            "INSERT INTO rejections (ts_ms, rule, symbol, reason, code) VALUES (?, ?, ?, ?, ?)",
            (ts_ms, rule, symbol, reason, str(code)),
        )

    def record_order_intent(
        self,
        order_link_id: str,
        rule: str,
        symbol: str,
        side: str,
        order_type: str,
        qty: Decimal | str,
        price: Decimal | str | None,
        params_json: str,
        ts_ms: int,
    ) -> None:
        """An order about to be sent: call before sending. A second intent with the same
        ``orderLinkId`` raises ``JournalError`` (the same intent must never go out twice)."""
        self._check_json(params_json)
        if self._batch:
            if order_link_id in self._links:
                raise JournalError(f"order {order_link_id!r} is already in the journal")
            self._links[order_link_id] = rule
        try:
            self._write(
                "INSERT INTO orders (order_link_id, ts_ms, rule, symbol, side, order_type, qty, price,"
                " params, status, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    order_link_id,
                    ts_ms,
                    rule,
                    symbol,
                    side,
                    order_type,
                    str(qty),
                    "" if price is None else str(price),
                    params_json,
                    ORDER_INTENT,
                    ts_ms,
                ),
            )
        except sqlite3.IntegrityError as err:
            raise JournalError(f"order {order_link_id!r} is already in the journal") from err

    def update_order(
        self,
        order_link_id: str,
        status: str,
        ts_ms: int,
        *,
        order_id: str | None = None,
        filled_qty: str | None = None,
        reject_reason: str | None = None,
    ) -> bool:
        """A new status for a journalled order (``None`` leaves a column as it is).

        Returns False when the journal has no such order (one this engine did not place).
        """
        params = (status, ts_ms, order_id, filled_qty, reject_reason, order_link_id)
        if not self._batch:
            cur = self._write(_UPDATE_ORDER, params)
            return cur is not None and cur.rowcount > 0
        if order_link_id not in self._links:
            return False  # it would change no row
        self._write(_UPDATE_ORDER, params)
        return True

    def record_fill(self, fill: FillRecord) -> None:
        """A fill, attributed to the rule of its order (none for exchange-made TP/SL closes).

        The same ``exec_id`` twice (a fill seen again after a reconnect) is kept once."""
        link = fill.order_link_id
        values = (fill.symbol, fill.order_id, link, fill.side, fill.price, fill.qty, fill.fee,
                  int(fill.is_maker), fill.exit_reason)
        if self._batch:
            self._write(_INSERT_FILL, (fill.exec_id, fill.ts_ms, self._links.get(link, "") if link else "",
                                       *values))
        else:
            self._write(_INSERT_FILL_LOOKUP, (fill.exec_id, fill.ts_ms, link, link, *values))

    def record_event(self, kind: str, detail: str, ts_ms: int, rule: str = "") -> None:
        """An engine event: ``reload_rejected``, ``halt``, ``start``, ``stop``, ..."""
        self._write(
            "INSERT INTO events (ts_ms, kind, rule, detail) VALUES (?, ?, ?, ?)", (ts_ms, kind, rule, detail)
        )

    def save_rule_states(self, states: Iterable[RuleStateRecord], ts_ms: int) -> None:
        """Store (replace) the state of each rule given."""
        for st in states:
            state = {
                "armed": st.armed,
                "last_fired_ms": st.last_fired_ms,
                "fire_seq": st.fire_seq,
                "paused": st.paused,
                "in_flight": list(st.in_flight),
                "for_started_ms": [[k, v] for k, v in st.for_started_ms],
                "memory": [[k, v] for k, v in st.memory],
            }
            self._write(
                "INSERT INTO rule_state (name, text_hash, state, updated_ms) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET text_hash = excluded.text_hash, state = excluded.state,"
                " updated_ms = excluded.updated_ms",
                (st.name, st.text_hash, json.dumps(state, separators=(",", ":")), ts_ms),
            )

    # -- reads ------------------------------------------------------------------------------

    def load_rule_states(self) -> dict[str, RuleStateRecord]:
        """Every stored rule state, by rule name."""
        self.flush()
        out: dict[str, RuleStateRecord] = {}
        for name, text_hash, raw in self._conn.execute("SELECT name, text_hash, state FROM rule_state"):
            try:
                state = json.loads(raw)
                out[name] = RuleStateRecord(
                    name=name,
                    text_hash=text_hash,
                    armed=bool(state["armed"]),
                    last_fired_ms=None if state["last_fired_ms"] is None else int(state["last_fired_ms"]),
                    fire_seq=int(state["fire_seq"]),
                    paused=bool(state["paused"]),
                    in_flight=tuple(str(x) for x in state["in_flight"]),
                    for_started_ms=tuple((str(k), int(v)) for k, v in state["for_started_ms"]),
                    memory=tuple((str(k), _memory_value(v)) for k, v in state.get("memory", ())),
                )
            except (ValueError, KeyError, TypeError) as err:
                # A damaged state must not stop the engine: the rule starts fresh, and the log says so.
                log.warning("rule_state unreadable rule=%r error=%s: the rule starts fresh", name, err)
        return out

    def order(self, order_link_id: str) -> OrderRecord | None:
        """The journalled order with this ``orderLinkId``, if any."""
        self.flush()
        row = self._conn.execute(_ORDER_SELECT + " WHERE order_link_id = ?", (order_link_id,)).fetchone()
        return OrderRecord(*row) if row else None

    def unfinished_orders(self) -> list[OrderRecord]:
        """Orders not known to be finished (intents and open orders), oldest first: what a
        restart must reconcile with the exchange before sending anything."""
        self.flush()
        marks = ",".join("?" * len(FINAL_ORDER_STATUSES))
        rows = self._conn.execute(_ORDER_SELECT + f" WHERE status NOT IN ({marks}) ORDER BY id", FINAL_ORDER_STATUSES)
        return [OrderRecord(*row) for row in rows]

    def order_owners(self) -> list[tuple[str, str, str]]:
        """``(orderLinkId, rule, status)`` of every journalled order, oldest first: what a
        backtest needs of them, without building the ``entries()`` lines."""
        self.flush()
        return list(self._conn.execute("SELECT order_link_id, rule, status FROM orders ORDER BY ts_ms, id"))

    def fire_times(self) -> list[tuple[int, str, str]]:
        """``(ts_ms, rule, symbol)`` of every fire, in time order (as ``entries(kind=FIRE)``)."""
        self.flush()
        return list(self._conn.execute("SELECT ts_ms, rule, symbol FROM fires ORDER BY ts_ms, id"))

    def entries(
        self,
        kind: EntryKind | None = None,
        rule: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int | None = None,
        symbol: str | None = None,
    ) -> list[JournalEntry]:
        """Journal entries in time order, filtered by kind, rule, time (``since_ms`` <= ts <
        ``until_ms``) and symbol (any case; events, which belong to no symbol, are then left
        out); with ``limit``, the most recent ``limit`` of those."""
        self.flush()
        return select_entries(self._conn, kind, rule, since_ms, until_ms, limit, symbol)

    # -- internals --------------------------------------------------------------------------

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor | None:
        """Write now (its cursor back), or in batch mode queue the write (``None`` back)."""
        if self._batch:
            self._queue.setdefault(sql, []).append(params)
            self._queued += 1
            if self._queued >= self._batch_size:
                self.flush()
            return None
        try:
            return self._conn.execute(sql, params)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as err:
            raise JournalError(f"journal write failed ({self.path}): {err}") from err

    def _stored_links(self) -> dict[str, str]:
        return dict(self._conn.execute("SELECT order_link_id, rule FROM orders"))

    def _check_json(self, text: str) -> None:
        # An action's params are journalled twice (its action and its order) as the same text
        # object: checking that object once is the same check.
        if text is self._checked or type(text) is JsonText:
            return
        try:
            json.loads(text)
        except ValueError as err:
            raise JournalError(f"parameters must be JSON text: {err}") from err
        self._checked = text


_FILL_COLUMNS = (
    "exec_id, ts_ms, rule, symbol, order_id, order_link_id, side, price, qty, fee, is_maker, exit_reason"
)
_INSERT_FILL = f"INSERT OR IGNORE INTO fills ({_FILL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# a journal writing at once takes the fill's rule from its order in SQLite
_INSERT_FILL_LOOKUP = (
    f"INSERT OR IGNORE INTO fills ({_FILL_COLUMNS}) VALUES (?, ?, COALESCE((SELECT rule FROM orders"
    " WHERE order_link_id = ? AND ? != ''), ''), ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_UPDATE_ORDER = (
    "UPDATE orders SET status = ?, updated_ms = ?, order_id = COALESCE(?, order_id),"
    " filled_qty = COALESCE(?, filled_qty), reject_reason = COALESCE(?, reject_reason)"
    " WHERE order_link_id = ?"
)

_ORDER_SELECT = (
    "SELECT order_link_id, ts_ms, rule, symbol, side, order_type, qty, price, params, status, order_id,"
    " filled_qty, reject_reason, updated_ms FROM orders"
)


def _memory_value(value: object) -> float | int | bool | None:
    """A value of a compiled rule's memory as stored (JSON numbers, booleans, null; NaN as JSON's NaN)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise ValueError(f"memory value {value!r} is not a number, a boolean or null")
