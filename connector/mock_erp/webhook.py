"""The post-commit wake-up: POST the new outbox events to the bridge, HMAC-signed.

Body `{"events": [{"id", "product_id", "reason"}]}`, header `X-Signature-256:
sha256=<hex HMAC-SHA256(secret, raw body)>` (DESIGN.md). Posting happens on one background
thread in commit order with a short timeout; a failure is logged (never the secret) and
dropped: the outbox, not the webhook, guarantees delivery. Usage::

    notifier = WebhookNotifier("http://127.0.0.1:8765/v1/triggers", "s3cret")
    store.on_events = notifier
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
from typing import Any

import requests

log = logging.getLogger(__name__)
TIMEOUT_S = 2.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    def __init__(self, url: str, secret: str | None, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url
        self._secret = secret
        self.timeout_s = timeout_s
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="mock-erp-webhook", daemon=True)
        self._thread.start()
        self.sent = 0
        self.failed = 0

    def __repr__(self) -> str:
        return f"WebhookNotifier(url={self.url!r}, secret=***)"

    def __call__(self, events: list[dict[str, Any]]) -> None:
        self._queue.put(json.dumps({"events": events}, separators=(",", ":")).encode())

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
            body = self._queue.get()
            try:
                if body is None:
                    return
                self._post(body)
            finally:
                self._queue.task_done()

    def _post(self, body: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        if self._secret:
            headers["X-Signature-256"] = sign(self._secret, body)
        try:
            response = self._session.post(self.url, data=body, headers=headers, timeout=self.timeout_s)
            if response.status_code >= 400:
                self.failed += 1
                log.warning("webhook %s answered HTTP %s", self.url, response.status_code)
            else:
                self.sent += 1
        except requests.RequestException as exc:
            self.failed += 1
            log.warning("webhook %s failed: %s", self.url, type(exc).__name__)
