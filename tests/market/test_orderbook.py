"""The L2 book from Bybit snapshot + delta messages: docs examples, a real stream, gaps."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_kit import EXAMPLES, WS_BYBIT

from rulebot.exchange.bybit.parse import parse_orderbook
from rulebot.market import Anomaly, AnomalyLog, OrderBook
from rulebot.model.events import BookUpdate

REAL_STREAM = WS_BYBIT / "bybit_v5_orderbook500_XRPUSDT_2024-12-01.jsonl"


def real_messages() -> list[BookUpdate]:
    lines = REAL_STREAM.read_text().splitlines()
    return [parse_orderbook(json.loads(line), recv_ms=0) for line in lines]


def docs_example(kind: str) -> dict:
    return json.loads((EXAMPLES / "ws_public_orderbook.json").read_text())["response"][kind]


class NaiveBook:
    """The obvious model: dicts, sorted in full whenever asked."""

    def __init__(self) -> None:
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}

    def apply(self, u: BookUpdate) -> None:
        if u.is_snapshot:
            self.bids, self.asks = {}, {}
        for side, levels in ((self.bids, u.bids), (self.asks, u.asks)):
            for price, size in levels:
                if size == 0:
                    side.pop(price, None)
                else:
                    side[price] = size

    def levels(self) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())


def test_docs_snapshot_gives_best_levels() -> None:
    book = OrderBook("BTCUSDT")
    book.apply(parse_orderbook(docs_example("snapshot"), recv_ms=0))
    assert book.top() == (16493.50, 0.006, 16611.00, 0.029)
    assert book.bids() == [(16493.50, 0.006), (16493.00, 0.100)]
    assert not book.stale


def test_docs_delta_is_a_gap_after_the_docs_snapshot() -> None:
    # the two docs examples are from different days: u jumps from 18521288 to 177400507
    anomalies = AnomalyLog()
    book = OrderBook("BTCUSDT", anomalies)
    book.apply(parse_orderbook(docs_example("snapshot"), recv_ms=0))
    book.apply(parse_orderbook(docs_example("delta"), recv_ms=0))
    assert book.stale
    assert all(math.isnan(x) for x in book.top())
    assert anomalies.count(Anomaly.BOOK_GAP) == 1


def test_docs_delta_applies_on_a_book_it_follows() -> None:
    delta = parse_orderbook(docs_example("delta"), recv_ms=0)
    before = BookUpdate(
        "BTCUSDT", 0, 0, True,
        bids=((30247.20, 1.0), (30240.00, 2.0), (30239.0, 3.0)),
        asks=((30248.70, 1.0), (30249.60, 5.0), (30260.0, 1.0)),
        update_id=delta.update_id - 1, seq=delta.seq - 10,
    )
    book = OrderBook("BTCUSDT")
    book.apply(before)
    book.apply(delta)
    assert not book.stale
    bids = dict(book.bids())
    asks = dict(book.asks())
    assert bids[30247.20] == 30.028  # known price: size replaced
    assert 30240.00 not in bids  # size "0": deleted
    assert bids[30245.40] == 0.224  # unknown price: inserted
    assert 30248.70 not in asks and 30249.60 not in asks
    assert book.top() == (30247.20, 30.028, 30249.30, 0.892)
    assert book.bids() == sorted(book.bids(), reverse=True)
    assert book.asks() == sorted(book.asks())


def test_real_stream_rebuilds_the_book_through_all_deltas() -> None:
    messages = real_messages()
    assert len(messages) == 50 and messages[0].is_snapshot and not any(m.is_snapshot for m in messages[1:])
    book = OrderBook("XRPUSDT")
    naive = NaiveBook()
    for message in messages:
        book.apply(message)
        naive.apply(message)
        assert not book.stale
        bids, asks = naive.levels()
        assert book.bids() == bids and book.asks() == asks
        assert book.top() == (bids[0][0], bids[0][1], asks[0][0], asks[0][1])
        assert book.best_bid < book.best_ask
        assert all(size > 0 for _, size in bids + asks)
        assert len(bids) <= 500 and len(asks) <= 500
    assert book.update_id == messages[-1].update_id


@pytest.mark.parametrize("dropped", [1, 10, 49])
def test_a_dropped_message_makes_the_book_stale_until_a_snapshot(dropped: int) -> None:
    messages = real_messages()
    anomalies = AnomalyLog()
    book = OrderBook("XRPUSDT", anomalies)
    for i, message in enumerate(messages):
        if i != dropped:
            book.apply(message)
        if i < dropped:
            assert not book.stale
    if dropped < 49:
        assert book.stale
        assert all(math.isnan(x) for x in book.top())
        assert book.bids() == [] and book.asks() == []
        assert anomalies.count(Anomaly.BOOK_GAP) == 1
        assert anomalies.count(Anomaly.BOOK_DELTA_WHILE_STALE) == 48 - dropped
    # a new snapshot recovers, whatever its update id
    book.apply(messages[0])
    assert not book.stale
    assert book.top()[0] == messages[0].bids[0][0]


def test_seq_going_backwards_makes_the_book_stale() -> None:
    messages = real_messages()
    book = OrderBook("XRPUSDT")
    book.apply(messages[0])
    book.apply(messages[1])
    older = BookUpdate("XRPUSDT", 0, 0, False, (), (), update_id=messages[1].update_id + 1, seq=messages[1].seq - 1)
    book.apply(older)
    assert book.stale


def test_a_crossing_delta_makes_the_book_stale() -> None:
    book = OrderBook("X")
    book.apply(BookUpdate("X", 0, 0, True, ((10.0, 1.0),), ((11.0, 1.0),), update_id=5, seq=5))
    book.apply(BookUpdate("X", 0, 0, False, ((11.5, 1.0),), (), update_id=6, seq=6))
    assert book.stale and math.isnan(book.best_bid)


def test_a_delta_before_any_snapshot_is_ignored() -> None:
    book = OrderBook("X")
    book.apply(BookUpdate("X", 0, 0, False, ((10.0, 1.0),), ((11.0, 1.0),), update_id=1, seq=1))
    assert book.stale and not book.has_snapshot and math.isnan(book.best_ask)


prices = st.integers(min_value=1, max_value=60).map(lambda p: p / 4)
sizes = st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.25, 7.0])


@settings(max_examples=150, deadline=None)
@given(
    snapshot=st.lists(st.tuples(prices, sizes), max_size=20),
    deltas=st.lists(st.lists(st.tuples(prices, sizes), max_size=6), max_size=20),
)
def test_top_of_book_equals_a_full_sort_after_any_deltas(
    snapshot: list[tuple[float, float]], deltas: list[list[tuple[float, float]]]
) -> None:
    # bids below 8.0 and asks from 8.0 up, so the book never crosses
    def split(levels: list[tuple[float, float]]) -> tuple[tuple, tuple]:
        return tuple((p, s) for p, s in levels if p < 8.0), tuple((p + 0.0, s) for p, s in levels if p >= 8.0)

    book = OrderBook("X")
    naive = NaiveBook()
    bids, asks = split(snapshot)
    first = BookUpdate("X", 0, 0, True, bids, asks, update_id=100, seq=1)
    book.apply(first)
    naive.apply(first)
    for i, levels in enumerate(deltas, start=1):
        bids, asks = split(levels)
        update = BookUpdate("X", i, i, False, bids, asks, update_id=100 + i, seq=1 + i)
        book.apply(update)
        naive.apply(update)
        want_bids, want_asks = naive.levels()
        assert book.bids() == want_bids and book.asks() == want_asks
        assert book.bids(depth=2) == want_bids[:2] and book.asks(depth=2) == want_asks[:2]
        nan_pair = (math.nan, math.nan)
        expected = (*(want_bids[0] if want_bids else nan_pair), *(want_asks[0] if want_asks else nan_pair))
        assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(book.top(), expected, strict=True))
