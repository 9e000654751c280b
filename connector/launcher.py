"""The embedded-stack launcher: starts the bundled mock ERP and the seeded sandbox on local
ports and returns the config pointing at them (connector.defaults has that config's values).

What `stock-bridge run` and `demo` use when no config is given. The caller starts the
Bridge on `stack.config` and points the mock ERP's webhook at it.

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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.config import BridgeConfig, parse_config
from connector.defaults import (
    BRIDGE_PORT,
    DEFAULT_STATE_PATH,
    ERP_PORT,
    HOST,
    RUNNING_CONFIG_NAME,
    SANDBOX_PORT,
    embedded_default,
    fixtures_dir,
    sandbox_seed,
    to_toml,
)
from connector.state.errors import StateLocked
from connector.state.lock import release_writer_lock, take_writer_lock


def fresh_state_path(default: str | Path = DEFAULT_STATE_PATH) -> Path:
    """A state path for a new embedded run: `default` emptied, or, while another embedded
    run holds it, a new `var/embedded-<timestamp>/bridge.sqlite3` next to it.

    The mock ERP and the sandbox restart from the fixtures on every run, so a state kept
    from the previous run would believe the marketplaces already hold its values.
    """
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
