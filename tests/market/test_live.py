"""Live fields from tickers (snapshot + delta), the order book and trade prints."""

from __future__ import annotations

import json
import math

from market_kit import EXAMPLES

from rulebot.exchange.bybit.parse import parse_ticker
from rulebot.market import LIVE_FIELDS, ChangeKind, LiveFields, MarketState
from rulebot.model.enums import Side
from rulebot.model.events import BookUpdate, TickerUpdate, TradePrint


def tickers(key: str, *path: str) -> dict:
    doc = json.loads((EXAMPLES / "ws_public_tickers.json").read_text())
    node = doc[key]
    for part in path:
        node = node[part]
    return node


def ticker(**fields: float | None) -> TickerUpdate:
    return TickerUpdate("BTCUSDT", 1, 1, is_snapshot=False, **fields)


def book(bids: tuple, asks: tuple, u: int, snapshot: bool = True) -> BookUpdate:
    return BookUpdate("BTCUSDT", u, u, snapshot, bids, asks, update_id=u, seq=u)


def nan_equal(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_every_language_field_starts_unknown() -> None:
    live = LiveFields()
    assert len(LIVE_FIELDS) == 18
    assert all(math.isnan(live.get(name)) for name in LIVE_FIELDS)


def test_a_delta_applies_on_top_of_the_snapshot() -> None:
    state = MarketState()
    snap = parse_ticker(tickers("supplementary_not_in_v5_docs", "linear_delta", "snapshot"), 0)
    delta = parse_ticker(tickers("supplementary_not_in_v5_docs", "linear_delta", "delta"), 0)
    (changed,) = state.apply(snap)
    assert changed.kind is ChangeKind.TICKER and changed.symbol == "BTCUSDT"
    assert state.apply(snap) == ()  # the same snapshot again changes nothing
    live = state.live_fields("BTCUSDT")
    assert live.ask1_size == 34.425 and live.funding_rate == -0.000231
    state.apply(delta)
    # only ask1Size changed; everything else is still the snapshot's
    assert live.ask1_size == 33.175
    assert (live.last, live.price, live.mark_price, live.funding_rate) == (17243.00, 17243.00, 17247.73, -0.000231)
    assert (live.high_24h, live.low_24h, live.change_24h) == (17271.00, 16915.00, 0.018608)
    assert (live.volume_24h, live.turnover_24h, live.open_interest) == (85837.138, 1468361827.0869985, 68257.758)
    assert live.bid1 == 17243.00 and live.ask1 == 17243.50
    assert live.mid == 17243.25 and live.spread == 0.5
    assert live.spread_pct == 0.5 / 17243.25


def test_a_snapshot_replaces_everything() -> None:
    state = MarketState()
    state.apply(TickerUpdate("BTCUSDT", 1, 1, True, last=100.0, funding_rate=0.0001, bid1=99.0, ask1=101.0))
    state.apply(TickerUpdate("BTCUSDT", 2, 2, True, bid1=98.0, ask1=102.0))
    live = state.live_fields("BTCUSDT")
    assert math.isnan(live.funding_rate)
    assert live.last == 100.0  # the second snapshot had no last price: the known one stays
    assert (live.bid1, live.ask1, live.mid) == (98.0, 102.0, 100.0)


def test_zero_prices_and_zero_divisors_are_unknown_not_errors() -> None:
    state = MarketState()
    state.apply(
        TickerUpdate("BTCUSDT", 1, 1, True, last=0.0, bid1=0.0, bid1_size=0.0, ask1=10.0, ask1_size=0.0, funding_rate=0.0)
    )
    live = state.live_fields("BTCUSDT")
    assert math.isnan(live.last) and math.isnan(live.bid1)
    assert math.isnan(live.mid) and math.isnan(live.spread) and math.isnan(live.spread_pct)
    assert live.bid1_size == 0.0 and live.funding_rate == 0.0 and live.ask1 == 10.0
    state.apply(ticker(ask1=-1.0))
    assert math.isnan(live.ask1)


def test_nothing_changed_means_nothing_to_evaluate() -> None:
    state = MarketState()
    assert state.apply(ticker(bid1=1.0, ask1=2.0))
    assert state.apply(ticker(bid1=1.0)) == ()
    assert state.apply(ticker()) == ()


def test_price_is_the_latest_of_ticker_and_trades() -> None:
    state = MarketState()
    live = state.live_fields("BTCUSDT")
    (changed,) = state.apply(TradePrint("BTCUSDT", 1, 1, 100.5, 0.1, Side.BUY))
    assert changed.kind is ChangeKind.TRADE and live.price == live.last == 100.5
    state.apply(ticker(mark_price=100.0))  # no last price in it: the trade's stays
    assert live.price == 100.5
    state.apply(ticker(last=101.0))
    assert live.price == 101.0
    assert state.apply(TradePrint("BTCUSDT", 2, 2, 0.0, 0.1, Side.SELL)) == ()
    assert live.price == 101.0


def test_the_order_book_is_authoritative_once_it_has_a_snapshot() -> None:
    state = MarketState()
    live = state.live_fields("BTCUSDT")
    state.apply(ticker(bid1=99.0, bid1_size=1.0, ask1=101.0, ask1_size=2.0))
    assert live.bid1 == 99.0
    (changed,) = state.apply(book(((99.5, 3.0), (99.0, 1.0)), ((100.5, 4.0),), u=10))
    assert changed.kind is ChangeKind.BOOK
    assert (live.bid1, live.bid1_size, live.ask1, live.ask1_size, live.mid) == (99.5, 3.0, 100.5, 4.0, 100.0)
    # a ticker's quotes no longer overwrite the book's
    state.apply(ticker(bid1=90.0, ask1=110.0, mark_price=100.1))
    assert live.bid1 == 99.5 and live.mark_price == 100.1
    # a delta deep in the book changes nothing a rule reads
    assert state.apply(book(((90.0, 5.0),), (), u=11, snapshot=False)) == ()
    assert state.apply(book(((99.5, 0.0),), (), u=12, snapshot=False))
    assert live.bid1 == 99.0
    # a gap: the book is stale, its fields unknown whatever the ticker says
    assert state.apply(book(((99.7, 1.0),), (), u=14, snapshot=False))
    assert all(math.isnan(x) for x in (live.bid1, live.ask1, live.bid1_size, live.ask1_size, live.mid, live.spread))
    state.apply(ticker(bid1=95.0, ask1=96.0))
    assert math.isnan(live.bid1)
    assert state.apply(book(((99.7, 1.0),), (), u=15, snapshot=False)) == ()
    state.apply(book(((98.0, 1.0),), ((99.0, 1.0),), u=20))
    assert (live.bid1, live.ask1) == (98.0, 99.0)


def test_the_live_object_is_stable_for_compiled_reads() -> None:
    state = MarketState()
    live = state.live_fields("ETHUSDT")
    state.apply(TickerUpdate("ETHUSDT", 1, 1, True, last=3000.0))
    assert state.live_fields("ETHUSDT") is live and live.price == 3000.0
