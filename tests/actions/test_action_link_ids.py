"""orderLinkIds: deterministic, short enough for Bybit, made of Bybit's characters."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.actions import make_order_link_id
from rulebot.actions.link_ids import MAX_SEQ

BYBIT_LINK_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")


def test_the_shape() -> None:
    link = make_order_link_id("take profit when overbought", "when rsi(14) > 70 then close market", 17)
    assert re.fullmatch(r"rb-[0-9a-f]{8}-17", link)


def test_the_same_rule_and_seq_give_the_same_id() -> None:
    assert make_order_link_id("a", "when x then buy 1", 3) == make_order_link_id("a", "when x then buy 1", 3)


def test_an_edited_rule_or_a_new_fire_gets_a_new_id() -> None:
    base = make_order_link_id("a", "when x then buy 1", 3)
    assert make_order_link_id("a", "when x then buy 2", 3) != base
    assert make_order_link_id("b", "when x then buy 1", 3) != base
    assert make_order_link_id("a", "when x then buy 1", 4) != base


def test_name_and_text_are_kept_apart() -> None:
    assert make_order_link_id("ab", "c", 1) != make_order_link_id("a", "bc", 1)


@pytest.mark.parametrize("seq", [-1, MAX_SEQ + 1, 1.5, True])
def test_a_bad_sequence_is_refused(seq: object) -> None:
    with pytest.raises(ValueError, match="fire sequence"):
        make_order_link_id("a", "b", seq)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(name=st.text(), text=st.text(), seq=st.integers(0, MAX_SEQ))
def test_every_id_is_a_valid_bybit_link_id_with_room_for_a_suffix(name: str, text: str, seq: int) -> None:
    link = make_order_link_id(name, text, seq)
    assert BYBIT_LINK_ID.fullmatch(link + "-L")
    assert link.endswith(f"-{seq}")
