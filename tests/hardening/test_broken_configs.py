"""Issue 15: every broken config makes `stock-bridge run --config F` exit 2 within seconds
with one line naming the key (or the file), no traceback and no secret, with no ERP
running (erp.url points at a port nobody listens on)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from connector.cli import app as cli
from tests.hardening.broken_configs import CORPUS, SECRET_MARK

# A good share goes through the real process entry point; the rest runs cli.main in-process
# (the same code path after the interpreter starts) to keep the suite fast on 2 cores.
SUBPROCESS_EVERY = 2
TIMEOUT_S = 20


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write(tmp: Path, name: str, text: str, port: int) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(text.replace("{port}", str(port)).replace("{state}", str(tmp / f"{name}.sqlite3")))
    return path


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("STOCK_BRIDGE_")}


def _check(name: str, code: int, err: str, must_name: str, text: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (name, code, err[-500:])
    assert len(lines) == 1, (name, err[-800:])
    assert "Traceback" not in err, (name, err)
    assert must_name in lines[0], (name, lines[0])
    for word in text.replace('"', " ").split():
        if word.startswith(SECRET_MARK):
            assert word not in err, (name, "secret echoed")


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 40


def test_broken_configs_through_the_real_cli(tmp_path: Path) -> None:
    port = _closed_port()
    jobs = [(name, _write(tmp_path, name, text, port), want, text) for name, text, want in CORPUS[::SUBPROCESS_EVERY]]

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "connector.cli", "run", "--config", str(path)],
            capture_output=True, text=True, timeout=TIMEOUT_S, env=_clean_env(),
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, [job[1] for job in jobs]))
    for (name, _, want, text), done in zip(jobs, results, strict=True):
        _check(name, done.returncode, done.stderr, want, text)


@pytest.mark.parametrize(("name", "text", "want"), [c for i, c in enumerate(CORPUS) if i % SUBPROCESS_EVERY])
def test_broken_config_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, text: str, want: str
) -> None:
    for key in list(os.environ):
        if key.startswith("STOCK_BRIDGE_"):
            monkeypatch.delenv(key)
    path = _write(tmp_path, name, text, _closed_port())
    code = cli.main(["run", "--config", str(path)])
    captured = capsys.readouterr()
    _check(name, code, captured.err, want, text)
    assert SECRET_MARK not in captured.out
