"""Notifiers: the log, and webhooks POSTed from a worker thread to a local HTTP server."""

from __future__ import annotations

import http.server
import json
import logging
import queue
import socket
import threading
from collections.abc import Iterator

import pytest

from rulebot.actions import FanoutNotifier, LogNotifier, WebhookNotifier

Received = queue.Queue[tuple[str, str, dict[str, object]]]  # (path, content type, JSON body) of each POST


@pytest.fixture
def server() -> Iterator[tuple[str, Received]]:
    """A local server that records each POST and answers 500 on the path /fail."""
    received: Received = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((self.path, self.headers["Content-Type"], json.loads(body)))
            self.send_response(500 if self.path == "/fail" else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_webhook_posts_json_text_to_every_url(server: tuple[str, Received]) -> None:
    base, received = server
    notifier = WebhookNotifier([f"{base}/one", f"{base}/two"])
    notifier.notify("funding high: 0.06%")
    notifier.close()
    got = sorted(received.get(timeout=5) for _ in range(2))
    assert got == [
        ("/one", "application/json", {"text": "funding high: 0.06%"}),
        ("/two", "application/json", {"text": "funding high: 0.06%"}),
    ]


def test_failures_are_logged_not_raised_and_keep_the_secret_path_out(
    server: tuple[str, Received], caplog: pytest.LogCaptureFixture
) -> None:
    base, received = server
    dead = f"http://127.0.0.1:{closed_port()}/hooks/SECRET-TOKEN"
    notifier = WebhookNotifier([f"{base}/fail", dead, f"{base}/ok"], timeout_s=5)
    with caplog.at_level(logging.WARNING, logger="rulebot.actions.notify"):
        notifier.notify("hello")
        notifier.close()
    paths = sorted(received.get(timeout=5)[0] for _ in range(2))
    assert paths == ["/fail", "/ok"]  # a failing URL does not stop the next one
    messages = [r.getMessage() for r in caplog.records]
    assert any("status=500" in m for m in messages)
    assert any("notify failed url=http://127.0.0.1:" in m and "error=" in m for m in messages)
    assert not any("SECRET-TOKEN" in m for m in messages)


def test_a_full_queue_drops_with_a_warning_instead_of_blocking(caplog: pytest.LogCaptureFixture) -> None:
    gate = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            gate.wait(5)  # hold the worker so the queue fills up
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    notifier = WebhookNotifier([f"http://127.0.0.1:{httpd.server_address[1]}/"], queue_size=2)
    try:
        with caplog.at_level(logging.WARNING, logger="rulebot.actions.notify"):
            for i in range(10):  # returns at once even though the server is stuck
                notifier.notify(f"m{i}")
        assert any("reason=queue_full" in r.getMessage() for r in caplog.records)
    finally:
        gate.set()
        notifier.close()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_only_http_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        WebhookNotifier(["file:///etc/passwd"])


def test_log_and_fanout(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    class Collect:
        def notify(self, text: str) -> None:
            seen.append(text)

    with caplog.at_level(logging.INFO, logger="rulebot.actions.notify"):
        FanoutNotifier([LogNotifier(), Collect()]).notify("bought 0.01 BTC")
    assert seen == ["bought 0.01 BTC"]
    assert caplog.records[0].getMessage() == "notify text='bought 0.01 BTC'"
