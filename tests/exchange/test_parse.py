"""Bybit V5 public WebSocket messages -> model events, on the documented examples."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebot.exchange.bybit.parse import parse_klines, parse_orderbook, parse_public, parse_ticker, parse_trades
from rulebot.exchange.errors import ExchangeError, WireFormatError
from rulebot.model.enums import Side
from rulebot.model.events import BookUpdate, KlineUpdate, TickerUpdate, TradePrint

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXAMPLES = SHARED / "bybit-v5" / "examples"
REAL_BOOK = SHARED / "data" / "ws" / "bybit" / "bybit_v5_orderbook500_XRPUSDT_2024-12-01.jsonl"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def test_linear_ticker_snapshot() -> None:
    msg = example("ws_public_tickers")["response"]["linear_perpetual_snapshot"]
    t = parse_ticker(msg, recv_ms=42)
    assert t == TickerUpdate(
        symbol="BTCUSDT", ts_event_ms=1760325052630, ts_recv_ms=42, is_snapshot=True,
        last=66666.60, mark_price=66666.60, index_price=115418.19, bid1=66666.60, bid1_size=23789.165,
        ask1=66666.70, ask1_size=23775.469, funding_rate=-0.005, open_interest=492373.72,
        volume_24h=73191.3870, turnover_24h=4936790807.6521, change_24h=-0.158315,
        high_24h=79266.30, low_24h=65076.90,
    )


def test_dated_future_empty_funding_rate_is_unknown() -> None:
    msg = example("ws_public_tickers")["response"]["linear_futures_snapshot"]
    t = parse_ticker(msg, recv_ms=0)
    assert t.symbol == "BTC-26DEC25" and t.funding_rate is not None and math.isnan(t.funding_rate)
    assert t.volume_24h == 0.0


def test_spot_ticker_has_no_quotes() -> None:
    t = parse_ticker(example("ws_public_tickers")["response"]["spot_snapshot"], recv_ms=0)
    assert t.is_snapshot and t.last == 21109.77 and t.bid1 is None and t.mark_price is None


def test_ticker_delta_carries_only_what_changed() -> None:
    msg = example("ws_public_tickers")["supplementary_not_in_v5_docs"]["linear_delta"]["delta"]
    t = parse_ticker(msg, recv_ms=0)
    assert not t.is_snapshot
    assert (t.bid1, t.bid1_size, t.ask1, t.ask1_size) == (17243.00, 84.727, 17243.50, 33.175)
    assert t.last is None and t.funding_rate is None and t.mark_price is None


def test_orderbook_snapshot_and_delta() -> None:
    response = example("ws_public_orderbook")["response"]
    snap = parse_orderbook(response["snapshot"], recv_ms=0)
    assert snap == BookUpdate(
        "BTCUSDT", 1672304484978, 0, True,
        bids=((16493.50, 0.006), (16493.00, 0.100)), asks=((16611.00, 0.029), (16612.00, 0.213)),
        update_id=18521288, seq=7961638724,
    )
    delta = parse_orderbook(response["delta"], recv_ms=0)
    assert not delta.is_snapshot and delta.update_id == 177400507
    assert (30240.00, 0.0) in delta.bids and len(delta.asks) == 7


def test_real_orderbook_stream_parses() -> None:
    updates = [parse_public(json.loads(line), recv_ms=0)[0] for line in REAL_BOOK.read_text().splitlines()]
    books = [u for u in updates if isinstance(u, BookUpdate)]
    assert len(books) == len(updates) == 50
    assert [u.update_id for u in books] == list(range(20254869, 20254919))
    assert len(books[0].bids) == 500


def test_public_trade() -> None:
    (trade,) = parse_trades(example("ws_public_trade")["response"]["snapshot"], recv_ms=7)
    assert trade == TradePrint("BTCUSDT", 1672304486865, 7, 16578.50, 0.001, Side.BUY)


def test_kline_forming_bar() -> None:
    (k,) = parse_klines(example("ws_public_kline")["response"]["snapshot"], recv_ms=0)
    assert k == KlineUpdate(
        symbol="BTCUSDT", timeframe="5m", ts_event_ms=1672324988882, ts_recv_ms=0, start_ms=1672324800000,
        open=16649.5, high=16677.0, low=16608.0, close=16677.0, volume=2.081, confirm=False,
    )


def test_parse_public_dispatches_on_topic() -> None:
    for name, kind in (
        ("ws_public_tickers", TickerUpdate), ("ws_public_orderbook", BookUpdate),
        ("ws_public_trade", TradePrint), ("ws_public_kline", KlineUpdate),
    ):
        response = example(name)["response"]
        msg = next(iter(response.values()))
        if name == "ws_public_tickers":
            msg = response["linear_perpetual_snapshot"]
        (event,) = parse_public(msg, recv_ms=0)
        assert isinstance(event, kind)


def broken(name: str, key: str, mutate: str) -> tuple[dict, str]:
    """A documented message with one field removed or corrupted; returns it and the field path."""
    response = example(name)["response"]
    msg = copy.deepcopy(response["linear_perpetual_snapshot"] if name == "ws_public_tickers" else next(iter(response.values())))
    path = key.split(".")
    parent = msg
    for part in path[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = path[-1]
    if mutate == "drop":
        del parent[last]
    else:
        parent[int(last) if isinstance(parent, list) else last] = mutate
    return msg, key


@pytest.mark.parametrize(
    ("name", "key", "mutate", "field"),
    [
        ("ws_public_tickers", "ts", "drop", "ts"),
        ("ws_public_tickers", "data.symbol", "drop", "data.symbol"),
        ("ws_public_tickers", "data.lastPrice", "abc", "data.lastPrice"),
        ("ws_public_tickers", "data.bid1Size", "NaN", "data.bid1Size"),
        ("ws_public_tickers", "type", "full", "type"),
        ("ws_public_tickers", "data.symbol", "ETHUSDT", "data.symbol"),
        ("ws_public_orderbook", "data.u", "drop", "data.u"),
        ("ws_public_orderbook", "data.seq", "7", "data.seq"),
        ("ws_public_orderbook", "data.b.1.0", "x", "data.b[1][0]"),
        ("ws_public_orderbook", "data.a.0.1", "-1", "data.a[0][1]"),
        ("ws_public_orderbook", "data.b.0.0", "0", "data.b[0][0]"),
        ("ws_public_trade", "data.0.S", "Short", "data[0].S"),
        ("ws_public_trade", "data.0.p", "drop", "data[0].p"),
        ("ws_public_trade", "data.0.T", "1672304486865", "data[0].T"),
        ("ws_public_kline", "data.0.confirm", "false", "data[0].confirm"),
        ("ws_public_kline", "data.0.interval", "7", "data[0].interval"),
        ("ws_public_kline", "data.0.close", "", "data[0].close"),
        ("ws_public_kline", "topic", "kline.5", "topic"),
        ("ws_public_kline", "topic", "weather.5.BTCUSDT", "topic"),
    ],
)
def test_a_missing_or_malformed_field_is_named(name: str, key: str, mutate: str, field: str) -> None:
    msg, _ = broken(name, key, mutate)
    with pytest.raises(WireFormatError) as info:
        parse_public(msg, recv_ms=0)
    assert info.value.field == field
    assert field in str(info.value)
    assert isinstance(info.value, ExchangeError)


def test_not_an_object_at_all() -> None:
    with pytest.raises(WireFormatError) as info:
        parse_public(["topic"], recv_ms=0)
    assert info.value.field == "message"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(["ws_public_tickers", "ws_public_orderbook", "ws_public_trade", "ws_public_kline"]),
    data=st.data(),
)
def test_any_corruption_is_an_event_or_a_wire_format_error(name: str, data: st.DataObject) -> None:
    response = example(name)["response"]
    msg = copy.deepcopy(response["linear_perpetual_snapshot"] if name == "ws_public_tickers" else next(iter(response.values())))
    # walk to a random place in the message and replace it with a random JSON value
    node: object = msg
    while True:
        keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = node[key]  # type: ignore[index]
        if not isinstance(child, (dict, list)) or data.draw(st.booleans()):
            node[key] = data.draw(json_values)  # type: ignore[index]
            break
        node = child
    try:
        events = parse_public(msg, recv_ms=0)
    except WireFormatError as error:
        assert error.field
    else:
        assert all(isinstance(e, (TickerUpdate, BookUpdate, TradePrint, KlineUpdate)) for e in events)
