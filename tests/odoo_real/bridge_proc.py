"""`stock-bridge` as its own process against a real Odoo: a config file, a one-shot run
whose exit and output are checked, or a running bridge (stopped at the end).

Usage::

    cfg = BridgeFiles(tmp_path, url, db, login, key)
    done = run_once(cfg)                      # exit code, stdout, stderr, seconds
    with running(cfg) as proc: requests.get(cfg.health_url)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.odoo_real.kit import REPO, free_port

SECONDS = 15.0  # "within seconds": the first call is refused, nothing is retried
# A log line of connector.cli's format ("08:01:02 INFO    connector.erp.client: ...").
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL)\s")


class BridgeFiles:
    """A bridge config for one Odoo user, with its own state file and listen port."""

    def __init__(self, tmp: Path, url: str, db: str, login: str, secret: str, *,
                 protocol: str = "jsonrpc", mode: str = "addon", **erp: Any) -> None:
        self.port = free_port()
        self.path = tmp / "bridge.toml"
        self.state = tmp / "state.sqlite3"
        extra = "".join(f"{k} = {v!r}\n" for k, v in erp.items())
        # The secrets stay out of the file, as README says: the environment carries them.
        self.path.write_text(
            f'[erp]\nurl = "{url}"\ndatabase = "{db}"\nusername = "{login}"\n'
            f'protocol = "{protocol}"\nmode = "{mode}"\n{extra}\n'
            f'[bridge]\nstate_path = "{self.state}"\nlisten = "127.0.0.1:{self.port}"\n'
            "poll_interval_s = 0.5\n")
        self.env = {**os.environ, "STOCK_BRIDGE_ERP_PASSWORD": secret,
                    "STOCK_BRIDGE_WEBHOOK_SECRET": "odoo-ops-webhook-secret-0001"}
        self.secret = secret

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/health"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "connector.cli", *args, "--config", str(self.path)]


@dataclass(frozen=True)
class Done:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def messages(self) -> list[str]:
        """stderr without the log lines: what the user is told."""
        return [ln for ln in self.stderr.splitlines() if ln.strip() and not LOG_LINE.match(ln)]


def run_once(files: BridgeFiles, *args: str, timeout: float = 60) -> Done:
    started = time.monotonic()
    done = subprocess.run(files.command(*(args or ("run",))), env=files.env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)
    return Done(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def assert_one_clear_line(done: Done, *needles: str, secrets: tuple[str, ...] = ()) -> str:
    """Exit 1 within SECONDS with exactly one line for the user (log lines aside) holding
    every needle; no traceback, no WARNING/ERROR log line (nothing retried), no secret."""
    everything = done.stdout + done.stderr
    assert done.code == 1, everything
    assert done.seconds < SECONDS, f"took {done.seconds:.1f} s"
    assert "Traceback" not in everything
    assert len(done.messages) == 1, done.messages
    line = done.messages[0]
    for needle in needles:
        assert needle in line, line
    for secret in secrets:
        assert secret not in everything
    assert not [ln for ln in done.stderr.splitlines() if " WARNING " in ln or " ERROR " in ln]
    return line


@contextmanager
def running(files: BridgeFiles, ready_timeout: float = 60) -> Iterator[subprocess.Popen[str]]:
    """`stock-bridge run` until its health says it is past starting; SIGTERM at the end."""
    log = files.path.with_suffix(".log").open("w")
    proc = subprocess.Popen(files.command("run"), env=files.env, cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"bridge exited {proc.returncode}: {read_log(files)}")
            try:
                if requests.get(files.health_url, timeout=2).json()["status"] != "starting":
                    break
            except (requests.RequestException, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"bridge not ready in {ready_timeout:.0f} s: {read_log(files)}")
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


def read_log(files: BridgeFiles) -> str:
    path = files.path.with_suffix(".log")
    return path.read_text() if path.exists() else ""
