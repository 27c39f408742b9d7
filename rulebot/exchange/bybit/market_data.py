"""Bybit V5 candles over REST: pybit's ``HTTP.get_kline``, paged backwards, parsed into typed rows.

The venue's words stay here: intervals ``1 … 720 D W M``, the ``[start, open, high, low,
close, volume, turnover]`` string rows (newest first), retCodes. Numbers are kept as the
decimal strings Bybit sent, so a file written from them holds exactly what the venue said.

Exceptions are mapped at this boundary (nothing above sees pybit or ``requests``)::

    requests ConnectionError / Timeout (pybit re-raises them)  -> ExchangeUnavailable
    pybit FailedRequestError, HTTP 403 / 408 / 429 / 5xx        -> ExchangeUnavailable
        pybit's own retries exhausted ("Retries exceeded")     -> ExchangeUnavailable
        any other HTTP status (404: wrong endpoint), not JSON  -> ExchangeError
    pybit InvalidRequestError (HTTP 200, retCode != 0)
        10006 "Too many visits"                                -> RateLimited (an ExchangeUnavailable)
        10000, 10016, 10018, 10429 (timeout, server error...)  -> ExchangeUnavailable
        10001 naming the symbol                                -> UnknownSymbol (an OrderRejected)
        any other retCode                                      -> OrderRejected(ret_code, ret_msg)
    a reply that is not Bybit's kline shape                    -> WireFormatError

Only ``ExchangeUnavailable`` is retried, a bounded number of times with exponential backoff;
after a rate limit the wait is until Bybit's ``X-Bapi-Limit-Reset-Timestamp``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

import requests
from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP

from rulebot.exchange.bybit.parse import KLINE_INTERVALS
from rulebot.exchange.errors import ExchangeError, ExchangeUnavailable, OrderRejected, WireFormatError
from rulebot.model.clock import Clock, LiveClock
from rulebot.model.enums import Category

MAINNET_REST_URL = "https://api.bybit.com"
TESTNET_REST_URL = "https://api-testnet.bybit.com"
MAX_KLINE_LIMIT = 1000
"""Bybit returns at most this many candles per ``/v5/market/kline`` call."""

BYBIT_INTERVALS: Mapping[str, str] = {timeframe: code for code, timeframe in KLINE_INTERVALS.items()}
"""Timeframe (``1m`` … ``1M``) -> Bybit's kline interval (``1`` … ``M``)."""

RATE_LIMIT_CODE = 10006
_TEMPORARY_CODES = frozenset({10000, 10016, 10018, 10429})  # server timeout, server error, IP limit, protection
_TEMPORARY_HTTP = frozenset({403, 408, 429})  # 403 is Bybit's IP rate limit (NOTES §1)
# pybit restores its default retry codes when given an empty set, and would then sleep on a
# 10006 itself; a code Bybit never sends keeps every retry decision here (NOTES §3).
_NO_PYBIT_RETRIES = frozenset({-1})
_MINUTE_MS = 60_000
_DAY_MS = 86_400_000
_WEEK_MS = 7 * _DAY_MS
_FIRST_MONDAY_MS = 4 * _DAY_MS  # 1970-01-05: weekly bars open on Mondays at 00:00 UTC
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_T = TypeVar("_T")


class UnknownSymbol(OrderRejected):
    """Bybit does not know the symbol in this category (retCode 10001 naming the symbol)."""


class RateLimited(ExchangeUnavailable):
    """Bybit's rate limit was hit (retCode 10006); ``reset_ms`` is when its window resets, if told."""

    def __init__(self, message: str, reset_ms: int | None) -> None:
        super().__init__(message)
        self.reset_ms = reset_ms


@dataclass(frozen=True, slots=True)
class KlineRow:
    """One candle as Bybit sent it: ``start_ms`` is its open time, the numbers are its strings."""

    start_ms: int
    open: str
    high: str
    low: str
    close: str
    volume: str


@dataclass(frozen=True, slots=True)
class KlinePage:
    """The candles of one call for the bars opening in [``lo_ms``, ``hi_ms``], ascending."""

    lo_ms: int
    hi_ms: int
    rows: tuple[KlineRow, ...]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before asking again after a temporary failure."""

    attempts: int = 5
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0

    def delay_s(self, error: ExchangeUnavailable, failures: int, now_ms: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (1-based)."""
        if isinstance(error, RateLimited) and error.reset_ms is not None:
            return min(self.max_delay_s, max(0.0, (error.reset_ms - now_ms) / 1000))
        return min(self.max_delay_s, self.first_delay_s * 2 ** (failures - 1))


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """A temporary failure about to be retried: the error, which attempt failed, the wait."""

    error: ExchangeUnavailable
    attempt: int
    attempts: int
    delay_s: float


class BarGrid:
    """Where Bybit's bars of one timeframe open: UTC epoch multiples, Mondays 00:00 for ``1w``,
    the first of the month 00:00 for ``1M``."""

    def __init__(self, timeframe: str) -> None:
        if timeframe not in BYBIT_INTERVALS:
            raise ValueError(f"unknown interval '{timeframe}' (known: {', '.join(BYBIT_INTERVALS)})")
        self.timeframe = timeframe
        code = BYBIT_INTERVALS[timeframe]
        self._offset = _FIRST_MONDAY_MS if code == "W" else 0
        self.step_ms: int | None
        if code == "M":
            self.step_ms = None  # months differ in length: calendar arithmetic
        elif code == "W":
            self.step_ms = _WEEK_MS
        elif code == "D":
            self.step_ms = _DAY_MS
        else:
            self.step_ms = int(code) * _MINUTE_MS

    def floor(self, ts_ms: int) -> int:
        """Open time of the bar holding ``ts_ms``."""
        if self.step_ms is None:
            t = datetime.fromtimestamp(ts_ms / 1000, UTC)
            return _month_ms(t.year * 12 + t.month - 1)
        return ts_ms - (ts_ms - self._offset) % self.step_ms

    def shift(self, start_ms: int, bars: int) -> int:
        """Open time of the bar ``bars`` bars after (negative: before) the bar opening at ``start_ms``."""
        if self.step_ms is None:
            t = datetime.fromtimestamp(start_ms / 1000, UTC)
            return _month_ms(t.year * 12 + t.month - 1 + bars)
        return start_ms + bars * self.step_ms

    def on_grid(self, ts_ms: int) -> bool:
        """Whether a bar opens at ``ts_ms``."""
        return self.floor(ts_ms) == ts_ms

    def count(self, lo_ms: int, hi_ms: int) -> int:
        """How many bars open in [``lo_ms``, ``hi_ms``]."""
        first = lo_ms if self.on_grid(lo_ms) else self.shift(self.floor(lo_ms), 1)
        last = self.floor(hi_ms)
        if first > last:
            return 0
        if self.step_ms is None:
            a = datetime.fromtimestamp(first / 1000, UTC)
            b = datetime.fromtimestamp(last / 1000, UTC)
            return (b.year - a.year) * 12 + b.month - a.month + 1
        return (last - first) // self.step_ms + 1

    def last_closed(self, now_ms: int) -> int:
        """Open time of the newest bar that has closed at ``now_ms`` (the one holding it is still forming)."""
        return self.shift(self.floor(now_ms), -1)


def _month_ms(month_index: int) -> int:
    year, month = divmod(month_index, 12)
    return int(datetime(year, month + 1, 1, tzinfo=UTC).timestamp() * 1000)


def rest_url(*, testnet: bool, override: str | None = None) -> str:
    """The base REST URL: ``override`` when given (loopback for tests and the sim), else Bybit's.

    Raises ValueError when ``override`` is not an ``http(s)://host[:port]`` URL.
    """
    if not override:
        return TESTNET_REST_URL if testnet else MAINNET_REST_URL
    parts = urlsplit(override)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"endpoint '{override}' is not a base URL like 'https://api.bybit.com'")
    return override.rstrip("/")


def kline_http(base_url: str, *, timeout_s: float = 10.0) -> HTTP:
    """A pybit ``HTTP`` session for public market data at ``base_url``, with its retries off
    (``fetch_klines`` decides about retries). Close it with :func:`close_http`."""
    http = HTTP(timeout=timeout_s, retry_codes=set(_NO_PYBIT_RETRIES))
    # pybit joins `endpoint` and the path at call time (NOTES §14): the URL is configuration.
    http.endpoint = base_url
    return http


def close_http(http: HTTP) -> None:
    """Close the pooled connections of a pybit ``HTTP`` session."""
    http.client.close()


@contextmanager
def kline_session(base_url: str, *, timeout_s: float = 10.0) -> Iterator[HTTP]:
    """:func:`kline_http` for a ``with`` block, closed at its end."""
    http = kline_http(base_url, timeout_s=timeout_s)
    try:
        yield http
    finally:
        close_http(http)


def fetch_klines(
    category: Category,
    symbol: str,
    timeframe: str,
    start_ms: int,
    end_ms: int,
    *,
    http: HTTP,
    clock: Clock | None = None,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[RetryNotice], None] | None = None,
    limit: int = MAX_KLINE_LIMIT,
) -> Iterator[KlinePage]:
    """The candles opening in [``start_ms``, ``end_ms``], one page per call, newest page first.

    Each call asks for a window of at most ``limit`` bars, so every candle of the window
    comes back whichever end Bybit starts from; the next window ends just before this one.
    Paging stops at ``start_ms`` or at the first empty page: no candle that early (before
    the listing), or a hole longer than a whole window, which Bybit's history does not have.
    Raises the ``ExchangeError`` of the module docstring.
    """
    if not 1 <= limit <= MAX_KLINE_LIMIT:
        raise ValueError(f"limit must be within 1..{MAX_KLINE_LIMIT}, not {limit}")
    grid = BarGrid(timeframe)
    now = clock or LiveClock()
    hi = grid.floor(end_ms)
    while hi >= start_ms:
        lo = max(start_ms, grid.shift(hi, 1 - limit))
        page = _with_retries(
            partial(get_kline_page, http, category, symbol, timeframe, lo, hi, limit=limit),
            retry,
            now,
            sleep,
            on_retry,
        )
        yield page
        if not page.rows:
            return
        hi = grid.floor(lo - 1)


def get_kline_page(
    http: HTTP, category: Category, symbol: str, timeframe: str, lo_ms: int, hi_ms: int, *, limit: int
) -> KlinePage:
    """One ``get_kline`` call for the bars opening in [``lo_ms``, ``hi_ms``], without retries."""
    with _mapped_errors(http.endpoint):
        reply = http.get_kline(
            category=category.value,
            symbol=symbol,
            interval=BYBIT_INTERVALS[timeframe],
            start=lo_ms,
            end=hi_ms,
            limit=limit,
        )
    return KlinePage(lo_ms, hi_ms, parse_kline_reply(reply, lo_ms, hi_ms))


def parse_kline_reply(reply: object, lo_ms: int, hi_ms: int) -> tuple[KlineRow, ...]:
    """The candles of a ``/v5/market/kline`` reply opening in [``lo_ms``, ``hi_ms``], ascending.

    Rows must be string arrays ``[start, open, high, low, close, volume, turnover]``, newest
    first, each start once; anything else raises ``WireFormatError`` naming the field.
    """
    if not isinstance(reply, dict):
        raise WireFormatError("reply", "not a JSON object")
    result = reply.get("result")
    if not isinstance(result, dict):
        raise WireFormatError("result", "missing or not an object")
    items = result.get("list")
    if not isinstance(items, list):
        raise WireFormatError("result.list", "missing or not a list")
    rows: list[KlineRow] = []
    for i, item in enumerate(items):
        path = f"result.list[{i}]"
        if not isinstance(item, list) or len(item) < 6:
            raise WireFormatError(path, "not a list of at least 6 strings")
        for j, cell in enumerate(item[:6]):
            if not isinstance(cell, str) or not (_DIGITS if j == 0 else _DECIMAL).fullmatch(cell):
                raise WireFormatError(f"{path}[{j}]", f"not a decimal string: {cell!r}")
        start = int(item[0])
        if rows and start >= rows[-1].start_ms:
            raise WireFormatError(f"{path}[0]", "candles are not newest first, each start once")
        rows.append(KlineRow(start, item[1], item[2], item[3], item[4], item[5]))
    return tuple(row for row in reversed(rows) if lo_ms <= row.start_ms <= hi_ms)


def _with_retries(
    call: Callable[[], _T],
    policy: RetryPolicy,
    clock: Clock,
    sleep: Callable[[float], None],
    on_retry: Callable[[RetryNotice], None] | None,
) -> _T:
    failures = 0
    while True:
        try:
            return call()
        except ExchangeUnavailable as error:
            failures += 1
            if failures >= policy.attempts:
                raise ExchangeUnavailable(f"{error} (gave up after {failures} attempts)") from error
            delay = policy.delay_s(error, failures, clock.now_ms())
            if on_retry is not None:
                on_retry(RetryNotice(error, failures, policy.attempts, delay))
            sleep(delay)


@contextmanager
def _mapped_errors(base_url: str) -> Iterator[None]:
    """Turns what pybit (and the ``requests`` under it) raises into ``rulebot.exchange.errors``."""
    try:
        yield
    except InvalidRequestError as e:
        raise map_ret_code(int(e.status_code), str(e.message), e.resp_headers) from e
    except FailedRequestError as e:
        raise map_http_failure(int(e.status_code), str(e.message), base_url) from e
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
        raise ExchangeUnavailable(f"could not reach {base_url}: {_reason(e)}") from e
    except requests.exceptions.ChunkedEncodingError as e:
        raise ExchangeUnavailable(f"the reply from {base_url} was cut off") from e
    except requests.exceptions.RequestException as e:
        raise ExchangeError(f"cannot send a request to {base_url}: {e}") from e


def map_ret_code(ret_code: int, ret_msg: str, headers: Mapping[str, str] | None) -> ExchangeError:
    """The error for a reply with a non-zero retCode (HTTP 200)."""
    if ret_code == RATE_LIMIT_CODE:
        reset = (headers or {}).get("X-Bapi-Limit-Reset-Timestamp")
        reset_ms = int(reset) if reset is not None and reset.isdigit() else None
        return RateLimited(f"Bybit rate limit: retCode {ret_code}: {ret_msg}", reset_ms)
    if ret_code in _TEMPORARY_CODES:
        return ExchangeUnavailable(f"Bybit is busy: retCode {ret_code}: {ret_msg}")
    if ret_code == 10001 and "symbol" in ret_msg.lower():
        return UnknownSymbol(ret_code, ret_msg)
    return OrderRejected(ret_code, ret_msg)


def map_http_failure(status: int, message: str, base_url: str) -> ExchangeError:
    """The error for pybit's ``FailedRequestError``: a non-200 status, or pybit's own failures."""
    if "Retries exceeded" in message:
        return ExchangeUnavailable(f"{base_url} kept asking to retry; pybit gave up")
    if status in _TEMPORARY_HTTP or 500 <= status <= 599:
        return ExchangeUnavailable(f"{base_url} answered HTTP {status}")
    if "decode JSON" in message:
        return ExchangeError(f"{base_url} did not answer with JSON: is it a Bybit REST endpoint?")
    return ExchangeError(f"{base_url} answered HTTP {status}: is it a Bybit REST endpoint?")


def _reason(error: requests.exceptions.RequestException) -> str:
    # requests wraps urllib3's MaxRetryError (its `reason` is the socket-level cause) or
    # ProtocolError("Connection aborted.", cause): say the cause
    inner: object = error.args[0] if error.args else error
    inner = getattr(inner, "reason", inner)
    if isinstance(inner, BaseException) and len(inner.args) == 2 and isinstance(inner.args[1], BaseException):
        inner = inner.args[1]
    return str(inner)
