"""A test double of ONE Bybit endpoint, ``GET /v5/market/kline``, on 127.0.0.1 (port 0).

This is not the local Bybit simulator (``rulebot sim``, the next issue): it only serves
candles, so that the real pybit ``HTTP`` client can download them over a real socket in the
tests of ``rulebot data fetch``. It serves real 1-minute candles (the Bybit file in
``../shared/data/klines``) exactly in Bybit's V5 shape: the envelope ``{retCode, retMsg,
result: {symbol, category, list}, retExtInfo, time}``, rows as string arrays ``[start, open,
high, low, close, volume, turnover]`` newest first, ``start``/``end`` inclusive on the bar's
open time, the newest ``limit`` (1..1000, default 200) rows of the window, business errors
with HTTP 200. The source file has no turnover, so turnover is close × volume.

Faults are queued per request with :meth:`KlineServer.fail_next`: a 10006 rate limit with
a reset time in the future (pybit sleeps until it and fails on a past one, NOTES §3), an
HTTP 502, a connection closed without an answer. Every kline request's query is recorded.
"""

from __future__ import annotations

import bisect
import csv
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SOURCE_CSV = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "klines"
    / "bybit_linear_BTCUSDT_1m_2025-05-29_2025-06-29.csv"
)
KLINE_PATH = "/v5/market/kline"


@dataclass(frozen=True, slots=True)
class Candle:
    """One source row, strings as in the file."""

    start_ms: int
    open: str
    high: str
    low: str
    close: str
    volume: str

    def wire(self) -> list[str]:
        turnover = Decimal(self.close) * Decimal(self.volume)
        return [str(self.start_ms), self.open, self.high, self.low, self.close, self.volume, str(turnover)]


class Fault(str, Enum):
    """What the server can do instead of answering one request."""

    RATE_LIMIT = "rate_limit"  # HTTP 200, retCode 10006, X-Bapi-Limit-Reset-Timestamp in the future
    BAD_GATEWAY = "bad_gateway"  # HTTP 502 with an HTML body, as a proxy in front of Bybit sends
    DROP = "drop"  # the connection is closed without a reply


def load_candles(path: Path = SOURCE_CSV) -> tuple[Candle, ...]:
    """The rows of a ``timestamp,open,high,low,close,volume`` file, as strings."""
    with path.open(newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return tuple(Candle(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in reader)


class KlineServer:
    """Serves ``candles`` as ``category``/``symbol`` at interval ``interval`` (Bybit's spelling)."""

    def __init__(
        self,
        candles: tuple[Candle, ...],
        *,
        category: str = "linear",
        symbol: str = "BTCUSDT",
        interval: str = "1",
        reset_after_ms: int = 20,
    ) -> None:
        self.candles = candles
        self.starts = [c.start_ms for c in candles]
        self.category, self.symbol, self.interval = category, symbol, interval
        self.reset_after_ms = reset_after_ms
        self.requests: list[dict[str, str]] = []
        self._faults: deque[Fault | None] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # a short poll so that shutdown() returns at once rather than after serve_forever's 0.5 s
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="kline-server", daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> KlineServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def fail_next(self, fault: Fault, times: int = 1, *, after: int = 0) -> None:
        """Answer ``after`` more kline requests normally, then the next ``times`` with ``fault``."""
        with self._lock:
            self._faults.extend([None] * after + [fault] * times)

    def served(self) -> list[dict[str, str]]:
        """A copy of the queries of the kline requests received so far."""
        with self._lock:
            return list(self.requests)

    def next_fault(self, query: dict[str, str]) -> Fault | None:
        with self._lock:
            self.requests.append(query)
            return self._faults.popleft() if self._faults else None

    def answer(self, query: dict[str, str]) -> dict[str, object]:
        """The V5 reply to a kline query (retCode errors included)."""
        if query.get("category", "linear") != self.category or query.get("symbol") != self.symbol:
            return _envelope(10001, "params error: symbol invalid", {})
        if query.get("interval") != self.interval:
            return _envelope(10001, "params error: interval invalid", {})
        try:
            limit = int(query.get("limit", "200"))
            start = int(query["start"]) if "start" in query else None
            end = int(query["end"]) if "end" in query else None
        except ValueError:
            return _envelope(10001, "params error: not a number", {})
        if not 1 <= limit <= 1000:
            return _envelope(10001, "params error: limit must be within [1, 1000]", {})
        lo = 0 if start is None else bisect.bisect_left(self.starts, start)
        hi = len(self.starts) if end is None else bisect.bisect_right(self.starts, end)
        chosen = self.candles[max(lo, hi - limit) : hi]
        rows = [c.wire() for c in reversed(chosen)]
        return _envelope(0, "OK", {"symbol": self.symbol, "category": self.category, "list": rows})


def _envelope(code: int, msg: str, result: dict[str, object]) -> dict[str, object]:
    return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": time.time_ns() // 1_000_000}


def _handler_for(server: KlineServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's spelling)
            parts = urlsplit(self.path)
            if parts.path != KLINE_PATH:
                self._send(404, b"404 page not found", "text/plain")
                return
            query = dict(parse_qsl(parts.query))
            fault = server.next_fault(query)
            if fault is Fault.DROP:
                self.close_connection = True
                return
            if fault is Fault.BAD_GATEWAY:
                self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                return
            if fault is Fault.RATE_LIMIT:
                now = time.time_ns() // 1_000_000
                body = _envelope(10006, "Too many visits!", {})
                self._send(200, json.dumps(body).encode(), "application/json", reset_ms=now + server.reset_after_ms)
                return
            self._send(200, json.dumps(server.answer(query)).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str, *, reset_ms: int | None = None) -> None:
            now = time.time_ns() // 1_000_000
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Bapi-Limit", "600")
            self.send_header("X-Bapi-Limit-Status", "0" if reset_ms else "599")
            self.send_header("X-Bapi-Limit-Reset-Timestamp", str(reset_ms or now))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read ``server.requests`` instead of a request log."""

    return Handler
