"""The SQLite journal: every fire, action, rejection, order, fill and event, and the rule state.

One writer (the engine thread) owns a ``Journal``. Live, every write is its own transaction,
so an order intent is on disk (in the WAL) before the order is sent, and a killed process
loses nothing it had written. A backtest opens the journal with ``batch=True`` (or
``Journal.memory()``): writes collect in one transaction committed every ``batch_size`` writes
and at ``flush()`` / ``close()``, so the journal does not dominate the replay.
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
from rulebot.journal.records import ORDER_INTENT, EntryKind, JournalEntry, OrderRecord, RuleStateRecord
from rulebot.journal.schema import JournalError, migrate
from rulebot.model.enums import OrderStatus
from rulebot.model.events import Execution

log = logging.getLogger(__name__)

_FINAL = tuple(s.value for s in OrderStatus if not s.is_open)


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
        self._pending = 0
        self._in_tx = False
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
        """Commit what a batch journal has collected."""
        if self._in_tx:
            self._conn.execute("COMMIT")
            self._in_tx = False
            self._pending = 0

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
        _check_json(params_json)
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
        _check_json(params_json)
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
        cur = self._write(
            "UPDATE orders SET status = ?, updated_ms = ?, order_id = COALESCE(?, order_id),"
            " filled_qty = COALESCE(?, filled_qty), reject_reason = COALESCE(?, reject_reason)"
            " WHERE order_link_id = ?",
            (status, ts_ms, order_id, filled_qty, reject_reason, order_link_id),
        )
        return cur.rowcount > 0

    def record_fill(self, fill: Execution) -> None:
        """A fill, attributed to the rule of its order (none for exchange-made TP/SL closes).

        The same ``exec_id`` twice (a fill seen again after a reconnect) is kept once."""
        self._write(
            "INSERT OR IGNORE INTO fills (exec_id, ts_ms, rule, symbol, order_id, order_link_id, side,"
            " price, qty, fee, is_maker, exit_reason) VALUES (?, ?, COALESCE((SELECT rule FROM orders"
            " WHERE order_link_id = ? AND ? != ''), ''), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                fill.exec_id,
                fill.ts_event_ms,
                fill.order_link_id,
                fill.order_link_id,
                fill.symbol,
                fill.order_id,
                fill.order_link_id,
                fill.side.value,
                fill.price,
                fill.qty,
                fill.fee,
                int(fill.is_maker),
                fill.exit_reason,
            ),
        )

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
        row = self._conn.execute(_ORDER_SELECT + " WHERE order_link_id = ?", (order_link_id,)).fetchone()
        return OrderRecord(*row) if row else None

    def unfinished_orders(self) -> list[OrderRecord]:
        """Orders not known to be finished (intents and open orders), oldest first: what a
        restart must reconcile with the exchange before sending anything."""
        marks = ",".join("?" * len(_FINAL))
        rows = self._conn.execute(_ORDER_SELECT + f" WHERE status NOT IN ({marks}) ORDER BY id", _FINAL)
        return [OrderRecord(*row) for row in rows]

    def entries(
        self,
        kind: EntryKind | None = None,
        rule: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Journal entries in time order, filtered by kind, rule and time (``since_ms`` <= ts <
        ``until_ms``); with ``limit``, the most recent ``limit`` of them."""
        self.flush()
        return select_entries(self._conn, kind, rule, since_ms, until_ms, limit)

    # -- internals --------------------------------------------------------------------------

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        if self._batch and not self._in_tx:
            self._conn.execute("BEGIN")
            self._in_tx = True
        try:
            cur = self._conn.execute(sql, params)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as err:
            raise JournalError(f"journal write failed ({self.path}): {err}") from err
        if self._batch:
            self._pending += 1
            if self._pending >= self._batch_size:
                self.flush()
        return cur


_ORDER_SELECT = (
    "SELECT order_link_id, ts_ms, rule, symbol, side, order_type, qty, price, params, status, order_id,"
    " filled_qty, reject_reason, updated_ms FROM orders"
)


def _memory_value(value: object) -> float | int | bool | None:
    """A value of a compiled rule's memory as stored (JSON numbers, booleans, null; NaN as JSON's NaN)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise ValueError(f"memory value {value!r} is not a number, a boolean or null")


def _check_json(text: str) -> None:
    try:
        json.loads(text)
    except ValueError as err:
        raise JournalError(f"parameters must be JSON text: {err}") from err
