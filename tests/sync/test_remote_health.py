"""GET /v1/health (starting → ready, degraded with reasons) and `stock-bridge resync` sent
to a running bridge over POST /v1/resync, or run in-process when none is running."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.cli import app as cli
from connector.config import load_config
from connector.marketplaces.base import FailureCategory, PushResult, StockUpdate
from connector.sync.engine import EngineDeps, EngineSettings
from connector.cli.remote import running_bridge
from connector.sync.service import Bridge
from connector.sync.webhook import sign, sign_timestamped
from tests.sync.fakes import FakeAdapter, FakeFeed, FakeSource, fake_compute
from tests.sync.fakes import CHANNELS
from tests.sync.test_service_cli import SECRET, write_config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Running:
    """A bridge on fakes, listening on a fixed free port named in its config file."""

    def __init__(self, tmp: Path, poll_interval_s: float = 5.0) -> None:
        self.port = free_port()
        self.config_path = write_config(tmp)
        text = self.config_path.read_text().replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{self.port}"')
        self.config_path.write_text(text)
        self.config = load_config(self.config_path)
        self.source = FakeSource(CHANNELS, {"MUG": 5, "LAMP": 1, "TEA": 10})
        self.feed = FakeFeed()
        self.adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
        deps = EngineDeps(source=self.source, compute=fake_compute,
                          adapter_factory=lambda c, m: self.adapters[c], feed=self.feed)
        self.bridge = Bridge(self.config, deps=deps,
                             settings=EngineSettings(poll_interval_s=poll_interval_s))
        self.url = f"http://127.0.0.1:{self.port}"

    def health(self) -> tuple[int, dict[str, Any]]:
        reply = requests.get(f"{self.url}/v1/health", timeout=5)
        return reply.status_code, reply.json()


def until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    r = Running(tmp_path)
    r.bridge.start()
    yield r
    r.bridge.stop()


# -- health -----------------------------------------------------------------------------------


def test_health_is_starting_until_the_first_full_sync_finished(tmp_path: Path) -> None:
    r = Running(tmp_path)
    gate = threading.Event()
    r.adapters["amazon_de"].gate = gate  # the first sync's pushes wait here
    starter = threading.Thread(target=r.bridge.start)
    starter.start()
    try:
        assert r.adapters["amazon_de"].started.wait(5)
        code, doc = r.health()
        assert (code, doc["status"], doc["ready"]) == (503, "starting", False)
        assert doc["service"] == "stock-bridge"
        gate.set()
        starter.join(10)
        code, doc = r.health()
        assert (code, doc["status"], doc["reasons"]) == (200, "ready", [])
    finally:
        gate.set()
        starter.join(10)
        r.bridge.stop()


def test_a_first_sync_failing_on_the_erp_stays_starting_with_the_reason_then_gets_ready(tmp_path: Path) -> None:
    r = Running(tmp_path, poll_interval_s=0.1)
    r.source.fail = ConnectionError("ERP refused the connection")
    r.bridge.start()
    try:
        code, doc = r.health()
        assert (code, doc["status"]) == (503, "starting")
        assert any("ERP unreachable" in reason for reason in doc["reasons"])
        r.source.fail = None
        assert until(lambda: r.health()[1]["status"] == "ready", 10)
    finally:
        r.bridge.stop()


def test_an_unreachable_erp_degrades_health_until_it_answers_again(running: Running,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert running.health()[1]["status"] == "ready"

    def down(after: object) -> Any:
        raise ConnectionError("connection refused by 127.0.0.1:8069")

    monkeypatch.setattr(running.feed, "read", down)
    running.bridge.wake()
    assert until(lambda: running.health()[1]["status"] == "degraded")
    code, doc = running.health()
    assert code == 200 and doc["reasons"] == ["ERP unreachable: ConnectionError: connection refused by 127.0.0.1:8069"]
    monkeypatch.undo()
    running.bridge.wake()
    assert until(lambda: running.health()[1]["status"] == "ready")


def test_a_refused_channel_login_degrades_health_until_a_push_succeeds(running: Running) -> None:
    assert running.bridge.wait_idle(5)

    def refuse(u: StockUpdate) -> PushResult:
        return PushResult.failed(u, FailureCategory.AUTH, "token request refused (HTTP 401) invalid_client")

    running.adapters["lazada_sg"].decide = refuse
    running.source.set("MUG", 3)
    running.bridge.wake([running.source.pid("MUG")])
    assert running.bridge.wait_idle(5)
    code, doc = running.health()
    assert (code, doc["status"], doc["channels_auth_failed"]) == (200, "degraded", ["lazada_sg"])
    assert doc["reasons"] == ["channel lazada_sg: credentials refused: token request refused (HTTP 401) invalid_client"]
    running.adapters["lazada_sg"].decide = None
    running.source.set("MUG", 2)
    running.bridge.wake([running.source.pid("MUG")])
    assert running.bridge.wait_idle(5)
    assert running.health()[1]["status"] == "ready"


# -- resync through the running bridge ---------------------------------------------------------


def test_cli_resync_goes_to_the_running_bridge(running: Running, capsys: pytest.CaptureFixture[str]) -> None:
    assert running.bridge.wait_idle(5)
    assert running_bridge(running.config) == running.url
    before = len(running.adapters["lazada_sg"].calls)
    # The config's ERP (127.0.0.1:9) is unreachable: only the running bridge can do this.
    assert cli.main(["resync", "--sku", "MUG", "--channel", "lazada_sg", "--force", "--json",
                     "--config", str(running.config_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(c["channel_code"], c["new_qty"], c["reason"], c["result"]) for c in report["changes"]] == [
        ("lazada_sg", 5, "forced", "synced")]
    assert len(running.adapters["lazada_sg"].calls) == before + 1
    assert running.bridge.timeline("MUG")[-1]["trigger"] == "resync"

    assert cli.main(["resync", "--all", "--dry-run", "--config", str(running.config_path)]) == 0
    assert "0 would change, 9 unchanged" in capsys.readouterr().out


def stamped(body: bytes, at: float | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = int(time.time() if at is None else at)
    return {"X-Timestamp": str(stamp), "X-Signature-256": sign_timestamped(body, secret, stamp)}


def test_the_resync_endpoint_streams_progress_then_the_report(running: Running) -> None:
    body = json.dumps({"skus": None, "channels": ["amazon_de"], "force": True, "dry_run": True}).encode()
    reply = requests.post(f"{running.url}/v1/resync", data=body, headers=stamped(body), stream=True, timeout=10)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in reply.iter_lines() if line]
    assert lines[-1]["report"]["dry_run"] is True and lines[-1]["report"]["changed"] == 3
    assert {"progress": {"done": 3, "total": 3}} in lines[:-1]


@pytest.mark.parametrize("body, signature, status", [
    (b'{"skus": ["MUG"]}', "sha256=00", 401),
    (b'{"skus": ["MUG"]}', None, 401),
    (b'{"skus": "MUG"}', "ok", 400),
    (b'{"skus": ["MUG"], "everything": true}', "ok", 400),
    (b"not json", "ok", 400),
])
def test_the_resync_endpoint_refuses_bad_requests(running: Running, body: bytes, signature: str | None,
                                                  status: int) -> None:
    assert running.bridge.wait_idle(5)
    calls = sum(len(a.calls) for a in running.adapters.values())
    headers = {} if signature is None else {"X-Timestamp": str(int(time.time())), "X-Signature-256": signature}
    if signature == "ok":
        headers = stamped(body)
    reply = requests.post(f"{running.url}/v1/resync", data=body, headers=headers, timeout=5)
    assert reply.status_code == status
    # the ?token= form of the Odoo automation is not enough for a resync
    assert requests.post(f"{running.url}/v1/resync", data=body, params={"token": SECRET}, timeout=5).status_code in (
        400, 401)
    assert sum(len(a.calls) for a in running.adapters.values()) == calls


def test_the_resync_endpoint_wants_a_fresh_timestamped_signature_used_once(running: Running) -> None:
    assert running.bridge.wait_idle(5)
    calls = sum(len(a.calls) for a in running.adapters.values())
    body = json.dumps({"skus": ["MUG"], "force": True}).encode()
    url = f"{running.url}/v1/resync"
    # a trigger-style signature (body only, no timestamp) is refused
    assert requests.post(url, data=body, headers={"X-Signature-256": sign(body, SECRET)}, timeout=5).status_code == 401
    # a timestamp the signature does not cover is refused
    moved = {**stamped(body), "X-Timestamp": str(int(time.time()) + 1)}
    assert requests.post(url, data=body, headers=moved, timeout=5).status_code == 401
    stale = requests.post(url, data=body, headers=stamped(body, time.time() - 301), timeout=5)
    assert stale.status_code == 401 and "stale" in stale.json()["error"]
    assert requests.post(url, data=body, headers=stamped(body, time.time() + 400), timeout=5).status_code == 401
    assert sum(len(a.calls) for a in running.adapters.values()) == calls
    headers = stamped(body)
    first = requests.post(url, data=body, headers=headers, timeout=10)
    assert first.status_code == 200 and "report" in first.text
    replay = requests.post(url, data=body, headers=headers, timeout=5)
    assert replay.status_code == 401 and "replay" in replay.json()["error"]


def test_cli_resync_without_a_running_bridge_runs_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    r = Running(tmp_path)  # configured on a port where nothing listens
    assert running_bridge(r.config) is None
    deps = r.bridge._deps
    real_init = Bridge.__init__
    made: list[Bridge] = []

    def with_fakes(self: Bridge, config: object, **kw: object) -> None:
        kw["deps"] = deps
        real_init(self, config, **kw)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(Bridge, "__init__", with_fakes)
    assert cli.main(["resync", "--sku", "TEA", "--json", "--config", str(r.config_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["changed"] == 3 and len(made) == 1  # a bridge of its own, in this process
    assert {a.pushed()[0][1] for a in r.adapters.values() if a.calls} == {10}
