"""The post-commit wake-up: POST the new outbox events to the bridge, HMAC-signed.

Body `{"events": [{"id", "product_id", "reason"}]}`, header `X-Signature-256:
sha256=<hex HMAC-SHA256(secret, raw body)>` (DESIGN.md). Posting happens on one background
thread in commit order with a short timeout; wake-ups that queued up while a POST was out
go together in the next one (up to MAX_EVENTS events), so a busy ERP never falls behind
its own commits by one request per commit; a failed wake-up is dropped: the outbox, not the
webhook, guarantees delivery. A target that is down is logged once when deliveries start
failing and once when they work again (with the count dropped meanwhile), never per wake-up
at WARNING, and never with the secret. Usage::

    notifier = WebhookNotifier("http://127.0.0.1:8765/v1/triggers", "s3cret")
    store.on_events = notifier
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import re
import threading
from typing import Any

import requests

log = logging.getLogger(__name__)
TIMEOUT_S = 2.0
MAX_EVENTS = 500  # per POST; the bridge's listener takes bodies up to 1 MiB


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    def __init__(self, url: str, secret: str | None, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url
        self._secret = secret
        self.timeout_s = timeout_s
        self._queue: queue.Queue[list[dict[str, Any]] | None] = queue.Queue()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="mock-erp-webhook", daemon=True)
        self._thread.start()
        self.sent = 0
        self.failed = 0
        self.dropped_while_down = 0  # wake-ups lost since deliveries started failing (0 while they work)
        self._down_since_error: str | None = None  # why the first failure of the current outage failed

    def __repr__(self) -> str:
        return f"WebhookNotifier(url={self.url!r}, secret=***)"

    def __call__(self, events: list[dict[str, Any]]) -> None:
        self._queue.put(list(events))

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait (bounded) until every queued wake-up was attempted; True when drained."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout_s)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=self.timeout_s + 1)
        self._session.close()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while batch[-1] is not None and sum(len(b or ()) for b in batch) < MAX_EVENTS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            wakeups = [item for item in batch if item]
            events = [event for item in wakeups for event in item]
            try:
                if events:
                    self._post(json.dumps({"events": events}, separators=(",", ":")).encode(), len(wakeups))
            finally:
                for _ in batch:
                    self._queue.task_done()
            if batch[-1] is None:
                return

    def _post(self, body: bytes, wakeups: int = 1) -> None:
        """POST one body carrying `wakeups` commits' wake-ups; counters count wake-ups."""
        headers = {"Content-Type": "application/json"}
        if self._secret:
            headers["X-Signature-256"] = sign(self._secret, body)
        try:
            response = self._session.post(self.url, data=body, headers=headers, timeout=self.timeout_s)
        except requests.RequestException as exc:
            error = f"unreachable: {_describe(exc)}"
        else:
            if response.status_code < 400:
                self._delivered(wakeups)
                return
            error = f"answered HTTP {response.status_code}"
        for _ in range(wakeups):
            self._failed(error)

    def _failed(self, error: str) -> None:
        """`error` completes "webhook target <url> ...": "unreachable: <why>" or "answered HTTP <code>"."""
        self.failed += 1
        self.dropped_while_down += 1
        if self._down_since_error is None:
            self._down_since_error = error
            log.warning("webhook target %s %s; wake-ups are not delivered, the outbox keeps every event",
                        self.url, error)
        else:
            log.debug("webhook target %s %s; wake-up dropped", self.url, error)

    def _delivered(self, wakeups: int = 1) -> None:
        self.sent += wakeups
        if self._down_since_error is not None:
            log.info("webhook target %s takes wake-ups again; %d wake-up(s) were dropped meanwhile "
                     "(the outbox kept their events)", self.url, self.dropped_while_down)
            self._down_since_error = None
        self.dropped_while_down = 0


def _describe(exc: requests.RequestException) -> str:
    """The exception's class and, when there is one, the OS reason ("Connection refused").

    Not str(exc): requests repeats the whole URL and pool state in it. Never the headers,
    so never the signature.
    """
    reason = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return f"{type(exc).__name__} ({reason.group(1).strip()})" if reason else type(exc).__name__
