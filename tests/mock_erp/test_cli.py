"""`stock-bridge mock-erp` starts, prints its URL, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import xmlrpc.client
from pathlib import Path

import pytest


def test_cli_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "mock-erp", "--port", "0", "--odoo-version", "17.0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "Odoo 17.0" in line and "database 'demo'" in line
        url = line.split("serving ")[1].split()[0]
        assert xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").version()["server_serie"] == "17.0"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


@pytest.mark.parametrize("argv, reason", [
    (["--odoo-version", "15.0"], "--odoo-version"),
    (["--webhook-url", "http://127.0.0.1:9/x"], "--webhook-secret"),
])
def test_cli_bad_usage_exits_2(argv: list[str], reason: str) -> None:
    done = subprocess.run([sys.executable, "-m", "connector.cli", "mock-erp", "--port", "0", *argv],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, reason", [
    (["--fixtures", "/nonexistent"], "/nonexistent is not a directory"),
    (["--port", "70000"], "not in 0-65535"),
    (["--port", "http"], "not a port number"),
])
def test_cli_bad_fixtures_or_port_is_usage_exit_2(argv: list[str], reason: str) -> None:
    done = subprocess.run([sys.executable, "-m", "connector.cli", "mock-erp", "--port", "0", *argv],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_cli_fixtures_that_are_not_json_are_usage_exit_2(tmp_path: Path) -> None:
    (tmp_path / "10_broken.json").write_text("{not json")
    done = subprocess.run([sys.executable, "-m", "connector.cli", "mock-erp", "--port", "0",
                           "--fixtures", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "10_broken.json" in line and "not readable JSON" in line
