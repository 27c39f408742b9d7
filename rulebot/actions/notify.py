"""`notify`: messages to the log and to webhook URLs from the configuration.

Notifiers never block or raise into the engine: the webhook notifier hands each message to
its own worker thread through a bounded queue, and a failed POST is logged and forgotten.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.parse
from collections.abc import Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Notifier(Protocol):
    def notify(self, text: str) -> None:
        """Deliver ``text``; must return at once and never raise."""
        ...


class LogNotifier:
    """Writes each message to the ``rulebot.actions.notify`` logger at INFO."""

    def notify(self, text: str) -> None:
        log.info("notify text=%r", text)


class FanoutNotifier:
    """Gives each message to every notifier, in order."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self._notifiers = tuple(notifiers)

    def notify(self, text: str) -> None:
        for notifier in self._notifiers:
            notifier.notify(text)


def _site(url: str) -> str:
    # Webhook URLs carry their secret in the path (Slack, Discord): log only where they point.
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


_STOP = object()


class WebhookNotifier:
    """POSTs ``{"text": ...}`` as JSON to each URL from a worker thread.

    ``queue_size`` bounds the messages waiting; when it is full a message is dropped with a
    warning rather than holding up the engine. Call ``close`` to deliver what is queued and
    stop the thread.
    """

    def __init__(self, urls: Sequence[str], *, timeout_s: float = 5.0, queue_size: int = 100) -> None:
        for url in urls:
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"a webhook URL must start with http:// or https://, got {_site(url)!r}")
        self._urls = tuple(urls)
        self._timeout_s = timeout_s
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="rulebot-webhook", daemon=True)
        self._thread.start()

    def notify(self, text: str) -> None:
        try:
            self._queue.put_nowait(text)
        except queue.Full:
            log.warning("notify dropped reason=queue_full size=%d", self._queue.maxsize)

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver the queued messages (within ``timeout_s``) and stop the worker."""
        try:
            self._queue.put(_STOP, timeout=timeout_s)
        except queue.Full:
            log.warning("notify close reason=queue_full; pending messages are dropped")
            return
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            body = json.dumps({"text": item}).encode("utf-8")
            for url in self._urls:
                self._post(url, body)

    def _post(self, url: str, body: bytes) -> None:
        # imported by the worker: every engine (and every backtest) imports this module, few post
        import http.client
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as error:
            log.warning("notify failed url=%s status=%d", _site(url), error.code)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            log.warning("notify failed url=%s error=%s", _site(url), error)
