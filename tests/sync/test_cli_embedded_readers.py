"""Readers without a config find the embedded run that is really running (its published
config), and an embedded run cleans up after itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from connector import defaults, launcher

from connector.cli import app as cli
from connector.config import ENV_CONFIG, parse_config
from connector.state.lock import release_writer_lock, take_writer_lock
from connector.state.sqlite import StateStore
from tests.sync.test_state_lock import hold, release

ROOT = Path(__file__).resolve().parents[2]


class _Stub:
    stopped = False

    def stop(self) -> None:
        self.stopped = True


def fake_stack(state_path: str, scratch: Path | None) -> launcher.EmbeddedStack:
    data = defaults.embedded_default(erp_url="http://127.0.0.1:9", listen="127.0.0.1:0", state_path=state_path)
    return launcher.EmbeddedStack(erp=_Stub(), sandbox=_Stub(), config=parse_config(data), data=data,
                                  scratch_dir=scratch)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)
    return child.pid


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_CONFIG, raising=False)
    return tmp_path


def test_readers_without_a_config_use_the_published_config_until_the_run_stops(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("var/embedded").mkdir(parents=True)
    StateStore.open(Path(defaults.DEFAULT_STATE_PATH)).close()  # an earlier run's state
    fallback = Path(f"var/embedded-20250101-120000-{os.getpid()}")
    fallback.mkdir()
    StateStore.open(fallback / "bridge.sqlite3").close()
    stack = fake_stack(str(fallback / "bridge.sqlite3"), scratch=fallback)
    monkeypatch.setenv("STOCK_BRIDGE_ERP_PASSWORD", "the-real-erp-password")  # an overlay, never written
    published = stack.publish("http://127.0.0.1:45678")
    text = published.read_text()
    assert published.parent == fallback and "the-real-erp-password" not in text
    assert oct(published.stat().st_mode & 0o777) == "0o600"
    assert tomllib.loads(text)["bridge"]["listen"] == "127.0.0.1:45678"

    assert cli.main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state_path"] == str(fallback / "bridge.sqlite3")

    stack.stop()
    assert not fallback.exists() and Path(defaults.DEFAULT_STATE_PATH).exists()
    assert cli.main(["status", "--json"]) == 0  # back to the default embedded state
    assert json.loads(capsys.readouterr().out)["state_path"] == defaults.DEFAULT_STATE_PATH


def test_a_config_left_by_a_killed_run_is_ignored(in_tmp: Path) -> None:
    stack = fake_stack("var/embedded/bridge.sqlite3", scratch=None)
    Path("var/embedded").mkdir(parents=True)
    published = stack.publish()
    assert launcher.running_embedded_config() == published
    published.write_text(published.read_text().replace(f"(pid {os.getpid()})", f"(pid {dead_pid()})"))
    assert launcher.running_embedded_config() is None
    stack.stop()
    assert published.exists()  # not ours any more: left alone


def test_stale_fallback_directories_are_removed_and_live_ones_kept(in_tmp: Path) -> None:
    Path("var/embedded").mkdir(parents=True)
    stale = Path(f"var/embedded-20250101-120000-{dead_pid()}")
    mine = Path(f"var/embedded-20250101-120001-{os.getpid()}")
    locked = Path(f"var/embedded-20250101-120002-{dead_pid()}")  # pid gone, but the lock is held
    for d in (stale, mine, locked):
        d.mkdir()
    holder = hold((locked / "bridge.sqlite3").resolve())  # another process: a lock is per process
    try:
        assert launcher.remove_stale_run_dirs() == [stale]
    finally:
        release(holder)
    assert mine.exists() and locked.exists() and Path("var/embedded").exists()


def _wait_for(predicate: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    return None


@pytest.mark.timeout(60)
def test_an_embedded_run_on_a_fallback_directory_is_found_by_status_and_cleaned_up_at_stop(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    default = Path(defaults.DEFAULT_STATE_PATH)
    default.parent.mkdir(parents=True)
    key = take_writer_lock(default)  # another embedded run holds var/embedded
    child = subprocess.Popen([sys.executable, "-m", "connector.cli", "run"], cwd=in_tmp,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        published = _wait_for(lambda: list(in_tmp.glob("var/embedded-*/current.toml")), 30)
        assert published, "the embedded run never published its config"
        run_dir = published[0].parent
        assert cli.main(["status", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert Path(report["state_path"]).parent.name == run_dir.name
        assert report["channels"], "status read an empty state, not the running one"
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)
        release_writer_lock(key)
    assert child.returncode == 0
    assert not run_dir.exists() and default.parent.exists()
