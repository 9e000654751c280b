"""The bridge's Odoo API key: its expiry, the warning ahead of it, and a key that dies.

`KeyWatch` reads the key's expiry at start and then every `erp.key_check_interval_s` on
a connection of its own (connector.erp.apikeys), logs a warning once a day from
`erp.key_expiry_warn_days` before it, keeps what it learnt in the state file (so
`stock-bridge status` shows it without asking Odoo), and feeds `/v1/health`.

When Odoo refuses the credentials while the bridge runs (the key expired or was revoked),
`guard(deps)` turns the flood that would follow into ONE error line: the change feed
stays quiet (no call to Odoo) and is retried every `PROBE_S`, reads raise at once without
a call, and `/v1/health` says "unhealthy" (HTTP 503) until Odoo accepts a call again.
Nothing but a new key fixes it, so the bridge does not hammer Odoo meanwhile.

Usage::

    watch = KeyWatch(config, store)
    deps = watch.guard(deps); watch.start()        # Bridge.start
    watch.report(); watch.refused                  # Health.snapshot
    stored_key_report(store)                       # stock-bridge status
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connector.config import BridgeConfig
from connector.erp.apikeys import KeyInfo, read_key_info
from connector.erp.errors import AuthenticationError, ErpError
from connector.erp.transport import REFUSED_HINT
from connector.sync.engine import EngineDeps

log = logging.getLogger("connector.erp.key")

STATE_NAME = "erp_key"      # its row in the state file's cursor table (a JSON document)
PROBE_S = 60.0              # while refused: one real call a minute, the rest stay quiet
WARN_EVERY_S = 86400.0      # the expiry warning is logged at most once a day
UNHEALTHY = "unhealthy"


def _now() -> datetime:
    return datetime.now(UTC)


def refused_line(config: BridgeConfig, since: datetime, info: KeyInfo | None,
                 running: bool = False) -> str:
    """The one line a refused key gets, with the expiry the bridge last saw if any."""
    erp = config.erp
    seen = ""
    if info is not None and info.expires_at is not None:
        verb = "expired" if info.expires_at <= since else "was to expire"
        seen = f" (the bridge last saw its API key {info.key_name!r}: it {verb} " \
               f"{info.expires_at.strftime('%Y-%m-%d %H:%M UTC')})"
    then = " and restart the bridge" if running else ""
    return (f"Odoo refused login {erp.username!r} on database {erp.database!r}{seen}: "
            f"{REFUSED_HINT}{then}")


class KeyWatch:
    """See the module docstring. Thread-safe; `clock` and `connect` are for tests."""

    def __init__(self, config: BridgeConfig, store: Any = None, *,
                 clock: Callable[[], datetime] = _now,
                 connect: Callable[[], Any] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._connect = connect or self._default_connect
        self._lock = threading.Lock()
        self.info: KeyInfo | None = stored_key_info(store)
        self.refused_since: datetime | None = None
        # "login": a fresh login was refused (real Odoo may still accept calls on the key
        # it has cached in res.users.check until its cache is cleared); "call": a call was.
        self._refusal: str | None = None
        self._last_probe = 0.0
        self._last_warning = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the expiry ------------------------------------------------------------------------

    def _default_connect(self) -> Any:
        from connector.erp.client import connect
        from connector.erp.transport import RetryPolicy

        return connect(self.config.erp, retry=RetryPolicy(attempts=2))

    def check(self) -> KeyInfo | None:
        """Log in on a fresh connection, read the key's expiry, remember and warn.

        A refused login marks the key dead (the one error line); an unreachable ERP leaves
        everything as it was (the engine's health says so)."""
        try:
            client = self._connect()
        except AuthenticationError:
            self.refused("login")
            return None
        except ErpError as exc:
            log.debug("key check skipped: %s", exc)
            return None
        try:
            info = read_key_info(client, getattr(client, "uid", None), self.config.erp.secret(),
                                 self.clock())
        finally:
            client.close()
        with self._lock:
            self.info = info
        self.accepted(any_refusal=True)
        self._save()
        self.warn_if_due()
        return info

    def warning(self) -> str | None:
        """The warning line when the key expires within `erp.key_expiry_warn_days`."""
        info = self.info
        if info is None or info.expires_at is None:
            return None
        now = self.clock()
        left = info.days_left(now)
        if left is None or left > self.config.erp.key_expiry_warn_days:
            return None
        return (f"{info.describe(now)}: make a new key as Odoo user {self.config.erp.username!r}"
                " (Preferences › Account Security › New API Key, at most 90 days), set it as "
                "STOCK_BRIDGE_ERP_PASSWORD and restart the bridge before then")

    def warn_if_due(self) -> None:
        line = self.warning()
        if line is None:
            return
        with self._lock:
            due = time.monotonic() - self._last_warning >= WARN_EVERY_S or not self._last_warning
            if due:
                self._last_warning = time.monotonic()
        if due:
            log.warning("%s", line)

    # -- a refused key ---------------------------------------------------------------------

    @property
    def refused_at(self) -> datetime | None:
        with self._lock:
            return self.refused_since

    def refused(self, kind: str = "call") -> None:
        """Odoo refused the credentials: one error line the first time, then quiet."""
        with self._lock:
            first = self.refused_since is None
            if first:
                self.refused_since = self.clock()
            if self._refusal != "call":
                self._refusal = kind
            self._last_probe = time.monotonic()
            since, info = self.refused_since, self.info
        if first:
            assert since is not None
            log.error("%s", refused_line(self.config, since, info, running=True))
            self._save()

    def accepted(self, any_refusal: bool = False) -> None:
        """Odoo accepted a call (clears a refused call) or a fresh login (clears both)."""
        with self._lock:
            if self._refusal is None or (self._refusal == "login" and not any_refusal):
                return
            was = self.refused_since
            self.refused_since, self._refusal = None, None
        if was is not None:
            log.warning("Odoo accepts the bridge's credentials again")
            self._save()

    def _quiet(self) -> bool:
        """Refused and not yet time for the next real probe."""
        with self._lock:
            if self._refusal != "call":
                return False
            if time.monotonic() - self._last_probe >= PROBE_S:
                self._last_probe = time.monotonic()
                return False
            return True

    def guard(self, deps: EngineDeps) -> EngineDeps:
        """The same collaborators, with the ERP-facing ones watched for a refused key."""
        feed = _Guarded(deps.feed, self, quiet_reads=True) if deps.feed is not None else None
        sink = _Guarded(deps.status_sink, self) if deps.status_sink is not None else None
        return dataclasses.replace(deps, source=_Guarded(deps.source, self), feed=feed,
                                   status_sink=sink)

    # -- reports ---------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """The `erp_key` part of /v1/health and of `status`."""
        with self._lock:
            info, since = self.info, self.refused_since
        return key_report(info, since, self.warning(), self.clock())

    def _save(self) -> None:
        store = self.store
        if store is None or getattr(store, "read_only", False):
            return
        with self._lock:
            doc: dict[str, Any] = self.info.to_dict() if self.info is not None else {"known": False}
            doc["refused_since"] = self.refused_since.isoformat() if self.refused_since else None
        try:
            store.set_cursor(STATE_NAME, doc)
        except Exception as exc:  # the state file is closing: the next check saves it
            log.debug("could not store the key's expiry: %s", exc)

    # -- the periodic check ----------------------------------------------------------------

    def start(self) -> None:
        """Check now, then every `erp.key_check_interval_s` on a daemon thread."""
        self.check()
        self._thread = threading.Thread(target=self._loop, name="erp-key-watch", daemon=True)
        self._thread.start()

    def next_check_s(self) -> float:
        """Seconds to the next check: the interval, or just after the known expiry (real
        Odoo may go on accepting calls with a key it has cached, but refuses a fresh login
        at once), or, while refused, a minute: a cheap login that notices a fix on the
        Odoo side (a password set back, an expiry moved) without a restart."""
        if self.refused_at is not None:
            return PROBE_S
        wait = self.config.erp.key_check_interval_s
        info = self.info
        if info is not None and info.expires_at is not None:
            until = (info.expires_at - self.clock()).total_seconds()
            if until > 0:
                wait = min(wait, until + 5.0)
        return wait

    def _loop(self) -> None:
        while not self._stop.wait(self.next_check_s()):
            try:
                self.check()
            except Exception as exc:  # a check must never end the thread
                log.debug("key check failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


class _Guarded:
    """Delegates to `target`; an AuthenticationError marks the key refused. While refused,
    `read` of a change feed answers "nothing new" without calling Odoo (`quiet_reads`),
    other calls raise at once; one real call per PROBE_S finds out whether Odoo accepts
    the credentials again."""

    def __init__(self, target: Any, watch: KeyWatch, quiet_reads: bool = False) -> None:
        self._target = target
        self._watch = watch
        self._quiet_reads = quiet_reads

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        watch = self._watch
        quiet_read = self._quiet_reads and name == "read"

        def call(*args: Any, **kwargs: Any) -> Any:
            if watch._quiet():
                if quiet_read:
                    return {}, args[0] if args else kwargs.get("after")
                raise AuthenticationError("Odoo refuses the bridge's credentials (see the log)")
            try:
                result = value(*args, **kwargs)
            except AuthenticationError:
                watch.refused()
                if quiet_read:
                    return {}, args[0] if args else kwargs.get("after")
                raise
            if watch.refused_at is not None:
                watch.accepted()
            return result

        return call


def key_report(info: KeyInfo | None, refused_since: datetime | None, warning: str | None,
               now: datetime) -> dict[str, Any]:
    doc: dict[str, Any] = info.to_dict() if info is not None else {"known": False}
    doc["summary"] = info.describe(now) if info is not None else "API key expiry not checked yet"
    left = info.days_left(now) if info is not None else None
    doc["days_left"] = round(left, 1) if left is not None else None
    doc["warning"] = warning
    doc["refused_since"] = refused_since.isoformat() if refused_since else None
    return doc


def stored_key_info(store: Any) -> KeyInfo | None:
    """What the last running bridge learnt about its key, from the state file."""
    doc = _stored(store)
    return KeyInfo.from_dict(doc) if doc and "checked_at" in doc else None


def _stored(store: Any) -> dict[str, Any] | None:
    if store is None:
        return None
    try:
        doc = store.get_cursor(STATE_NAME)
    except Exception:  # an old or read-only file without it
        return None
    return doc if isinstance(doc, dict) else None


def stored_key_report(store: Any, warn_days: float, now: datetime | None = None) -> dict[str, Any] | None:
    """The `erp_key` part of `stock-bridge status` (None: never checked)."""
    doc = _stored(store)
    if doc is None:
        return None
    moment = now or _now()
    info = KeyInfo.from_dict(doc) if "checked_at" in doc else None
    since = doc.get("refused_since")
    left = info.days_left(moment) if info is not None else None
    warning = None
    if info is not None and left is not None and left <= warn_days:
        warning = f"{info.describe(moment)}: make a new key and restart the bridge before then"
    return key_report(info, datetime.fromisoformat(since) if isinstance(since, str) else None,
                      warning, moment)


def refused_at_start(config: BridgeConfig) -> str:
    """The one line for a login refused at start, with the expiry stored by the last run."""
    from connector.state.errors import StateError
    from connector.state.sqlite import StateStore

    info: KeyInfo | None = None
    try:
        store = StateStore.open(config.bridge.state_path, read_only=True)
    except (StateError, OSError):
        store = None
    if store is not None:
        try:
            info = stored_key_info(store)
        finally:
            store.close()
    return refused_line(config, _now(), info)
