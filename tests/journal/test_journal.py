"""The SQLite journal: records round-trip, filters, exact text, WAL, migrations, batch mode."""

from __future__ import annotations

import logging
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from rulebot.journal import (
    FINAL_ORDER_STATUSES,
    ORDER_INTENT,
    EntryKind,
    FillRecord,
    Journal,
    JournalError,
    RuleStateRecord,
    current_version,
    schema,
)
from rulebot.model.enums import OrderStatus


def _fill(exec_id: str, link: str, ts: int = 2000, reason: str = "") -> FillRecord:
    return FillRecord(exec_id, ts, "BTCUSDT", "oid-1", link, "sell", "30100.10", "0.010", "0.1655", False, reason)


def _sample(j: Journal) -> None:
    j.record_fire("dip", "BTCUSDT", 1, 1000, "rsi(14)=28.4 position=0")
    j.record_action("dip", "BTCUSDT", 1, "buy", '{"qty": "0.010", "order_type": "market"}', 1000)
    j.record_order_intent("rb-aaaa-1", "dip", "BTCUSDT", "buy", "market", Decimal("0.010"), None, "{}", 1000)
    j.update_order("rb-aaaa-1", "filled", 1500, order_id="oid-1", filled_qty="0.010")
    j.record_rejection("top", "BTCUSDT", "max_position 0.05 would be exceeded", "max_position", 1700)
    j.record_fill(_fill("e-1", "rb-aaaa-1"))
    j.record_event("reload_rejected", "rules.yaml:3:9: error E203 unknown indicator 'rsii'", 3000)


def test_every_kind_round_trips_in_time_order(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as j:
        _sample(j)
        got = [(e.kind, e.ts_ms, e.rule, e.summary) for e in j.entries()]
    assert got == [
        (EntryKind.FIRE, 1000, "dip", "fired #1: rsi(14)=28.4 position=0"),
        (EntryKind.ACTION, 1000, "dip", 'buy {"qty": "0.010", "order_type": "market"}'),
        (EntryKind.ORDER, 1000, "dip", "rb-aaaa-1 buy 0.010 market filled, 0.010 filled"),
        (EntryKind.REJECTION, 1700, "top", "rejected max_position: max_position 0.05 would be exceeded"),
        (EntryKind.FILL, 2000, "dip", "sell 0.010 @ 30100.10 fee 0.1655 (rb-aaaa-1)"),
        (EntryKind.EVENT, 3000, "", "reload_rejected: rules.yaml:3:9: error E203 unknown indicator 'rsii'"),
    ]


def test_filters_by_kind_rule_time_and_limit(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as j:
        _sample(j)
        assert [e.kind for e in j.entries(kind=EntryKind.FILL)] == [EntryKind.FILL]
        assert {e.rule for e in j.entries(rule="top")} == {"top"}
        assert [e.ts_ms for e in j.entries(since_ms=1500, until_ms=3000)] == [1700, 2000]
        assert [e.kind for e in j.entries(limit=2)] == [EntryKind.FILL, EntryKind.EVENT]
        assert j.entries(limit=0) == []


def test_symbol_filter_keeps_one_symbol_without_events_and_limit_counts_after_it(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as j:
        _sample(j)
        # ETHUSDT did everything after BTCUSDT: the most recent entries are all ETHUSDT's
        j.record_fire("eth", "ETHUSDT", 1, 4000, "close=2000")
        j.record_action("eth", "ETHUSDT", 1, "buy", '{"qty": "0.10"}', 4000)
        j.record_order_intent("rb-eth-1", "eth", "ETHUSDT", "buy", "market", Decimal("0.10"), None, "{}", 4000)
        j.record_rejection("eth", "ETHUSDT", "max_open_orders 1 reached", "max_open_orders", 4500)
        j.record_fill(FillRecord("e-2", 5000, "ETHUSDT", "oid-2", "rb-eth-1", "buy", "2000.5", "0.10", "0.11",
                                 False, ""))
        kinds = [EntryKind.FIRE, EntryKind.ACTION, EntryKind.ORDER, EntryKind.REJECTION, EntryKind.FILL]
        assert [e.kind for e in j.entries(symbol="BTCUSDT")] == kinds
        assert {e.symbol for e in j.entries(symbol="btcusdt")} == {"BTCUSDT"}
        assert [e.kind for e in j.entries(symbol="ETHUSDT")] == kinds
        assert {e.symbol for e in j.entries(limit=3)} == {"ETHUSDT"}
        # the limit counts the matching entries: BTCUSDT's last three, not none of the last three
        last = j.entries(limit=3, symbol="btcUSDT")
        assert [(e.kind, e.symbol) for e in last] == [(k, "BTCUSDT") for k in kinds[-3:]]
        assert j.entries(kind=EntryKind.EVENT, symbol="BTCUSDT") == []
        assert j.entries(symbol="SOLUSDT") == []


def test_prices_and_sizes_are_stored_as_exact_text(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        j.record_order_intent(
            "rb-1", "r", "BTCUSDT", "buy", "limit", Decimal("0.010"), Decimal("30000.10"), "{}", 1
        )
        j.record_fill(_fill("e-1", "rb-1"))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT qty, price, typeof(price) FROM orders").fetchone() == (
        "0.010",
        "30000.10",
        "text",
    )
    assert conn.execute("SELECT price, qty, fee FROM fills").fetchone() == ("30100.10", "0.010", "0.1655")
    conn.close()


def test_order_intent_is_written_before_sending_and_unique(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as j:
        j.record_order_intent("rb-1", "r", "BTCUSDT", "buy", "market", "0.010", None, "{}", 1)
        rec = j.order("rb-1")
        assert rec is not None and rec.status == ORDER_INTENT
        assert [o.order_link_id for o in j.unfinished_orders()] == ["rb-1"]
        with pytest.raises(JournalError, match="already in the journal"):
            j.record_order_intent("rb-1", "r", "BTCUSDT", "buy", "market", "0.010", None, "{}", 2)
        assert j.update_order("rb-1", "open", 3, order_id="o-9")
        assert j.update_order("rb-1", "cancelled", 4, reject_reason="EC_PerCancelRequest")
        rec = j.order("rb-1")
        assert rec is not None and (rec.status, rec.order_id, rec.reject_reason) == (
            "cancelled",
            "o-9",
            "EC_PerCancelRequest",
        )
        assert j.unfinished_orders() == []
        assert not j.update_order("not-ours", "filled", 5)


def test_fills_keep_one_row_per_exec_id_and_exchange_closes_have_no_rule(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as j:
        j.record_fill(_fill("e-1", "", reason="tp"))
        j.record_fill(_fill("e-1", "", reason="tp"))
        (entry,) = j.entries(kind=EntryKind.FILL)
    assert entry.rule == "" and dict(entry.fields)["exit_reason"] == "tp"


def test_bad_params_json_is_refused(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as j, pytest.raises(JournalError, match="JSON"):
        j.record_action("r", "BTCUSDT", 1, "buy", "{qty: 1", 1)


def test_rule_state_is_saved_replaced_and_loaded(tmp_path: Path) -> None:
    a = RuleStateRecord(
        "dip",
        "h1",
        armed=False,
        last_fired_ms=60_000,
        fire_seq=3,
        paused=False,
        in_flight=("rb-x-3",),
        for_started_ms=(("c0", 30_000),),
    )
    with Journal(tmp_path / "j.db") as j:
        j.save_rule_states([a, RuleStateRecord("top", "h2")], 1)
        j.save_rule_states([RuleStateRecord("top", "h3", paused=True)], 2)
        got = j.load_rule_states()
    assert got == {"dip": a, "top": RuleStateRecord("top", "h3", paused=True)}


def test_damaged_rule_state_starts_fresh_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        j.save_rule_states([RuleStateRecord("dip", "h1"), RuleStateRecord("ok", "h2")], 1)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE rule_state SET state = '{\"armed\": 1}' WHERE name = 'dip'")
    conn.commit()
    conn.close()
    with caplog.at_level(logging.WARNING), Journal(path) as j:
        assert list(j.load_rule_states()) == ["ok"]
    assert "rule='dip'" in caplog.text


def test_file_journal_is_in_wal_mode_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == current_version() >= 1
    conn.close()


def test_an_older_journal_is_backed_up_then_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        j.record_event("start", "v1", 1)
    newer = schema.MIGRATIONS + (
        schema.Migration("events get a source", "ALTER TABLE events ADD COLUMN source TEXT"),
    )
    monkeypatch.setattr(schema, "MIGRATIONS", newer)
    with Journal(path) as j:
        assert [e.summary for e in j.entries()] == ["start: v1"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(newer)
    assert "source" in [row[1] for row in conn.execute("PRAGMA table_info(events)")]
    conn.close()
    backup = sqlite3.connect(tmp_path / "j.db.v1.bak")
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 1
    assert backup.execute("SELECT detail FROM events").fetchall() == [("v1",)]
    backup.close()


def test_a_journal_from_a_newer_rulebot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {current_version() + 1}")
    conn.close()
    with pytest.raises(JournalError, match="upgrade rulebot"):
        Journal(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    path.write_bytes(b"this is not sqlite, just some text that is long enough" * 20)
    with pytest.raises(JournalError, match="not a rulebot journal"):
        Journal(path)


def test_a_failed_migration_leaves_the_old_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.db"
    Journal(path).close()
    broken = schema.MIGRATIONS + (schema.Migration("broken", "ALTER TABLE nowhere ADD COLUMN x TEXT"),)
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    with pytest.raises(JournalError, match="migration 2"):
        Journal(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def test_batch_mode_commits_at_flush_and_close(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    j = Journal(path, batch=True, batch_size=1000)
    j.record_event("start", "", 1)
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    j.flush()
    assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    for i in range(1500):  # passes batch_size once: an automatic commit
        j.record_event("tick", "", i)
    assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 1001
    j.close()
    assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 1501
    reader.close()


def test_batch_mode_survives_a_refused_write(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", batch=True) as j:
        j.record_order_intent("rb-1", "r", "BTCUSDT", "buy", "market", "1", None, "{}", 1)
        with pytest.raises(JournalError):
            j.record_order_intent("rb-1", "r", "BTCUSDT", "buy", "market", "1", None, "{}", 1)
        j.record_event("after", "", 2)
        assert len(j.entries()) == 2


def test_in_memory_journal() -> None:
    with Journal.memory() as j:
        _sample(j)
        assert len(j.entries()) == 6


def test_read_only_reader_sees_a_live_writer_and_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    writer = Journal(path)
    writer.record_event("start", "", 1)
    with Journal(path, read_only=True) as reader:
        writer.record_event("tick", "", 2)
        assert [e.summary for e in reader.entries()] == ["start: ", "tick: "]
        with pytest.raises(JournalError, match="journal write failed"):
            reader.record_event("nope", "", 3)
    writer.close()


def test_read_only_needs_an_existing_current_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(JournalError, match="no journal at"):
        Journal(tmp_path / "missing.db", read_only=True)
    path = tmp_path / "j.db"
    Journal(path).close()
    newer = schema.MIGRATIONS + (schema.Migration("more", "CREATE TABLE more (x TEXT)"),)
    monkeypatch.setattr(schema, "MIGRATIONS", newer)
    with pytest.raises(JournalError, match="open it once for writing"):
        Journal(path, read_only=True)


def test_final_order_statuses_are_the_model_s_closed_ones() -> None:
    """The journal keeps its own list (it sits beside ``model``, not above it): it must not drift."""
    assert set(FINAL_ORDER_STATUSES) == {s.value for s in OrderStatus if not s.is_open}
