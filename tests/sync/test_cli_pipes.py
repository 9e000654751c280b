"""`stock-bridge … --json | head`: a reader that goes away ends the command quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from connector.state.sqlite import StateStore

ROOT = Path(__file__).resolve().parents[2]


def test_a_closed_stdout_ends_a_report_without_a_traceback(tmp_path: Path) -> None:
    StateStore.open(tmp_path / "state.sqlite3").close()
    cfg = tmp_path / "bridge.toml"
    cfg.write_text('[erp]\nurl = "http://127.0.0.1:9"\ndatabase = "d"\npassword = "pw"\n'
                   f'[bridge]\nstate_path = "{tmp_path / "state.sqlite3"}"\nlisten = "127.0.0.1:0"\n')
    read_end, write_end = os.pipe()
    os.close(read_end)  # `head` has already exited: every write to stdout fails with EPIPE
    try:
        child = subprocess.run(
            [sys.executable, "-m", "connector.cli", "status", "--json", "--config", str(cfg)],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=30, cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in child.stderr and "BrokenPipe" not in child.stderr, child.stderr
    assert child.returncode == 1
