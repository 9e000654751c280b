"""The end-to-end stack: mock ERP + marketplace sandbox + bridge, all over real HTTP.

`start_stack(tmp_path)` starts the mock ERP (fixtures/demo) and the sandbox (seeded with
the demo accounts and listings) on free ports, writes a bridge config for them (short
coalesce/poll intervals so a test finishes in seconds), starts the Bridge in-process and
points the ERP's post-commit webhook at it. Tests drive the ERP only over XML-RPC
(`stack.rpc`, tests/e2e/odoo.py) and read results from the sandbox's /_sandbox endpoints.
Usage::

    stack = start_stack(tmp_path)
    stack.rpc.deliver("LAMP-DESK-01", 1); stack.settle()
    assert stack.shown("LAMP-DESK-01")["shopify_eu"].qty == 0
    stack.stop()
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from connector.config import BridgeConfig, parse_config
from connector.defaults import DEMO_WEBHOOK_SECRET, embedded_default, fixtures_dir, sandbox_seed
from connector.mock_erp.server import RunningMockErp, start_mock_erp
from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import RunningSandbox, start_sandbox
from connector.sync.service import Bridge
from connector.state.errors import StateError
from connector.state.sqlite import StateStore
from tests.e2e.odoo import OdooRpc

# Fast but realistic: a 5 ms coalesce window, the outbox polled 4x a second as a backstop
# to the webhook, the retry queue looked at twice a second, no surprise safety-net runs.
TEST_BRIDGE = {"poll_interval_s": 0.25, "coalesce_ms": 5, "retry_interval_s": 0.5,
               "full_resync_interval_s": 3600}
# Amazon's real budget (5/s) makes every first sync 1.5 s long; the sandbox is told the same
# higher budget (rate_limits below), so the throttle is still respected, just faster.
TEST_CHANNELS: dict[str, dict[str, Any]] = {
    "amazon_de": {"rate_per_s": 50, "burst": 50},
    "bol_nl": {"poll_interval_s": "0.02"},  # bol's process-status polling, first pause
}
SANDBOX_RATES = {"amazon": {"rate": 50, "burst": 50}}


@dataclass(frozen=True)
class Shown:
    """What one marketplace listing shows: quantity and whether it is active/buyable."""

    qty: int
    active: bool

    @property
    def visible(self) -> int:
        """What a buyer can order: an inactive listing (Etsy at zero) sells nothing."""
        return self.qty if self.active else 0


@dataclass(frozen=True)
class ListingRef:
    channel: str
    marketplace: str
    channel_sku: str


def toml_dumps(data: Mapping[str, Any]) -> str:
    """The small TOML subset a bridge config needs (tables of scalars and inline tables)."""

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, Mapping):
            return "{" + ", ".join(f"{json.dumps(k)} = {scalar(v)}" for k, v in value.items()) + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        return json.dumps(str(value))

    lines: list[str] = []

    def table(name: str, body: Mapping[str, Any]) -> None:
        plain = {k: v for k, v in body.items() if not (isinstance(v, Mapping) and k != "buffer_by_velocity")}
        lines.append(f"[{name}]")
        lines.extend(f"{json.dumps(k)} = {scalar(v)}" for k, v in plain.items())
        lines.append("")
        for k, v in body.items():
            if isinstance(v, Mapping) and k != "buffer_by_velocity":
                table(f"{name}.{json.dumps(k)}", v)

    for key, value in data.items():
        if isinstance(value, Mapping):
            table(key, value)
        else:
            lines.insert(0, f"{json.dumps(key)} = {scalar(value)}")
    return "\n".join(lines) + "\n"


def build_config(
    erp_url: str,
    sandbox_url: str,
    state_path: Path,
    *,
    listen: str = "127.0.0.1:0",
    bridge: Mapping[str, Any] | None = None,
    channels: Mapping[str, Mapping[str, Any]] | None = None,
    velocity_classes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The TOML-shaped bridge config of an e2e stack, with test overrides applied."""
    data = embedded_default(erp_url=erp_url, sandbox_url=sandbox_url, listen=listen, state_path=str(state_path))
    data["bridge"].update(TEST_BRIDGE)
    data["bridge"].update(bridge or {})
    for code, extra in TEST_CHANNELS.items():
        data["channels"][code].update(extra)
    for code, extra in (channels or {}).items():
        data["channels"][code].update(extra)
    if velocity_classes:
        data["velocity_classes"] = dict(velocity_classes)
    return data


@dataclass
class Stack:
    """A running e2e stack; see the module docstring."""

    erp: RunningMockErp
    sandbox: RunningSandbox
    admin: SandboxAdmin
    rpc: OdooRpc
    config_data: dict[str, Any]
    config_path: Path
    tmp: Path
    bridge: Bridge | None = None
    refs: dict[str, list[ListingRef]] = field(default_factory=dict)

    @property
    def config(self) -> BridgeConfig:
        return parse_config(self.config_data, source=str(self.config_path))

    def start_bridge(self) -> Bridge:
        """Start the in-process bridge (first full sync included) and connect the webhook."""
        bridge = Bridge(self.config)
        bridge.start()
        self.bridge = bridge
        self.erp.set_webhook(bridge.trigger_url, DEMO_WEBHOOK_SECRET)
        return bridge

    def stop_bridge(self) -> None:
        if self.bridge is not None:
            self.erp.set_webhook(None, None)
            self.bridge.stop()
            self.bridge = None

    def settle(self, timeout: float = 15.0) -> None:
        """Wait (bounded) until the webhooks are sent and the bridge has nothing left to do."""
        if self.erp.notifier is not None:
            assert self.erp.notifier.flush(timeout), "webhook queue did not drain"
        assert self.bridge is not None
        assert self.bridge.wait_idle(timeout), f"bridge not idle after {timeout}s"

    def shown(self, sku: str) -> dict[str, Shown]:
        """channel code -> what its listing of ERP product `sku` shows in the sandbox.

        A channel with two listings of the product (Amazon's 6-pack) gets the second one
        under "<code>/<channel sku>".
        """
        state = self.admin.state()
        out: dict[str, Shown] = {}
        for ref in self.refs[sku]:
            item = next((x for x in state[ref.marketplace] if x["sku"] == ref.channel_sku), None)
            if item is None:
                continue
            key = ref.channel if ref.channel not in out else f"{ref.channel}/{ref.channel_sku}"
            out[key] = Shown(int(item["quantity"]), bool(item["active"]))
        return out

    def qty(self, sku: str) -> dict[str, int]:
        """channel code -> the quantity buyers can order (0 when the listing is inactive)."""
        return {code: s.visible for code, s in self.shown(sku).items()}

    def wait_for(self, check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.05)

    def requests_since(self, marketplace: str, since: float) -> list[dict[str, Any]]:
        return [r for r in self.admin.requests(marketplace, since) if r.get("operation") != "token"]

    def stored_cursor(self) -> Any:
        """The outbox cursor in the state file (None before the first sync is durable)."""
        try:
            store = StateStore.open(self.config.bridge.state_path, read_only=True)
        except StateError:
            return None
        try:
            return store.get_cursor("outbox")
        finally:
            store.close()

    def stop(self) -> None:
        try:
            self.stop_bridge()
        finally:
            self.admin.close()
            self.erp.stop()
            self.sandbox.stop()


def _refs(rpc: OdooRpc) -> dict[str, list[ListingRef]]:
    channels = {c["id"]: (c["code"], c["marketplace"])
                for c in rpc("marketplace.channel", "search_read", [], ["code", "marketplace"])}
    products = {p["id"]: p["default_code"]
                for p in rpc("product.product", "search_read", [], ["default_code"])}
    refs: dict[str, list[ListingRef]] = {}
    for row in rpc("marketplace.listing", "search_read", [], ["channel_id", "product_id", "channel_sku"],
                   order="id asc"):
        code, marketplace = channels[row["channel_id"][0]]
        refs.setdefault(products[row["product_id"][0]], []).append(
            ListingRef(code, marketplace, row["channel_sku"]))
    return refs


def start_stack(
    tmp: Path,
    *,
    with_bridge: bool = True,
    bridge: Mapping[str, Any] | None = None,
    channels: Mapping[str, Mapping[str, Any]] | None = None,
    velocity_classes: Mapping[str, str] | None = None,
    listen: str = "127.0.0.1:0",
    fixtures: Path | None = None,
) -> Stack:
    """Start an e2e stack under `tmp` (state file, config.toml); see the module docstring."""
    sandbox = start_sandbox(seed=sandbox_seed(fixtures))
    erp: RunningMockErp | None = None
    try:
        admin = SandboxAdmin(sandbox.url)
        for marketplace, limit in SANDBOX_RATES.items():
            admin.set_faults(marketplace, rate_limit=limit)
        erp = start_mock_erp(fixtures=fixtures or fixtures_dir())
        data = build_config(erp.url, sandbox.url, tmp / "state.sqlite3", listen=listen, bridge=bridge,
                            channels=channels, velocity_classes=velocity_classes)
        path = tmp / "bridge.toml"
        path.write_text(toml_dumps(data), encoding="utf-8")
        rpc = OdooRpc(erp.url, erp.database, "admin", "admin")
        stack = Stack(erp=erp, sandbox=sandbox, admin=admin, rpc=rpc, config_data=data, config_path=path,
                      tmp=tmp, refs=_refs(rpc))
        if with_bridge:
            stack.start_bridge()
        return stack
    except BaseException:
        if erp is not None:
            erp.stop()
        sandbox.stop()
        raise


def free_port() -> int:
    """A port free right now on 127.0.0.1 (for a child process that must be told its port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BridgeProcess:
    """`stock-bridge run --config F` in a child process, output to files."""

    def __init__(self, config: Path, logs: Path, url: str) -> None:
        self.url = url
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.out = open(logs.with_suffix(".out"), "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "connector.cli", "run", "--config", str(config)],
            stdout=self.out, stderr=subprocess.STDOUT, env=env,
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"bridge exited with {self.proc.returncode}")
            try:
                if requests.get(f"{self.url}/v1/health", timeout=1).json().get("ready"):
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.05)
        raise AssertionError("bridge process not ready in time")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.out.close()


# -- the stand-ins and the bridge in their own processes (benchmarks) --------------------------
#
# In one process the driver, the mock ERP, the sandbox and a recorder share one GIL and measure
# each other's waits. Each child below runs one part and answers commands over a Pipe.


def _serve(conn: Connection, handlers: Mapping[str, Callable[..., Any]]) -> None:
    """Answer (command, *args) messages until "stop" or the parent goes away."""
    while True:
        try:
            command, *args = conn.recv()
        except (EOFError, OSError):
            return
        if command == "stop":
            conn.send(None)
            return
        try:
            conn.send(("ok", handlers[command](*args)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _quiet() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # else it logs every request


def _erp_child(conn: Connection, fixtures: str | None) -> None:
    _quiet()
    erp = start_mock_erp(fixtures=Path(fixtures) if fixtures else fixtures_dir())
    calls: Counter[tuple[int, str]] = Counter()
    lock = threading.Lock()
    original = erp.db.execute

    def execute(uid: int, model: str, method: str, args: Any, kwargs: Any = None) -> Any:
        with lock:
            calls[(uid, f"{model}.{method}")] += 1
        return original(uid, model, method, args, kwargs)

    erp.db.execute = execute  # type: ignore[method-assign]

    def call_counts(uid: int) -> dict[str, int]:
        with lock:
            return {name: n for (who, name), n in calls.items() if who == uid}

    conn.send((erp.url, erp.database))
    try:
        _serve(conn, {"set_webhook": erp.set_webhook, "calls": call_counts})
    finally:
        # wake-ups still queued at teardown find the bridge gone: expected, not news
        logging.getLogger("connector.mock_erp.webhook").setLevel(logging.ERROR)
        erp.stop()


def _sandbox_child(conn: Connection, seed: Any, rate_limits: bool = True) -> None:
    _quiet()
    running = start_sandbox(seed=seed, rate_limits=rate_limits)
    sandbox = running.sandbox
    original = sandbox.record
    watch: dict[str, list[str]] = {}
    seen: dict[str, list[tuple[float, int]]] = {}  # "marketplace/sku" -> (request arrival, qty shown)
    lock = threading.Lock()

    def record(entry: Any) -> None:
        original(entry)
        for sku in watch.get(entry.marketplace, ()):
            listing = sandbox.markets[entry.marketplace].find(sku=sku)
            if listing is None:
                continue
            with lock:
                rows = seen.setdefault(f"{entry.marketplace}/{sku}", [])
                if not rows or rows[-1][1] != listing.quantity:
                    rows.append((entry.time, int(listing.quantity)))

    def set_watch(pairs: list[tuple[str, str]]) -> None:
        for marketplace, sku in pairs:
            watch.setdefault(marketplace, []).append(sku)

    def get_seen() -> dict[str, list[tuple[float, int]]]:
        with lock:
            return {key: list(rows) for key, rows in seen.items()}

    sandbox.record = record  # type: ignore[method-assign]
    conn.send(running.url)
    try:
        _serve(conn, {"watch": set_watch, "seen": get_seen})
    finally:
        running.stop()


def _bridge_child(conn: Connection, config_path: str, log_path: str) -> None:
    # As `stock-bridge run` does: INFO logs, the engine's per-push lines as one line per outcome.
    logging.basicConfig(level=logging.INFO, filename=log_path)
    logging.getLogger("connector.sync.engine").setLevel(logging.WARNING)
    for noisy in ("werkzeug", "apscheduler", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from connector.config import load_config

    bridge = Bridge(load_config(Path(config_path)))
    bridge.start()
    out = open(log_path + ".live", "w")  # noqa: SIM115 - closed below
    bridge.add_listener(lambda o: print(o.meta.channel_code, o.meta.sku, o.old_qty, o.quantity, o.result,
                                        file=out, flush=True))
    engine = bridge.engine
    assert engine is not None

    def reset() -> None:
        engine.times.reset()
        engine.start_tracing().clear()

    def traces() -> dict[str, Any]:
        return engine.start_tracing().dump()

    conn.send(bridge.listener_url)
    try:
        _serve(conn, {"metrics": engine.metrics, "reset": reset, "traces": traces})
    finally:
        bridge.stop()
        out.close()


class Child:
    """One of the children above, started with the spawn method (no forked threads)."""

    def __init__(self, target: Callable[..., None], *args: Any, timeout: float = 30.0) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, theirs = ctx.Pipe()
        self.proc = ctx.Process(target=target, args=(theirs, *args), daemon=True)
        self.proc.start()
        theirs.close()
        if not self._conn.poll(timeout):
            self.stop()
            raise AssertionError(f"{target.__name__} did not start in {timeout}s")
        self.hello: Any = self._conn.recv()

    def call(self, command: str, *args: Any, timeout: float = 30.0) -> Any:
        self._conn.send((command, *args))
        if not self._conn.poll(timeout):
            raise AssertionError(f"child did not answer {command!r} in {timeout}s")
        status, value = self._conn.recv()
        if status != "ok":
            raise AssertionError(f"child failed {command!r}: {value}")
        return value

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.is_alive():
            try:
                self._conn.send(("stop",))
                self._conn.poll(timeout)
            except (OSError, EOFError):
                pass
            self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        self._conn.close()


class ErpChild:
    """The mock ERP (fixtures/demo) in its own process; counts ORM calls per user."""

    def __init__(self, fixtures: Path | None = None) -> None:
        self.child = Child(_erp_child, str(fixtures) if fixtures else None)
        self.url, self.database = self.child.hello
        self.notifier = None

    def set_webhook(self, url: str | None, secret: str | None) -> None:
        self.child.call("set_webhook", url, secret)

    def calls(self, uid: int) -> Counter[str]:
        """ORM calls (model.method -> count) made so far by user `uid`."""
        return Counter(self.child.call("calls", uid))

    def stop(self) -> None:
        self.child.stop()


class SandboxChild:
    """The marketplace sandbox in its own process; records when each watched listing changed."""

    def __init__(self, seed: Any, rate_limits: bool = True) -> None:
        self.child = Child(_sandbox_child, seed, rate_limits)
        self.url: str = self.child.hello

    def watch(self, pairs: list[tuple[str, str]]) -> None:
        self.child.call("watch", pairs)

    def seen(self) -> dict[tuple[str, str], list[tuple[float, int]]]:
        """(marketplace, sku) -> [(arrival time of the request, quantity it left)], changes only."""
        raw = self.child.call("seen")
        return {tuple(key.split("/", 1)): rows for key, rows in raw.items()}  # type: ignore[misc]

    def stop(self) -> None:
        self.child.stop()


class BridgeChild:
    """The bridge (`Bridge(config)`, as `stock-bridge run` starts it) in its own process,
    with its engine's metrics() readable by the parent."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.child = Child(_bridge_child, str(config), str(log_path), timeout=60.0)
        self.url: str = self.child.hello

    def metrics(self) -> dict[str, Any]:
        return dict(self.child.call("metrics"))

    def reset(self) -> None:
        """Forget the phase times so far and keep per-push traces from now on."""
        self.child.call("reset")

    def traces(self) -> dict[str, Any]:
        """connector.sync.tracing.PushTracer.dump() of the bridge since reset()."""
        return dict(self.child.call("traces"))

    def stop(self) -> None:
        self.child.stop()


@dataclass
class ProcessStack:
    """Mock ERP, sandbox and bridge each in its own process; the caller drives over RPC/HTTP."""

    erp: ErpChild
    sandbox: SandboxChild
    bridge: BridgeChild | None
    admin: SandboxAdmin
    rpc: OdooRpc
    config_data: dict[str, Any]
    config_path: Path
    refs: dict[str, list[ListingRef]]

    @property
    def config(self) -> BridgeConfig:
        return parse_config(self.config_data, source=str(self.config_path))

    shown = Stack.shown
    wait_for = Stack.wait_for
    stored_cursor = Stack.stored_cursor

    def stop(self) -> None:
        try:
            self.erp.set_webhook(None, None)  # no wake-ups for a bridge that is going away
        except AssertionError:
            pass
        try:
            if self.bridge is not None:
                self.bridge.stop()
        finally:
            self.admin.close()
            self.erp.stop()
            self.sandbox.stop()


# Budgets lifted (benchmarks' reference run): every adapter's token bucket this wide.
NO_BUDGET = {"rate_per_s": 100_000, "burst": 100_000}


def start_process_stack(tmp: Path, *, bridge: Mapping[str, Any] | None = None,
                        budgets: bool = True) -> ProcessStack:
    """Start the three processes under `tmp`; returns once the bridge's first sync is durable.

    `budgets=False` lifts the marketplaces' rate budgets: the sandbox's throttles are off and
    the adapters' token buckets wide open (eBay's per-listing revision budget stays)."""
    sandbox = SandboxChild(sandbox_seed(None), rate_limits=budgets)
    erp: ErpChild | None = None
    started: BridgeChild | None = None
    try:
        admin = SandboxAdmin(sandbox.url)
        if budgets:
            for marketplace, limit in SANDBOX_RATES.items():
                admin.set_faults(marketplace, rate_limit=limit)
        erp = ErpChild()
        channels = None if budgets else {code: dict(NO_BUDGET) for code in embedded_default()["channels"]}
        data = build_config(erp.url, sandbox.url, tmp / "state.sqlite3", listen=f"127.0.0.1:{free_port()}",
                            bridge=bridge, channels=channels)
        path = tmp / "bridge.toml"
        path.write_text(toml_dumps(data), encoding="utf-8")
        rpc = OdooRpc(erp.url, erp.database, "admin", "admin")
        started = BridgeChild(path, tmp / "bridge.log")
        erp.set_webhook(f"{started.url}/v1/triggers", DEMO_WEBHOOK_SECRET)
        return ProcessStack(erp=erp, sandbox=sandbox, bridge=started, admin=admin, rpc=rpc, config_data=data,
                            config_path=path, refs=_refs(rpc))
    except BaseException:
        if started is not None:
            started.stop()
        if erp is not None:
            erp.stop()
        sandbox.stop()
        raise
