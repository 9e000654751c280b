"""Reporting commands stay quick and truthful when the ERP hangs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli import app as cli
from connector.stock.model import PushAction, SyncState
from connector.state.rows import ListingMeta, PushRecord
from connector.state.sqlite import StateStore


@pytest.fixture
def silent_erp() -> Iterator[str]:
    """A TCP server that accepts every connection and never answers a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def stored_state(path: Path) -> None:
    store = StateStore.open(path)
    meta = ListingMeta(listing_id=7, channel_code="etsy_shop", marketplace="etsy", product_id=3,
                       sku="MUG", channel_sku="MUG-ETSY")
    store.record_outcomes([PushRecord(meta=meta, quantity=5, action=PushAction.SET,
                                   state=SyncState.SYNCED, result="ok", accepted=True,
                                   explanation={"text": "free 7 - buffer 2 = 5"})])
    store.close()


def write_config(tmp: Path, erp_url: str) -> Path:
    path = tmp / "bridge.toml"
    path.write_text(
        f'[erp]\nurl = "{erp_url}"\ndatabase = "demo"\npassword = "pw-never-shown"\n\n'
        f'[bridge]\nstate_path = "{tmp / "state.sqlite3"}"\nlisten = "127.0.0.1:0"\n'
    )
    return path


def test_explain_answers_from_the_state_file_within_seconds_when_the_erp_hangs(
    tmp_path: Path, silent_erp: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stored_state(tmp_path / "state.sqlite3")
    cfg = str(write_config(tmp_path, silent_erp))
    started = time.monotonic()
    assert cli.main(["explain", "MUG", "--config", cfg]) == 0
    took = time.monotonic() - started
    out = capsys.readouterr()
    assert took < 5.0, f"explain took {took:.1f}s against a silent ERP"
    assert "free 7 - buffer 2 = 5" in out.out and "stored" in out.out
    [note] = out.err.strip().splitlines()
    assert note.startswith("ERP unreachable") and "stored" in note and "pw-never-shown" not in note

