"""The embedded default: what `stock-bridge run` (and `demo`) use when no config is given.

`embedded_default()` is the TOML-shaped config of the embedded stack: the bundled mock
ERP with fixtures/demo, the local marketplace sandbox with one demo account per channel,
and the bridge, on local ports. `start_embedded()` starts the two stand-ins (falling back
to free ports when the usual ones are taken), seeds the sandbox with the accounts and the
fixture listings, and returns the matching config; the caller starts the Bridge on it and
points the mock ERP's webhook at the bridge (`EmbeddedStack.connect_webhook`).

Usage::

    stack = start_embedded()
    bridge = Bridge(stack.config); bridge.start(); stack.connect_webhook(bridge.trigger_url)
    ...; bridge.stop(); stack.stop()
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.catalogue import CATALOGUE
from connector.config import BridgeConfig, parse_config
from connector.sandbox.urls import channel_urls

ERP_PORT, SANDBOX_PORT, BRIDGE_PORT = 8069, 8780, 8765
HOST = "127.0.0.1"
DEMO_DATABASE = "demo"
DEMO_LOGIN = "bridge"
DEMO_API_KEY = "demo-bridge-api-key-0000000000000000"
DEMO_WEBHOOK_SECRET = "demo-webhook-secret-not-for-production"
DEMO_AUTOMATION_TOKEN = "demo-automation-token-not-for-production"
# Where readers (`status`, `timeline`, `explain` without a config) look for the embedded
# run's state. Its own directory, so that it can never be a configured bridge's state.
DEFAULT_STATE_PATH = "var/embedded/bridge.sqlite3"
# Beside a running embedded run's state: its effective config (the ports it really got,
# the state path it really uses), so that `status`, `explain`, `timeline` and `resync`
# without a config read that run and not the default addresses. Removed at stop.
RUNNING_CONFIG_NAME = "current.toml"

# channel code -> marketplace (the demo shop; fixtures/demo/40_marketplace.json)
DEMO_CHANNELS: dict[str, str] = {m.demo_channel: m.code for m in CATALOGUE}

def demo_credentials(code: str, marketplace: str) -> dict[str, str]:
    """The sandbox account of a demo channel, with DESIGN.md's key names (not secrets of value)."""
    tag = f"demo-{code}"
    shapes: dict[str, dict[str, str]] = {
        "amazon": {"seller_id": "A3DEMOSELLER01", "marketplace_id": "A1PA6795UKMFR9",
                   "client_id": f"amzn1.application-oa2-client.{code}", "client_secret": f"{tag}-secret",
                   "refresh_token": f"Atzr|{tag}-refresh"},
        "bol": {"client_id": f"{tag}-client", "client_secret": f"{tag}-secret"},
        "zalando": {"merchant_id": "11111111-2222-3333-4444-555555555555",
                    "sales_channel_id": "01924c48-49bb-40c2-9c32-ab582e6db6f4",
                    "client_id": f"{tag}-client", "client_secret": f"{tag}-secret"},
        "kaufland": {"client_key": f"{tag}-client-key", "secret_key": f"{tag}-secret-key", "storefront": "de"},
        "ebay": {"client_id": f"{tag}-client", "client_secret": f"{tag}-secret",
                 "refresh_token": f"v^1.1#{tag}-refresh", "marketplace_id": "EBAY_DE"},
        "shopify": {"access_token": f"shpat_{tag}", "location_id": "gid://shopify/Location/1",
                    "api_version": "2025-07"},
        "etsy": {"keystring": f"{tag}-keystring", "shared_secret": f"{tag}-shared",
                 "shop_id": "12345678", "refresh_token": f"12345678.{tag}-refresh"},
        "woocommerce": {"consumer_key": f"ck_{tag}", "consumer_secret": f"cs_{tag}"},
        "lazada": {"app_key": "100001", "app_secret": f"{tag}-app-secret", "access_token": f"{tag}-access",
                   "refresh_token": f"{tag}-refresh"},
        "shopee": {"partner_id": "2000001", "partner_key": f"{tag}-partner-key", "shop_id": "300001",
                   "access_token": f"{tag}-access", "refresh_token": f"{tag}-refresh"},
    }
    return dict(shapes[marketplace])


def embedded_default(
    erp_url: str = f"http://{HOST}:{ERP_PORT}",
    sandbox_url: str = f"http://{HOST}:{SANDBOX_PORT}",
    listen: str = f"{HOST}:{BRIDGE_PORT}",
    state_path: str = DEFAULT_STATE_PATH,
) -> dict[str, Any]:
    """The config (TOML-shaped dict) of the embedded stack at the given addresses."""
    channels: dict[str, Any] = {}
    for code, marketplace in DEMO_CHANNELS.items():
        section: dict[str, Any] = {"marketplace": marketplace, **channel_urls(sandbox_url, marketplace)}
        section.update(demo_credentials(code, marketplace))
        channels[code] = section
    return {
        "erp": {
            "url": erp_url,
            "database": DEMO_DATABASE,
            "username": DEMO_LOGIN,
            "api_key": DEMO_API_KEY,
            "protocol": "jsonrpc",
        },
        "bridge": {
            "state_path": state_path,
            "listen": listen,
            "webhook_secret": DEMO_WEBHOOK_SECRET,
            "automation_token": DEMO_AUTOMATION_TOKEN,
            "poll_interval_s": 2,
            "full_resync_interval_s": 600,
        },
        "channels": channels,
    }


# Where `pip install .` puts fixtures/demo (pyproject: [tool.setuptools.data-files]).
INSTALLED_FIXTURES = Path("share") / "stock-bridge" / "fixtures" / "demo"


def fixtures_dir() -> Path:
    """The demo fixtures: fixtures/demo of a source checkout, else the copy installed with
    the package (under the environment's data dir), else fixtures/demo under the cwd."""
    beside = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
    if beside.is_dir():
        return beside
    for base in {sys.prefix, sysconfig.get_path("data"), sysconfig.get_path("data", f"{os.name}_user")}:
        installed = Path(base) / INSTALLED_FIXTURES
        if installed.is_dir():
            return installed
    return Path("fixtures/demo")


def fresh_state_path(default: str | Path = DEFAULT_STATE_PATH) -> Path:
    """A state path for a new embedded run: `default` emptied, or, while another embedded
    run holds it, a new `var/embedded-<timestamp>/bridge.sqlite3` next to it.

    The mock ERP and the sandbox restart from the fixtures on every run, so a state kept
    from the previous run would believe the marketplaces already hold its values.
    """
    from connector.state.errors import StateLocked
    from connector.state.lock import release_writer_lock, take_writer_lock

    path = Path(default)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        key = take_writer_lock(path)
    except StateLocked:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = path.parent.parent / f"{path.parent.name}-{stamp}-{os.getpid()}" / path.name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    try:
        for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            part.unlink(missing_ok=True)
    finally:
        release_writer_lock(key)  # the lock file stays: another process may be opening it
    return path


def sandbox_seed(fixtures: Path | None = None, quantity: int = 0) -> dict[str, Any]:
    """Accounts for every demo channel and the fixture listings, in start_sandbox's seed shape."""
    data: dict[str, Any] = {}
    for path in sorted((fixtures or fixtures_dir()).glob("*.json")):
        for model, records in json.loads(path.read_text(encoding="utf-8")).items():
            data.setdefault(model, {}).update(records)
    channel_codes = {key: rec["code"] for key, rec in data.get("marketplace.channel", {}).items()}
    marketplaces = {key: rec["marketplace"] for key, rec in data.get("marketplace.channel", {}).items()}
    accounts: dict[str, list[dict[str, str]]] = {}
    for key, code in channel_codes.items():
        accounts.setdefault(marketplaces[key], []).append(demo_credentials(code, marketplaces[key]))
    listings: dict[str, list[dict[str, Any]]] = {}
    for rec in data.get("marketplace.listing", {}).values():
        channel = rec.get("channel_id")
        if channel not in marketplaces:
            continue
        entry: dict[str, Any] = {"sku": rec["channel_sku"], "quantity": quantity, "active": True}
        if rec.get("external_id"):
            entry["external_id"] = str(rec["external_id"])
        listings.setdefault(marketplaces[channel], []).append(entry)
    return {"accounts": accounts, "listings": listings}


def port_or_free(port: int, host: str = HOST) -> int:
    """`port` when it can be bound now, else 0 (let the OS pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return 0
    return port


@dataclass
class EmbeddedStack:
    """The running stand-ins of the embedded default and the config pointing at them."""

    erp: Any  # connector.mock_erp.server running server (.url, .stop(), .set_webhook)
    sandbox: Any  # connector.sandbox.server.RunningSandbox
    config: BridgeConfig
    data: dict[str, Any] = field(default_factory=dict)  # `config` as embedded_default's dict
    # A per-run fallback directory (var/embedded-<stamp>-<pid>/): deleted at stop.
    scratch_dir: Path | None = None
    published: Path | None = None

    def connect_webhook(self, trigger_url: str | None) -> None:
        """Point the mock ERP's post-commit webhook at the bridge's /v1/triggers."""
        if trigger_url:
            self.erp.set_webhook(trigger_url, self.config.webhook_secret())

    def publish(self, listener_url: str | None = None) -> Path:
        """Write the effective config beside the state for readers without a config.

        `listener_url` is where the bridge really listens (its port may have been free-picked).
        Only the embedded default's own demo values are written, never an environment
        overlay. Usage: ``stack.publish(bridge.listener_url)``
        """
        data = json.loads(json.dumps(self.data))  # a deep copy of plain values
        if listener_url:
            data["bridge"]["listen"] = listener_url.split("://", 1)[-1]
        path = Path(self.config.bridge.state_path).parent / RUNNING_CONFIG_NAME
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        header = (f"# the effective config of the embedded `stock-bridge run` (pid {os.getpid()});\n"
                  "# written while it runs, removed at stop; demo values only\n")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(header + to_toml(data))
        os.replace(scratch, path)  # readers never see half a file
        self.published = path
        return path

    def stop(self) -> None:
        """Stop the stand-ins; remove the published config and a fallback run directory.

        Call it after the Bridge has stopped (the state file must be closed)."""
        for part in (self.erp, self.sandbox):
            try:
                part.stop()
            except Exception:  # best effort on the way out
                pass
        if self.published is not None and _pid_of(self.published) == os.getpid():
            self.published.unlink(missing_ok=True)
        self.published = None
        if self.scratch_dir is not None:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)


def to_toml(data: dict[str, Any]) -> str:
    """`data` (tables of strings, numbers and booleans) as TOML; enough for embedded_default.

    Usage: ``Path("x.toml").write_text(to_toml(embedded_default()))``
    """
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)  # a JSON string is a TOML basic string
        raise TypeError(f"to_toml: cannot write {type(v).__name__}")

    def key(k: str) -> str:
        return k if _BARE_KEY.fullmatch(k) else json.dumps(k)

    lines: list[str] = []

    def table(prefix: str, section: dict[str, Any]) -> None:
        scalars = {k: v for k, v in section.items() if not isinstance(v, dict)}
        if prefix:
            lines.extend(["", f"[{prefix}]"])
        lines.extend(f"{key(k)} = {value(v)}" for k, v in scalars.items())
        for k, v in section.items():
            if isinstance(v, dict):
                table(f"{prefix}.{key(k)}" if prefix else key(k), v)

    table("", data)
    return "\n".join(lines).lstrip("\n") + "\n"


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_PID = re.compile(r"\(pid (\d+)\)")


def _pid_of(path: Path) -> int | None:
    try:
        with path.open(encoding="utf-8") as handle:
            found = _PID.search(handle.readline())
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def running_embedded_config(default: str | Path = DEFAULT_STATE_PATH) -> Path | None:
    """The published config of the newest embedded run still alive, else None.

    It looks beside `default` and in the fallback directories next to it; a file left by a
    killed run (its pid gone) is ignored. Usage: ``load_config(running_embedded_config())``
    """
    base = Path(default).parent
    candidates = [base / RUNNING_CONFIG_NAME, *base.parent.glob(f"{base.name}-*/{RUNNING_CONFIG_NAME}")]
    live = []
    for path in candidates:
        pid = _pid_of(path)
        if pid is not None and _alive(pid):
            try:
                live.append((path.stat().st_mtime, path))
            except OSError:  # removed just now: that run stopped
                continue
    return max(live)[1] if live else None


def remove_stale_run_dirs(default: str | Path = DEFAULT_STATE_PATH) -> list[Path]:
    """Delete fallback run directories (`<dir>-<stamp>-<pid>`) whose process is gone
    (a run killed before its stop could clean up); returns what was removed."""
    from connector.state.errors import StateLocked
    from connector.state.lock import release_writer_lock, take_writer_lock

    base = Path(default).parent
    removed = []
    for path in base.parent.glob(f"{base.name}-*-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if not (path.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid))):
            continue
        try:  # the lock says it for sure (a pid may belong to another pid namespace)
            release_writer_lock(take_writer_lock(path / Path(DEFAULT_STATE_PATH).name))
        except StateLocked:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def start_embedded(
    *,
    erp_port: int = ERP_PORT,
    sandbox_port: int = SANDBOX_PORT,
    bridge_port: int = BRIDGE_PORT,
    state_path: str | Path | None = None,
    fixtures: Path | None = None,
) -> EmbeddedStack:
    """Start mock ERP + seeded sandbox on local ports (free ones when taken); see module doc.

    Without `state_path`, the bridge gets a fresh state (`fresh_state_path`)."""
    from connector.mock_erp.server import start_mock_erp
    from connector.sandbox.server import start_sandbox

    scratch_dir = None
    if state_path is None:
        remove_stale_run_dirs()
        state_path = fresh_state_path()
        if state_path.parent != Path(DEFAULT_STATE_PATH).parent:
            scratch_dir = state_path.parent  # a fallback for this run only
    try:
        sandbox = start_sandbox(host=HOST, port=port_or_free(sandbox_port), seed=sandbox_seed(fixtures))
        try:
            erp = start_mock_erp(fixtures=fixtures or fixtures_dir(), host=HOST, port=port_or_free(erp_port))
        except BaseException:
            sandbox.stop()
            raise
    except BaseException:
        if scratch_dir is not None:
            shutil.rmtree(scratch_dir, ignore_errors=True)
        raise
    listen_port = port_or_free(bridge_port)
    data = embedded_default(
        erp_url=erp.url, sandbox_url=sandbox.url, listen=f"{HOST}:{listen_port}", state_path=str(state_path)
    )
    return EmbeddedStack(erp=erp, sandbox=sandbox, config=parse_config(data, source="embedded default"),
                         data=data, scratch_dir=scratch_dir)
