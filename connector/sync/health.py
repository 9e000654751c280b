"""What `GET /v1/health` says: starting → ready, or degraded with the reasons.

- `starting` until the first full sync has finished (the numbers on the marketplaces may
  still be old), HTTP 503 so that a load balancer or an orchestrator waits;
- `ready` once it has, HTTP 200;
- `degraded` (HTTP 200: the bridge still serves what it can) while the ERP is unreachable
  (its last read failed and none succeeded since) or a channel's credentials were refused
  (its last push failed with an auth error and none succeeded since);
- `unhealthy` (HTTP 503) while Odoo refuses the bridge's own credentials (an expired or
  revoked API key: connector.sync.key_expiry); `warnings` names a key expiring soon.

The ERP side is watched by wrapping the engine's stock source and change feed (`watch`):
the feed is read every poll interval, so an ERP outage shows within seconds. Channels are
watched through the engine's outcome listener (`on_outcome`).

Usage::

    health = Health(); deps = health.watch(deps); engine.add_listener(health.on_outcome)
    health.snapshot(ready=True) == {"status": "ready", "reasons": [], ...}
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from connector.sync.engine import EngineDeps
from connector.state.rows import PushRecord

STARTING, READY, DEGRADED, UNHEALTHY = "starting", "ready", "degraded", "unhealthy"
_AUTH = "auth"


class _Watched:
    """Delegates to `target`; every method call reports success or failure to `health`."""

    def __init__(self, target: Any, health: Health) -> None:
        self._target = target
        self._health = health

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = value(*args, **kwargs)
            except Exception as exc:
                self._health.erp_failed(exc)
                raise
            self._health.erp_ok()
            return result

        return call


class Health:
    """Thread-safe memory of the last ERP and channel problems."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._erp_error: tuple[str, float] | None = None
        self._auth_errors: dict[str, tuple[str, float]] = {}
        # connector.sync.key_expiry.KeyWatch: the API key's expiry, a refused key
        self.key_watch: Any = None

    def watch(self, deps: EngineDeps) -> EngineDeps:
        """The same collaborators, with the ERP-facing ones (source, feed) watched."""
        feed = _Watched(deps.feed, self) if deps.feed is not None else None
        return dataclasses.replace(deps, source=_Watched(deps.source, self), feed=feed)

    def erp_failed(self, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"[:300]
        with self._lock:
            since = self._erp_error[1] if self._erp_error else self._clock()
            self._erp_error = (text, since)

    def erp_ok(self) -> None:
        with self._lock:
            self._erp_error = None

    def on_outcome(self, outcome: PushRecord) -> None:
        code = outcome.meta.channel_code
        with self._lock:
            if outcome.error_category == _AUTH:
                since = self._auth_errors.get(code, ("", self._clock()))[1]
                self._auth_errors[code] = (outcome.message[:300], since)
            elif outcome.result == "ok":
                self._auth_errors.pop(code, None)

    def snapshot(self, ready: bool) -> dict[str, Any]:
        """The health document: status, reasons (one line each), and their details."""
        with self._lock:
            erp = self._erp_error
            auth = dict(self._auth_errors)
        reasons: list[str] = []
        if erp is not None:
            reasons.append(f"ERP unreachable: {erp[0]}")
        for code, (message, _since) in sorted(auth.items()):
            reasons.append(f"channel {code}: credentials refused: {message}")
        status = STARTING if not ready else (DEGRADED if reasons else READY)
        doc: dict[str, Any] = {
            "status": status,
            "reasons": reasons,
            "erp": {"reachable": erp is None, "since": erp[1] if erp else None},
            "channels_auth_failed": sorted(auth),
            "warnings": [],
        }
        if self.key_watch is not None:
            key = self.key_watch.report()
            doc["erp_key"] = key
            if key["refused_since"]:
                # Nothing but a new key helps: unhealthy (HTTP 503), whatever else holds.
                doc["status"] = UNHEALTHY
                reasons.insert(0, f"ERP refuses the bridge's credentials since {key['refused_since']}"
                                  ": make a new API key and restart the bridge")
            elif key["warning"]:
                doc["warnings"].append(key["warning"])
        return doc
