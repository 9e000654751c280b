"""One writer per state file across processes (review #20), the embedded run's fresh state
(#28) and the demo fixtures found from anywhere once installed (#29)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import defaults, launcher

from connector.cli import app as cli
from connector.state.errors import StateLocked
from connector.state.lock import lock_path
from connector.state.sqlite import StateStore

ROOT = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from connector.state.sqlite import StateStore
    store = StateStore.open(Path(sys.argv[1]))
    print("locked", flush=True)
    sys.stdin.readline()      # hold the lock until the test says so
    store.close()
""")


def hold(path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    return child


def release(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.write("\n")
    child.stdin.flush()
    child.wait(10)


def write_config(tmp: Path, state: Path) -> Path:
    path = tmp / "bridge.toml"
    path.write_text('[erp]\nurl = "http://127.0.0.1:9"\ndatabase = "d"\npassword = "pw"\n'
                    f'[bridge]\nstate_path = "{state}"\nlisten = "127.0.0.1:0"\n')
    return path


def test_a_second_process_cannot_write_while_one_holds_the_state(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    child = hold(path)
    try:
        with pytest.raises(StateLocked) as exc:
            StateStore.open(path)
        message = str(exc.value)
        assert f"pid {child.pid}" in message and str(lock_path(path)) in message and len(message.splitlines()) == 1
        reader = StateStore.open(path, read_only=True)  # readers never need the lock
        assert reader.schema_version() > 0
        reader.close()
    finally:
        release(child)
    StateStore.open(path).close()  # released with its holder


def test_the_lock_goes_with_a_killed_holder(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    child = hold(path)
    child.kill()
    child.wait(10)
    StateStore.open(path).close()


@pytest.fixture
def keep_log_levels() -> Iterator[None]:
    """`run` sets library loggers' levels for the console; give them back afterwards."""
    import logging

    names = ("werkzeug", "apscheduler", "urllib3", "connector.mock_erp", "connector.sandbox", "connector.sync.engine")
    saved = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_cli_local_resync_and_run_refuse_next_to_a_writer(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          keep_log_levels: None) -> None:
    from connector.cli import resync as resync_command
    from connector.sync import wiring

    state = tmp_path / "state.sqlite3"
    cfg = str(write_config(tmp_path, state))
    # the probe found no bridge (e.g. it listens elsewhere): the local path must still refuse
    monkeypatch.setattr(resync_command, "running_bridge", lambda config: None)
    monkeypatch.setattr(wiring, "build_deps", lambda *a, **k: pytest.fail("connected despite the lock"))
    child = hold(state)
    try:
        assert cli.main(["resync", "--all", "--config", cfg]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "in use by another bridge process" in err[0] and f"pid {child.pid}" in err[0]
        assert cli.main(["resync", "--all", "--json", "--config", cfg]) == 1
        assert "in use" in json.loads(capsys.readouterr().out)["error"]
        assert cli.main(["run", "--config", cfg]) == 1
        assert "in use by another bridge process" in capsys.readouterr().err
        assert cli.main(["status", "--json", "--config", cfg]) == 0  # a reader
    finally:
        release(child)


def test_each_embedded_run_starts_from_a_fresh_state(tmp_path: Path) -> None:
    default = tmp_path / "var" / "embedded" / "bridge.sqlite3"
    store = StateStore.open(default)
    store.set_cursor("outbox", 42)
    store.close()
    assert launcher.fresh_state_path(default) == default
    store = StateStore.open(default)
    assert store.get_cursor("outbox") is None  # the last run's memory is gone
    # while a run holds it, the next one gets its own directory and leaves it alone
    child_state = tmp_path / "held" / "embedded" / "bridge.sqlite3"
    child = hold(child_state)
    try:
        other = launcher.fresh_state_path(child_state)
        assert other != child_state and other.parent.name.startswith("embedded-") and other.parent.is_dir()
        assert child_state.exists()
    finally:
        release(child)
        store.close()


def test_the_embedded_state_is_never_a_configured_default() -> None:
    from connector.config import BridgeSection

    assert Path(defaults.DEFAULT_STATE_PATH) != BridgeSection().state_path


def test_installed_fixtures_are_found_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = tmp_path / "prefix" / defaults.INSTALLED_FIXTURES
    installed.mkdir(parents=True)
    (installed / "10_base.json").write_text("{}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(defaults, "__file__", str(tmp_path / "site-packages" / "connector" / "defaults.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert defaults.fixtures_dir() == installed


def test_pyproject_installs_every_demo_fixture() -> None:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    target = str(defaults.INSTALLED_FIXTURES)
    assert target in data
    shipped = {p for pattern in data[target] for p in ROOT.glob(pattern)}
    assert shipped >= set((ROOT / "fixtures" / "demo").glob("*.json")) and shipped


def test_mock_erp_and_sandbox_default_to_the_demo_shop(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def grab(args: object) -> int:
        seen.update(vars(args))
        return 0

    monkeypatch.setattr(cli, "_resolve", lambda target: grab)
    assert cli.main(["mock-erp", "--port", "0"]) == 0
    assert seen["fixtures"] == defaults.fixtures_dir()
    assert cli.main(["sandbox", "--port", "0"]) == 0
    seed = json.loads(Path(str(seen["seed"])).read_text())
    assert set(seed["accounts"]) == set(defaults.DEMO_CHANNELS.values()) and seed["listings"]
