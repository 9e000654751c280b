"""The bridge's Odoo API key: its expiry read as the bridge user may read it, the warning
ahead of it (log, /v1/health, `status`), and a key refused while running (one line, health
unhealthy, no retry storm). Against real Odoo 18: tests/odoo_real/test_key_expiry.py."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.config import load_config
from connector.erp.apikeys import KeyInfo, looks_like_api_key, read_key_info
from connector.erp.errors import AuthenticationError, MissingModelError
from connector.sync.engine import EngineDeps, EngineSettings
from connector.sync.key_expiry import KeyWatch, stored_key_report
from connector.sync.reports import render_status, status_report
from connector.sync.service import Bridge
from connector.state.sqlite import StateStore
from tests.sync.fakes import CHANNELS, FakeAdapter, FakeFeed, FakeSource, fake_compute
from tests.sync.test_remote_health import free_port, until
from tests.sync.test_service_cli import write_config

KEY = "0123456789abcdef0123456789abcdef01234567"  # Odoo's shape: 40 hex digits
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def odoo_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class KeyRows:
    """res.users.apikeys as Odoo's record rule shows it to the user: its own rows."""

    def __init__(self, rows: list[dict[str, Any]] | Exception) -> None:
        self.rows = rows
        self.calls: list[tuple[Any, ...]] = []
        self.uid = 7

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((model, method, *args))
        if isinstance(self.rows, Exception):
            raise self.rows
        return self.rows

    def close(self) -> None:
        pass


def row(name: str, expires: datetime | None, scope: Any = False) -> dict[str, Any]:
    return {"id": 1, "name": name, "scope": scope,
            "expiration_date": odoo_time(expires) if expires else False}


def test_one_key_gives_its_expiry_from_the_users_own_rows() -> None:
    client = KeyRows([row("stock-bridge", NOW + timedelta(days=90))])
    info = read_key_info(client, 7, KEY, NOW)
    assert info.known and info.keys == 1 and info.key_name == "stock-bridge"
    assert info.expires_at == NOW + timedelta(days=90)
    assert client.calls == [("res.users.apikeys", "search_read", [("user_id", "=", 7)],
                             ["name", "scope", "expiration_date"])]
    assert info.describe(NOW) == "API key 'stock-bridge' expires 2027-03-03 08:00 UTC (in 90 days)"


def test_several_keys_say_so_and_take_the_soonest_live_rpc_key() -> None:
    client = KeyRows([
        row("old", NOW - timedelta(hours=1)),                 # expired: not the key in use
        row("web-only", NOW + timedelta(days=1), scope="totp"),  # cannot log in over RPC
        row("later", NOW + timedelta(days=60)),
        row("sooner", NOW + timedelta(days=10)),
    ])
    info = read_key_info(client, 7, KEY, NOW)
    assert (info.keys, info.key_name, info.expires_at) == (2, "sooner", NOW + timedelta(days=10))
    text = info.describe(NOW)
    assert "one of the user's 2 API keys" in text and "which one" in text


def test_password_login_and_unreadable_keys_are_not_errors() -> None:
    assert not looks_like_api_key("bridge") and looks_like_api_key(KEY)
    client = KeyRows([])
    password = read_key_info(client, 7, "a-password", NOW)
    assert password.password and client.calls == []  # no read at all
    missing = read_key_info(KeyRows(MissingModelError("model res.users.apikeys is missing")), 7, KEY, NOW)
    assert not missing.known and "may" not in missing.describe(NOW)
    assert "expiry unknown" in missing.describe(NOW)
    persistent = read_key_info(KeyRows([row("admin-made", None)]), 7, KEY, NOW)
    assert persistent.never_expires and persistent.describe(NOW) == "API key never expires"


def watch_for(tmp: Path, info: KeyInfo | AuthenticationError, now: datetime = NOW,
              **erp: object) -> tuple[KeyWatch, StateStore]:
    path = write_config(tmp)
    extra = "".join(f"{k} = {v}\n" for k, v in erp.items())
    path.write_text(path.read_text().replace('password = "pw-never-shown"',
                                             f'password = "{KEY}"\n{extra}'))
    config = load_config(path)
    store = StateStore.open(config.bridge.state_path)

    def connect() -> Any:
        if isinstance(info, AuthenticationError):
            raise info
        expires = info.expires_at
        return KeyRows([row(info.key_name or "k", expires)])

    return KeyWatch(config, store, clock=lambda: now, connect=connect), store


@pytest.mark.parametrize(("days", "warned"), [(90, False), (15, False), (13.5, True), (0.5, True)])
def test_warning_from_fourteen_days_before_expiry(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                  days: float, warned: bool) -> None:
    expires = NOW + timedelta(days=days)
    watch, store = watch_for(tmp_path, KeyInfo(known=True, expires_at=expires, key_name="stock-bridge"))
    caplog.set_level(logging.WARNING, logger="connector.erp.key")
    try:
        watch.check()
        watch.check()  # the second check on the same day logs nothing new
        report = watch.report()
        assert (report["warning"] is not None) is warned
        assert report["days_left"] == round(days, 1)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == (1 if warned else 0)
        if warned:
            assert "stock-bridge" in warnings[0] and "make a new key" in warnings[0]
            assert KEY not in warnings[0]
        # `stock-bridge status` reads the same from the state file, without Odoo.
        stored = stored_key_report(store, 14.0, NOW)
        assert stored is not None and (stored["warning"] is not None) is warned
        text = render_status(status_report(store, now=NOW.timestamp()))
        assert ("WARNING API key 'stock-bridge' expires" in text) is warned
        assert "API key 'stock-bridge' expires" in text
    finally:
        store.close()


def test_warning_days_are_configurable(tmp_path: Path) -> None:
    expires = NOW + timedelta(days=20)
    watch, store = watch_for(tmp_path, KeyInfo(known=True, expires_at=expires, key_name="k"),
                             key_expiry_warn_days=30)
    try:
        watch.check()
        assert watch.report()["warning"] is not None
        assert stored_key_report(store, 30.0, NOW)["warning"] is not None  # type: ignore[index]
        assert stored_key_report(store, 14.0, NOW)["warning"] is None  # type: ignore[index]
    finally:
        store.close()


def test_login_refused_at_check_is_one_error_line_with_the_expiry_seen_before(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    expires = NOW + timedelta(days=3)
    watch, store = watch_for(tmp_path, KeyInfo(known=True, expires_at=expires, key_name="stock-bridge"))
    try:
        watch.check()
        later = expires + timedelta(hours=1)
        watch.clock = lambda: later
        watch._connect = lambda: (_ for _ in ()).throw(AuthenticationError("refused"))
        caplog.set_level(logging.ERROR, logger="connector.erp.key")
        for _ in range(5):
            watch.check()
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert "it expired 2026-12-06 08:00 UTC" in errors[0] and "restart the bridge" in errors[0]
        assert KEY not in errors[0]
        assert watch.report()["refused_since"] is not None
        assert stored_key_report(store, 14.0, later)["refused_since"] is not None  # type: ignore[index]
    finally:
        store.close()


class DyingFeed(FakeFeed):
    dead: bool = False

    def read(self, after: Any) -> tuple[dict[int, list[int]], Any]:
        if self.dead:
            with self._lock:
                self.reads += 1
            raise AuthenticationError("Odoo refused the credentials (AccessDenied: Access Denied)")
        return super().read(after)


def test_key_dying_while_running_is_one_line_and_unhealthy_without_a_retry_storm(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"'))
    feed = DyingFeed()
    source = FakeSource(CHANNELS, {"MUG": 5})
    adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
    deps = EngineDeps(source=source, compute=fake_compute, adapter_factory=lambda c, m: adapters[c],
                      feed=feed)
    bridge = Bridge(load_config(path), deps=deps,
                    settings=EngineSettings(poll_interval_s=0.05))
    url = f"http://127.0.0.1:{port}/v1/health"
    caplog.set_level(logging.INFO)
    bridge.start()
    try:
        assert requests.get(url, timeout=5).json()["status"] == "ready"
        feed.dead = True
        assert until(lambda: requests.get(url, timeout=5).status_code == 503, timeout=10)
        doc = requests.get(url, timeout=5).json()
        assert doc["status"] == "unhealthy" and doc["erp_key"]["refused_since"]
        assert "refuses the bridge's credentials" in doc["reasons"][0]
        reads_then = feed.reads
        time.sleep(1.0)  # 20 poll intervals
        assert feed.reads == reads_then  # quiet until the next probe (a minute later)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "Odoo refused login 'bridge' on database 'demo'" in errors[0]
        assert KEY not in errors[0] and "pw-never-shown" not in errors[0]
        assert bridge.status()["erp_key"]["refused_since"]
    finally:
        bridge.stop()


def test_next_check_comes_just_after_the_known_expiry(tmp_path: Path) -> None:
    soon = NOW + timedelta(hours=2)
    watch, store = watch_for(tmp_path, KeyInfo(known=True, expires_at=soon, key_name="k"))
    try:
        assert watch.next_check_s() == 6 * 3600.0  # nothing known yet: the interval
        watch.check()
        assert watch.next_check_s() == 2 * 3600.0 + 5.0
        watch.refused("login")
        assert watch.next_check_s() == 60.0
    finally:
        store.close()
