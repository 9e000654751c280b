"""The SQLite state store: one file (WAL), one writer process, many readers.

What it holds, per DESIGN.md rules 2, 5, 6 and 8:
- `listing`: per marketplace listing, the last value the marketplace accepted
  (`pushed_*`), the last value that reached a durable outcome (`wanted_*`, the diff
  baseline), its sync state, the marketplace's last message, the last explanation;
- `cursor`: the outbox event id / write_date watermark the bridge has fully handled;
- `retry`: the durable retry queue (listing, wanted value, attempts, due time, message);
- `journal`: an append-only record of every push attempt;
- `alert`: oversell alerts, open until the product is no longer oversold;
- `credential`: tokens a marketplace rotated (newest refresh token per channel), so a
  restart does not fall back to a dead config value. The file is created 0600.

Every write is one transaction, so a crash between two lines leaves either the old or
the new truth, never half of each. Readers in other processes (`status`, `timeline`
while `run` runs) open the file read-only and never block the writer (WAL).

One writer: opening for writing takes the writer lock (lock.py) for as long as the store
is open; a second writer process gets `StateLocked`.

Usage::

    store = StateStore.open(Path("var/bridge.sqlite3"))
    store.record_outcomes([record]); store.set_cursor("outbox", 42)
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from connector.state.errors import StateError
from connector.state.lock import release_writer_lock, take_writer_lock
from connector.state.rows import (
    AlertRow,
    JournalRow,
    ListingRow,
    PushRecord,
    RetryRow,
    StoredCredential,
)
from connector.state.schema import MIGRATIONS, SCHEMA_VERSION, statements


def _dump_cursor(value: Any) -> str:
    """Cursor values: ints (outbox ids), strings, or datetimes (write_date watermarks)."""
    if isinstance(value, datetime):
        return json.dumps({"datetime": value.isoformat()})
    return json.dumps(value)


def _load_cursor(text: str) -> Any:
    value = json.loads(text)
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return datetime.fromisoformat(value["datetime"])
    return value



class StateStore:  # the SQLite implementation of connector.state.store.Store
    """The SQLite state file. Thread-safe inside one process (one connection, one lock)."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, read_only: bool, writer_lock: Path | None = None
    ) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        self.read_only = read_only
        self._writer_lock = writer_lock  # key of the held `<state>.lock` (take_writer_lock)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, timeout_s: float = 10.0) -> StateStore:
        """Open (and, for the writer, create and migrate) the state file at `path`."""
        path = Path(path)
        if read_only:
            if not path.exists():
                raise StateError(f"state file {path} does not exist yet (has `run` ever run?)")
            conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, timeout=timeout_s, check_same_thread=False
            )
            writer_lock = None
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer_lock = take_writer_lock(path)
            try:
                _private_file(path)
                conn = sqlite3.connect(str(path), timeout=timeout_s, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode survives a killed process; only a power cut may lose the tail.
                conn.execute("PRAGMA synchronous=NORMAL")
            except BaseException:
                release_writer_lock(writer_lock)
                raise
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        store = cls(conn, path, read_only, writer_lock)
        try:
            if read_only:
                version = store.schema_version()
                if version > SCHEMA_VERSION:
                    raise StateError(f"state file {path} has schema {version}, newer than this bridge")
            else:
                store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._writer_lock is not None:
                release_writer_lock(self._writer_lock)
                self._writer_lock = None

    def schema_version(self) -> int:
        with self._lock:
            exists = self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
            ).fetchone()
            if not exists:
                return 0
            row = self._conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            return int(row[0] or 0)

    def migrate(self, target: int = SCHEMA_VERSION) -> int:
        """Apply the missing migrations, each in its own transaction; returns the version."""
        with self._lock:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at REAL)"
            )
            current = self.schema_version()
            if current > SCHEMA_VERSION:
                raise StateError(
                    f"state file {self.path} has schema {current}, newer than this bridge "
                    f"({SCHEMA_VERSION}); upgrade the bridge"
                )
            for version in range(current, target):
                with self._tx() as cur:
                    for statement in statements(MIGRATIONS[version]):
                        cur.execute(statement)
                    cur.execute(
                        "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                        (version + 1, time.time()),
                    )
            return max(current, target)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction (BEGIN IMMEDIATE: take the write lock up front)."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    # -- cursors ---------------------------------------------------------------------------

    def get_cursor(self, name: str) -> Any:
        with self._lock:
            row = self._conn.execute("SELECT value FROM cursor WHERE name = ?", (name,)).fetchone()
        return None if row is None else _load_cursor(row["value"])

    def set_cursor(self, name: str, value: Any) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO cursor (name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (name, _dump_cursor(value), time.time()),
            )

    def cursors(self) -> dict[str, tuple[Any, float]]:
        with self._lock:
            rows = self._conn.execute("SELECT name, value, updated_at FROM cursor").fetchall()
        return {r["name"]: (_load_cursor(r["value"]), r["updated_at"]) for r in rows}

    # -- listings and outcomes -------------------------------------------------------------

    def record_outcomes(self, outcomes: Iterable[PushRecord], now: float | None = None) -> None:
        """Write a batch of push outcomes at once: listing rows, journal, retry queue."""
        stamp = time.time() if now is None else now
        outcomes = list(outcomes)
        last = {o.meta.listing_id: i for i, o in enumerate(outcomes)}
        with self._tx() as cur:
            for index, o in enumerate(outcomes):
                m = o.meta
                cur.execute(
                    "INSERT INTO listing (listing_id, channel_code, marketplace, product_id, sku, "
                    "channel_sku, external_id, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?) "
                    "ON CONFLICT(listing_id) DO UPDATE SET channel_code = excluded.channel_code, "
                    "marketplace = excluded.marketplace, product_id = excluded.product_id, "
                    "sku = excluded.sku, channel_sku = excluded.channel_sku, "
                    "external_id = excluded.external_id",
                    (m.listing_id, m.channel_code, m.marketplace, m.product_id, m.sku,
                     m.channel_sku, m.external_id, stamp),
                )
                wanted = o.explanation() if callable(o.explanation) and last[m.listing_id] == index \
                    else (None if callable(o.explanation) else o.explanation)
                explanation = json.dumps(wanted) if wanted is not None else None
                last_error = (o.message or None) if o.result != "ok" else None
                cur.execute(
                    "UPDATE listing SET wanted_qty = ?, wanted_action = ?, state = ?, "
                    "last_error = ?, error_category = ?, updated_at = ?, "
                    "explanation = COALESCE(?, explanation) WHERE listing_id = ?",
                    (o.quantity, str(o.action), str(o.state), last_error, o.error_category,
                     stamp, explanation, m.listing_id),
                )
                if o.accepted:
                    cur.execute(
                        "UPDATE listing SET pushed_qty = ?, pushed_action = ?, pushed_at = ? "
                        "WHERE listing_id = ?",
                        (o.quantity, str(o.action), stamp, m.listing_id),
                    )
                if o.result == "retry" and o.retry_due_at is not None:
                    step = 0 if o.deferred else 1
                    cur.execute(
                        "INSERT INTO retry (listing_id, channel_code, product_id, quantity, action, "
                        "attempts, due_at, last_message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(listing_id) DO UPDATE SET quantity = excluded.quantity, "
                        "action = excluded.action, attempts = retry.attempts + ?, "
                        "due_at = excluded.due_at, last_message = excluded.last_message",
                        (m.listing_id, m.channel_code, m.product_id, o.quantity, str(o.action),
                         step, o.retry_due_at, o.message, stamp, step),
                    )
                else:
                    cur.execute("DELETE FROM retry WHERE listing_id = ?", (m.listing_id,))
                cur.execute(
                    "INSERT INTO journal (at, channel_code, listing_id, sku, channel_sku, old_qty, "
                    "new_qty, action, events, trigger, result, message, duration_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (stamp, m.channel_code, m.listing_id, m.sku, m.channel_sku, o.old_qty,
                     o.quantity, str(o.action), json.dumps(list(o.events)[:50]), o.trigger,
                     o.result, o.message, o.duration_ms),
                )

    def listings(
        self, *, sku: str | None = None, channel: str | None = None, ids: Iterable[int] | None = None
    ) -> list[ListingRow]:
        query, params = "SELECT * FROM listing WHERE 1=1", []  # type: tuple[str, list[Any]]
        if sku is not None:
            query += " AND (sku = ? OR channel_sku = ?)"
            params += [sku, sku]
        if channel is not None:
            query += " AND channel_code = ?"
            params.append(channel)
        if ids is not None:
            id_list = list(ids)
            query += f" AND listing_id IN ({','.join('?' * len(id_list))})"
            params += id_list
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY channel_code, sku, listing_id", params).fetchall()
        return [_listing_row(r) for r in rows]

    def listing(self, listing_id: int) -> ListingRow | None:
        found = self.listings(ids=[listing_id])
        return found[0] if found else None

    # -- retry queue -----------------------------------------------------------------------

    def due_retries(self, now: float | None = None, limit: int = 1000) -> list[RetryRow]:
        stamp = time.time() if now is None else now
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM retry WHERE due_at <= ? ORDER BY due_at LIMIT ?", (stamp, limit)
            ).fetchall()
        return [RetryRow(**dict(r)) for r in rows]

    def drop_retries(self, listing_ids: Iterable[int]) -> int:
        """Remove these listings from the retry queue (listings no longer synced); returns
        how many rows went. Usage: ``store.drop_retries([12, 13])``"""
        ids = [(int(i),) for i in listing_ids]
        if not ids:
            return 0
        with self._tx() as cur:
            cur.executemany("DELETE FROM retry WHERE listing_id = ?", ids)
            return cur.rowcount if cur.rowcount >= 0 else 0

    def retries(self) -> list[RetryRow]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM retry ORDER BY due_at").fetchall()
        return [RetryRow(**dict(r)) for r in rows]

    # -- journal ---------------------------------------------------------------------------

    def journal(
        self,
        *,
        sku: str | None = None,
        since: float | None = None,
        channel: str | None = None,
        limit: int = 1000,
    ) -> list[JournalRow]:
        query, params = "SELECT * FROM journal WHERE 1=1", []  # type: tuple[str, list[Any]]
        if sku is not None:
            query += " AND (sku = ? OR channel_sku = ?)"
            params += [sku, sku]
        if since is not None:
            query += " AND at >= ?"
            params.append(since)
        if channel is not None:
            query += " AND channel_code = ?"
            params.append(channel)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM ({query} ORDER BY id DESC LIMIT ?) ORDER BY id", [*params, limit]
            ).fetchall()
        return [
            JournalRow(**{**dict(r), "events": json.loads(r["events"] or "[]")}) for r in rows
        ]

    def prune_journal(self, older_than_days: float, now: float | None = None) -> int:
        """Delete journal rows older than the retention; returns how many went."""
        cutoff = (time.time() if now is None else now) - older_than_days * 86400
        with self._tx() as cur:
            cur.execute("DELETE FROM journal WHERE at < ?", (cutoff,))
            return cur.rowcount

    # -- alerts ----------------------------------------------------------------------------

    def open_alert(self, kind: str, product_id: int, sku: str, message: str) -> bool:
        """Open an alert unless one is already open; True when it is new."""
        with self._tx() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO alert (kind, product_id, sku, message, opened_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (kind, product_id, sku, message, time.time()),
            )
            return cur.rowcount > 0

    def clear_alert(self, kind: str, product_id: int) -> bool:
        with self._tx() as cur:
            cur.execute(
                "UPDATE alert SET cleared_at = ? WHERE kind = ? AND product_id = ? AND cleared_at IS NULL",
                (time.time(), kind, product_id),
            )
            return cur.rowcount > 0

    def alerts(self, *, open_only: bool = True) -> list[AlertRow]:
        where = "WHERE cleared_at IS NULL" if open_only else ""
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM alert {where} ORDER BY id").fetchall()
        return [AlertRow(**dict(r)) for r in rows]

    # -- credentials -----------------------------------------------------------------------

    def save_credential(self, channel_code: str, key: str, value: str, origin: str = "") -> None:
        """Keep the newest value of a rotated credential (durable before the caller goes on)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO credential (channel_code, key, value, origin, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(channel_code, key) DO UPDATE SET "
                "value = excluded.value, origin = excluded.origin, updated_at = excluded.updated_at",
                (channel_code, key, value, origin, time.time()),
            )

    def credentials(self, channel_code: str) -> dict[str, StoredCredential]:
        """The stored rotated credentials of one channel, by key."""
        with self._lock:
            if self.read_only and not self._has_table("credential"):
                return {}  # an older file opened read-only: nothing stored yet
            rows = self._conn.execute(
                "SELECT key, value, origin, updated_at FROM credential WHERE channel_code = ?",
                (channel_code,),
            ).fetchall()
        return {r["key"]: StoredCredential(r["value"], r["origin"], r["updated_at"]) for r in rows}

    def _has_table(self, name: str) -> bool:
        found = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name = ?", (name,)
        ).fetchone()
        return found is not None

    # -- reports ---------------------------------------------------------------------------

    def channel_summary(self) -> dict[str, dict[str, Any]]:
        """Per channel: listings per state, last push time, retry backlog."""
        summary: dict[str, dict[str, Any]] = {}
        with self._lock:
            for r in self._conn.execute(
                "SELECT channel_code, state, COUNT(*) AS n, MAX(pushed_at) AS last FROM listing "
                "GROUP BY channel_code, state"
            ):
                entry = summary.setdefault(
                    r["channel_code"], {"states": {}, "last_push_at": None, "retry_backlog": 0}
                )
                entry["states"][r["state"]] = r["n"]
                if r["last"] is not None and (entry["last_push_at"] or 0) < r["last"]:
                    entry["last_push_at"] = r["last"]
            for r in self._conn.execute(
                "SELECT channel_code, COUNT(*) AS n, MIN(due_at) AS due FROM retry GROUP BY channel_code"
            ):
                entry = summary.setdefault(
                    r["channel_code"], {"states": {}, "last_push_at": None, "retry_backlog": 0}
                )
                entry["retry_backlog"] = r["n"]
                entry["next_retry_at"] = r["due"]
        return summary


def _private_file(path: Path) -> None:
    """Create the state file owner-only (it holds rotated tokens), and tighten an older one.

    SQLite gives the -wal/-shm files the database file's mode, so they follow.
    """
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if part.stat().st_mode & 0o077:
                os.chmod(part, 0o600)
        except FileNotFoundError:
            pass


def _listing_row(r: sqlite3.Row) -> ListingRow:
    data = dict(r)
    data["explanation"] = json.loads(data["explanation"]) if data.get("explanation") else None
    return ListingRow(**data)



def _implements_store() -> None:  # pragma: no cover - checked by mypy, never called
    from connector.state.store import Store

    _store: type[Store] = StateStore
