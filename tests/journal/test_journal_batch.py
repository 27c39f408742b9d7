"""A batch journal (backtests) queues its writes and sends them to SQLite in bulk: it must hold
exactly what a journal writing each record at once holds, and refuse the same things."""

from __future__ import annotations

import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.journal import EntryKind, FillRecord, Journal, JournalError, RuleStateRecord


def _fill(exec_id: str, link: str, ts: int) -> FillRecord:
    return FillRecord(exec_id, ts, "BTCUSDT", "oid", link, "sell", "30100.1", "0.010", "0.1655", False, "")


# One step of a journal's life: (what, a small number that picks names and times).
_STEPS = st.lists(
    st.tuples(st.sampled_from(["fire", "action", "intent", "update", "fill", "reject", "event", "state"]),
              st.integers(0, 5)),
    max_size=40,
)


def _apply(j: Journal, steps: list[tuple[str, int]]) -> list[object]:
    """Run ``steps`` on ``j``; what each write answered (True/False, or the error it raised)."""
    answers: list[object] = []
    for ts, (what, n) in enumerate(steps):
        link = f"rb-{n}"
        try:
            if what == "fire":
                j.record_fire(f"r{n}", "BTCUSDT", n, ts, f"x={n}")
            elif what == "action":
                j.record_action(f"r{n}", "BTCUSDT", n, "order", f'{{"n": {n}}}', ts)
            elif what == "intent":
                j.record_order_intent(link, f"r{n}", "BTCUSDT", "buy", "market", Decimal("0.010"), None, "{}", ts)
            elif what == "update":
                answers.append(j.update_order(link, "filled", ts, order_id=f"o{n}", filled_qty="0.010"))
            elif what == "fill":
                j.record_fill(_fill(f"e{ts % 4}", link, ts))
            elif what == "reject":
                j.record_rejection(f"r{n}", "BTCUSDT", "too big", "max_position", ts)
            elif what == "event":
                j.record_event("tick", str(n), ts)
            else:
                j.save_rule_states([RuleStateRecord(f"r{n}", "h", True, ts, n, False, (), (), ())], ts)
        except JournalError as err:
            answers.append(str(err))
    return answers


@settings(max_examples=60, deadline=None)
@given(steps=_STEPS, batch_size=st.integers(1, 7))
def test_a_batch_journal_holds_what_a_direct_one_holds(steps: list[tuple[str, int]], batch_size: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        with Journal(Path(folder) / "direct.db") as direct, Journal(None, batch_size=batch_size) as batched:
            assert _apply(batched, steps) == _apply(direct, steps)
            assert batched.entries() == direct.entries()
            assert batched.load_rule_states() == direct.load_rule_states()
            assert batched.unfinished_orders() == direct.unfinished_orders()


def test_batch_and_direct_file_journals_agree(tmp_path: Path) -> None:
    steps = [("intent", 1), ("fill", 1), ("update", 1), ("update", 2), ("intent", 1), ("fire", 3),
             ("action", 3), ("fill", 2), ("state", 1), ("state", 1), ("reject", 0), ("event", 4)]
    with Journal(tmp_path / "direct.db") as direct, Journal(tmp_path / "batch.db", batch=True) as batched:
        assert _apply(batched, steps) == _apply(direct, steps)
        assert batched.entries() == direct.entries()
        assert batched.load_rule_states() == direct.load_rule_states()


def test_a_queued_order_is_found_and_a_fill_gets_its_rule(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", batch=True) as j:
        j.record_order_intent("rb-1", "dip", "BTCUSDT", "buy", "market", "0.010", None, "{}", 1)
        assert j.update_order("rb-1", "filled", 2, filled_qty="0.010") is True
        assert j.update_order("rb-nobody", "filled", 2) is False
        j.record_fill(_fill("e-1", "rb-1", 3))
        order = j.order("rb-1")
        assert order is not None and order.status == "filled"
        assert [e.rule for e in j.entries()] == ["dip", "dip"]


def test_a_reopened_batch_journal_refuses_an_order_already_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        j.record_order_intent("rb-1", "dip", "BTCUSDT", "buy", "market", "0.010", None, "{}", 1)
    with Journal(path, batch=True) as j:
        with pytest.raises(JournalError, match="already in the journal"):
            j.record_order_intent("rb-1", "dip", "BTCUSDT", "buy", "market", "0.010", None, "{}", 2)
        assert j.update_order("rb-1", "cancelled", 3) is True


def test_a_write_sqlite_refuses_at_flush_is_a_journal_error_and_the_journal_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path, batch=True) as j:
        j.record_event("start", "", 1)
        j.record_event(None, "", 2)  # type: ignore[arg-type]  # NOT NULL: only SQLite refuses it
        with pytest.raises(JournalError, match="journal write failed"):
            j.flush()
        j.record_event("again", "", 3)
        assert [e.summary for e in j.entries()] == ["again: "]
    assert sqlite3.connect(path).execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_params_that_are_not_json_are_refused_even_after_a_good_one() -> None:
    with Journal.memory() as j:
        good = '{"a": 1}'
        j.record_action("r", "BTCUSDT", 1, "order", good, 1)
        j.record_order_intent("rb-1", "r", "BTCUSDT", "buy", "market", "1", None, good, 1)
        with pytest.raises(JournalError, match="must be JSON"):
            j.record_order_intent("rb-2", "r", "BTCUSDT", "buy", "market", "1", None, "{not json", 1)


@pytest.mark.parametrize("batch", [False, True])
def test_order_owners_and_fire_times_say_what_the_entries_say(tmp_path: Path, batch: bool) -> None:
    with Journal(tmp_path / "j.db", batch=batch) as j:
        for ts, (rule, link) in enumerate([("b", "rb-2"), ("a", "rb-1"), ("b", "rb-3")]):
            j.record_fire(rule, "BTCUSDT", ts, 100 - ts, "x")
            j.record_order_intent(link, rule, "BTCUSDT", "buy", "market", "0.010", None, "{}", 100 - ts)
        j.update_order("rb-1", "rejected", 200, reject_reason="no")
        fires = [(e.ts_ms, e.rule, e.symbol) for e in j.entries(kind=EntryKind.FIRE)]
        orders = [(dict(e.fields)["order_link_id"], e.rule, dict(e.fields)["status"])
                  for e in j.entries(kind=EntryKind.ORDER)]
        assert j.fire_times() == fires == [(98, "b", "BTCUSDT"), (99, "a", "BTCUSDT"), (100, "b", "BTCUSDT")]
        assert j.order_owners() == orders
        assert ("rb-1", "a", "rejected") in orders
