"""Bybit klines over REST: the row parser, Bybit's bar grid, the exception mapping and the
paging, with the real pybit client talking to a test double of /v5/market/kline."""

from __future__ import annotations

import json
import math
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pybit.unified_trading import HTTP

from rulebot.exchange.bybit.market_data import (
    BYBIT_INTERVALS,
    BarGrid,
    KlineRow,
    RateLimited,
    RetryNotice,
    RetryPolicy,
    UnknownSymbol,
    close_http,
    fetch_klines,
    get_kline_page,
    kline_session,
    map_ret_code,
    parse_kline_reply,
    rest_url,
)
from rulebot.exchange.errors import ExchangeError, ExchangeUnavailable, OrderRejected, WireFormatError
from rulebot.model.clock import LiveClock, SimClock
from rulebot.model.enums import Category

# the kline test double lives in tests/support, shared with tests/backtest
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from kline_server import SOURCE_CSV, Candle, Fault, KlineServer, load_candles  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "bybit-v5" / "examples" / "rest_v5_market_kline.json"
MINUTE = 60_000
needs_data = pytest.mark.skipif(not SOURCE_CSV.is_file(), reason="the shared kline data is not here")


@pytest.fixture(scope="module")
def candles() -> tuple[Candle, ...]:
    return load_candles()[:5000]


@pytest.fixture
def server(candles: tuple[Candle, ...]) -> Iterator[KlineServer]:
    with KlineServer(candles) as srv:
        yield srv


@pytest.fixture
def http(server: KlineServer) -> Iterator[HTTP]:
    with kline_session(server.url) as session:
        yield session


def _fetch(http: HTTP, lo: int, hi: int, **kw: object) -> list:
    return list(fetch_klines(Category.LINEAR, "BTCUSDT", "1m", lo, hi, http=http, **kw))  # type: ignore[arg-type]


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="the shared Bybit examples are not here")
def test_the_docs_example_reply_parses_into_ascending_rows_with_bybits_strings() -> None:
    reply = json.loads(EXAMPLE.read_text())["response"]
    rows = parse_kline_reply(reply, 0, 2**62)
    assert rows == (
        KlineRow(1670601600000, "17086.5", "17088", "16978", "17071.5", "6356"),
        KlineRow(1670605200000, "17071.5", "17071.5", "17061", "17071", "4177"),
        KlineRow(1670608800000, "17071", "17073", "17027", "17055.5", "268611"),
    )
    assert [r.start_ms for r in parse_kline_reply(reply, 1670605200000, 1670605200000)] == [1670605200000]


def _reply(*rows: object) -> dict[str, object]:
    return {"retCode": 0, "retMsg": "OK", "result": {"category": "linear", "symbol": "X", "list": list(rows)}}


ROW = ["120000", "1.5", "2", "1", "1.75", "10", "17.5"]


@pytest.mark.parametrize(
    ("reply", "field"),
    [
        ([], "reply"),
        ({"retCode": 0}, "result"),
        ({"result": {"list": {}}}, "result.list"),
        (_reply(ROW[:5]), "result.list[0]"),
        (_reply(["120000", 1.5, "2", "1", "1.75", "10", "17.5"]), "result.list[0][1]"),
        (_reply(["120000", "NaN", "2", "1", "1.75", "10", "17.5"]), "result.list[0][1]"),
        (_reply(["120000", "1.5", "2", "1", "1.75", "-10", "0"]), "result.list[0][5]"),
        (_reply(["12e4", *ROW[1:]]), "result.list[0][0]"),
        (_reply(["60000", *ROW[1:]], ROW), "result.list[1][0]"),  # oldest first
        (_reply(ROW, ROW), "result.list[1][0]"),  # the same candle twice
    ],
)
def test_a_reply_that_is_not_bybits_kline_shape_names_the_field(reply: object, field: str) -> None:
    with pytest.raises(WireFormatError) as caught:
        parse_kline_reply(reply, 0, 2**62)
    assert caught.value.field == field


# --- the bar grid ------------------------------------------------------------------------------


def _ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def test_weekly_bars_open_on_monday_and_monthly_bars_on_the_first() -> None:
    wednesday = _ms(2025, 6, 4, 13, 5)
    assert BarGrid("1w").floor(wednesday) == _ms(2025, 6, 2)
    assert BarGrid("1M").floor(wednesday) == _ms(2025, 6, 1)
    assert BarGrid("1M").shift(_ms(2025, 6, 1), -18) == _ms(2023, 12, 1)
    assert BarGrid("4h").floor(wednesday) == _ms(2025, 6, 4, 12)


def test_the_bar_holding_now_is_not_closed() -> None:
    grid = BarGrid("1m")
    assert grid.last_closed(_ms(2025, 6, 1, 10, 0) + 30_000) == _ms(2025, 6, 1, 9, 59)
    assert grid.last_closed(_ms(2025, 6, 1, 10, 0)) == _ms(2025, 6, 1, 9, 59)
    assert BarGrid("1M").last_closed(_ms(2025, 6, 15)) == _ms(2025, 5, 1)


def test_an_unknown_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown interval '2m'"):
        BarGrid("2m")


@settings(max_examples=200, deadline=None)
@given(
    timeframe=st.sampled_from(sorted(BYBIT_INTERVALS)),
    lo=st.integers(0, _ms(2030, 1, 1)),
    span_bars=st.integers(0, 40),
    extra=st.integers(0, 10**9),
)
def test_count_matches_the_bars_walked_one_by_one(timeframe: str, lo: int, span_bars: int, extra: int) -> None:
    grid = BarGrid(timeframe)
    hi = grid.shift(grid.floor(lo), span_bars) + extra % (grid.step_ms or 28 * 86_400_000)
    walked = []
    start = grid.floor(lo) if grid.on_grid(lo) else grid.shift(grid.floor(lo), 1)
    while start <= hi:
        walked.append(start)
        start = grid.shift(start, 1)
    assert grid.count(lo, hi) == len(walked)
    for s in walked:
        opened = datetime.fromtimestamp(s / 1000, UTC)
        assert grid.floor(s) == s and grid.floor(s + 1) == s
        assert (opened.hour, opened.minute, opened.second) == (0, 0, 0) or grid.step_ms and grid.step_ms < 86_400_000
        if timeframe == "1w":
            assert opened.weekday() == 0
        if timeframe == "1M":
            assert opened.day == 1


# --- endpoints are configuration ---------------------------------------------------------------


def test_rest_url_is_bybits_unless_overridden() -> None:
    assert rest_url(testnet=False) == "https://api.bybit.com"
    assert rest_url(testnet=True) == "https://api-testnet.bybit.com"
    assert rest_url(testnet=True, override="http://127.0.0.1:9/") == "http://127.0.0.1:9"
    for bad in ("127.0.0.1:9", "ftp://host", "http://", "http://host/?x=1"):
        with pytest.raises(ValueError, match="not a base URL"):
            rest_url(testnet=False, override=bad)


# --- exception mapping, over a real socket -----------------------------------------------------


def _page(http: HTTP, symbol: str = "BTCUSDT", *, limit: int = 1000) -> object:
    return get_kline_page(http, Category.LINEAR, symbol, "1m", 0, 2**45, limit=limit)


def test_a_rate_limit_maps_to_rate_limited_with_the_reset_time(server: KlineServer, http: HTTP) -> None:
    server.fail_next(Fault.RATE_LIMIT)
    before = LiveClock().now_ms()
    with pytest.raises(RateLimited) as caught:
        _page(http)
    assert caught.value.reset_ms is not None and caught.value.reset_ms >= before
    assert isinstance(caught.value, ExchangeUnavailable)


@pytest.mark.parametrize("fault", [Fault.BAD_GATEWAY, Fault.DROP])
def test_a_bad_gateway_or_a_dropped_connection_is_unavailable(server: KlineServer, http: HTTP, fault: Fault) -> None:
    server.fail_next(fault)
    with pytest.raises(ExchangeUnavailable) as caught:
        _page(http)
    assert not isinstance(caught.value, RateLimited)
    assert server.url in str(caught.value)


def test_an_unknown_symbol_is_a_rejection_naming_bybits_code(http: HTTP) -> None:
    with pytest.raises(UnknownSymbol) as caught:
        _page(http, "BTCUSDX")
    assert (caught.value.ret_code, caught.value.ret_msg) == (10001, "params error: symbol invalid")


def test_another_params_error_is_a_plain_rejection(http: HTTP) -> None:
    with pytest.raises(OrderRejected) as caught:
        _page(http, limit=1001)
    assert not isinstance(caught.value, UnknownSymbol)
    assert caught.value.ret_code == 10001


def test_a_wrong_path_is_an_error_that_is_not_retried(server: KlineServer) -> None:
    with kline_session(server.url + "/api") as http, pytest.raises(ExchangeError) as caught:
        _page(http)
    assert not isinstance(caught.value, ExchangeUnavailable)
    assert "HTTP 404" in str(caught.value)


def test_nobody_listening_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with kline_session(f"http://127.0.0.1:{port}") as http, pytest.raises(ExchangeUnavailable, match="refused"):
        _page(http)


@pytest.mark.parametrize(("code", "temporary"), [(10000, True), (10016, True), (10429, True), (110007, False)])
def test_temporary_ret_codes_are_unavailable_and_others_rejections(code: int, temporary: bool) -> None:
    error = map_ret_code(code, "some message", None)
    assert isinstance(error, ExchangeUnavailable) is temporary
    assert isinstance(error, OrderRejected) is not temporary


def test_when_pybit_retries_a_rate_limit_itself_its_giving_up_is_unavailable(candles: tuple[Candle, ...]) -> None:
    # a caller's own pybit session keeps pybit's retry codes: pybit sleeps until the reset
    # time the server sends, asks again, and gives up after max_retries. The reset must still
    # be ahead when pybit reads it (a past one makes time.sleep raise), hence a generous one.
    with KlineServer(candles, reset_after_ms=300) as server:
        http = HTTP(max_retries=2)
        http.endpoint = server.url
        server.fail_next(Fault.RATE_LIMIT, times=5)
        try:
            with pytest.raises(ExchangeUnavailable, match="gave up"):
                _page(http)
        finally:
            close_http(http)
        assert len(server.served()) == 2


# --- paging and retries ------------------------------------------------------------------------


@needs_data
def test_pages_go_backwards_in_windows_of_at_most_1000_bars(
    server: KlineServer, http: HTTP, candles: tuple[Candle, ...]
) -> None:
    pages = _fetch(http, candles[0].start_ms, candles[-1].start_ms)
    assert len(pages) == math.ceil(len(candles) / 1000) == len(server.served())
    assert [p.hi_ms for p in pages] == sorted((p.hi_ms for p in pages), reverse=True)
    for query in server.served():
        assert (int(query["end"]) - int(query["start"])) // MINUTE + 1 <= 1000
        assert (query["category"], query["symbol"], query["interval"], query["limit"]) == ("linear", "BTCUSDT", "1", "1000")
    rows = [row for page in reversed(pages) for row in page.rows]
    assert [(r.start_ms, r.open, r.high, r.low, r.close, r.volume) for r in rows] == [
        (c.start_ms, c.open, c.high, c.low, c.close, c.volume) for c in candles
    ]


@needs_data
def test_paging_stops_at_the_first_empty_page(server: KlineServer, http: HTTP, candles: tuple[Candle, ...]) -> None:
    pages = _fetch(http, candles[0].start_ms - 100_000 * MINUTE, candles[999].start_ms)
    assert [len(p.rows) for p in pages] == [1000, 0]


@needs_data
@pytest.mark.parametrize("fault", [Fault.BAD_GATEWAY, Fault.DROP])
def test_temporary_failures_are_retried_with_growing_waits(
    server: KlineServer, http: HTTP, candles: tuple[Candle, ...], fault: Fault
) -> None:
    server.fail_next(fault, times=2, after=1)
    waits: list[float] = []
    notices: list[RetryNotice] = []
    pages = _fetch(http, candles[0].start_ms, candles[2999].start_ms, sleep=waits.append, on_retry=notices.append)
    assert sum(len(p.rows) for p in pages) == 3000
    assert waits == [1.0, 2.0]
    assert [(n.attempt, n.attempts) for n in notices] == [(1, 5), (2, 5)]


@needs_data
def test_a_rate_limit_waits_until_bybits_reset_time(server: KlineServer, http: HTTP, candles: tuple[Candle, ...]) -> None:
    server.fail_next(Fault.RATE_LIMIT)
    waits: list[float] = []
    pages = _fetch(http, candles[0].start_ms, candles[99].start_ms, sleep=waits.append)
    assert len(pages[0].rows) == 100
    assert len(waits) == 1 and 0.0 <= waits[0] <= server.reset_after_ms / 1000


@needs_data
def test_a_failure_that_lasts_gives_up_after_the_attempts(server: KlineServer, http: HTTP, candles: tuple[Candle, ...]) -> None:
    server.fail_next(Fault.BAD_GATEWAY, times=10)
    waits: list[float] = []
    with pytest.raises(ExchangeUnavailable, match="gave up after 3 attempts"):
        _fetch(http, candles[0].start_ms, candles[9].start_ms, retry=RetryPolicy(attempts=3), sleep=waits.append)
    assert waits == [1.0, 2.0] and len(server.served()) == 3


def test_a_rejection_is_not_retried(server: KlineServer, http: HTTP) -> None:
    waits: list[float] = []
    with pytest.raises(UnknownSymbol):
        list(fetch_klines(Category.LINEAR, "NOPE", "1m", 0, 10 * MINUTE, http=http, sleep=waits.append))
    assert waits == [] and len(server.served()) == 1


def test_a_rate_limit_wait_is_capped_and_never_negative() -> None:
    policy = RetryPolicy(max_delay_s=30.0)
    clock = SimClock(1_000_000)
    assert policy.delay_s(RateLimited("x", 1_000_000 - 5), 1, clock.now_ms()) == 0.0
    assert policy.delay_s(RateLimited("x", 1_000_000 + 10**9), 1, clock.now_ms()) == 30.0
    assert policy.delay_s(ExchangeUnavailable("x"), 7, clock.now_ms()) == 30.0
