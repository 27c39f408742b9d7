"""``JsonText``: serializer-made parameters are journalled as they are, without a second parse."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rulebot.journal.journal import Journal, JournalError, JsonText


@pytest.mark.parametrize("batch", [False, True])
def test_json_text_is_stored_as_the_same_plain_text(tmp_path: Path, batch: bool) -> None:
    text = '{"kind":"order","qty":"0.010"}'
    with Journal(tmp_path / "j.db", batch=batch) as j:
        j.record_action("r", "BTCUSDT", 1, "order", JsonText(text), 1)
        j.record_order_intent("rb-1", "r", "BTCUSDT", "buy", "market", "0.010", None, JsonText(text), 1)
        order = j.order("rb-1")
    assert order is not None and order.params == text and type(order.params) is str
    stored = sqlite3.connect(tmp_path / "j.db").execute("SELECT params FROM actions").fetchall()
    assert stored == [(text,)]


def test_plain_text_is_still_checked_after_json_text() -> None:
    with Journal.memory() as j:
        j.record_action("r", "BTCUSDT", 1, "order", JsonText("{}"), 1)
        with pytest.raises(JournalError, match="must be JSON"):
            j.record_action("r", "BTCUSDT", 2, "order", "{not json", 2)
