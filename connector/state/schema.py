"""The state file's schema: ordered migrations, one transaction each (see sqlite.py).

Each entry moves the schema from version i to i + 1. Never edit a released entry: add one.
A second backend (PostgreSQL) keeps its own DDL but the same tables and columns.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE listing (
        listing_id     INTEGER PRIMARY KEY,
        channel_code   TEXT NOT NULL,
        marketplace    TEXT NOT NULL DEFAULT '',
        product_id     INTEGER NOT NULL,
        sku            TEXT NOT NULL DEFAULT '',
        channel_sku    TEXT NOT NULL DEFAULT '',
        external_id    TEXT,
        pushed_qty     INTEGER,
        pushed_action  TEXT,
        pushed_at      REAL,
        wanted_qty     INTEGER,
        wanted_action  TEXT,
        state          TEXT NOT NULL DEFAULT 'pending',
        last_error     TEXT,
        error_category TEXT,
        updated_at     REAL NOT NULL,
        explanation    TEXT
    );
    CREATE INDEX listing_sku ON listing (sku);
    CREATE INDEX listing_channel ON listing (channel_code);
    CREATE TABLE cursor (
        name       TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE retry (
        listing_id   INTEGER PRIMARY KEY,
        channel_code TEXT NOT NULL,
        product_id   INTEGER NOT NULL,
        quantity     INTEGER NOT NULL,
        action       TEXT NOT NULL,
        attempts     INTEGER NOT NULL,
        due_at       REAL NOT NULL,
        last_message TEXT NOT NULL DEFAULT '',
        created_at   REAL NOT NULL
    );
    CREATE INDEX retry_due ON retry (due_at);
    CREATE TABLE journal (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        at           REAL NOT NULL,
        channel_code TEXT NOT NULL,
        listing_id   INTEGER NOT NULL,
        sku          TEXT NOT NULL,
        channel_sku  TEXT NOT NULL,
        old_qty      INTEGER,
        new_qty      INTEGER NOT NULL,
        action       TEXT NOT NULL,
        events       TEXT NOT NULL DEFAULT '[]',
        trigger      TEXT NOT NULL DEFAULT '',
        result       TEXT NOT NULL,
        message      TEXT NOT NULL DEFAULT '',
        duration_ms  REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX journal_sku ON journal (sku, at);
    CREATE INDEX journal_at ON journal (at);
    """,
    """
    CREATE TABLE alert (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        kind       TEXT NOT NULL,
        product_id INTEGER NOT NULL,
        sku        TEXT NOT NULL DEFAULT '',
        message    TEXT NOT NULL,
        opened_at  REAL NOT NULL,
        cleared_at REAL
    );
    CREATE UNIQUE INDEX alert_open ON alert (kind, product_id) WHERE cleared_at IS NULL;
    """,
    # Credentials a marketplace replaced (rotating refresh tokens): never journaled or logged.
    # `origin` is a fingerprint of the config value the rotation started from, so a start-up
    # can tell "config unchanged, the stored value is newer" from "operator re-authorized".
    """
    CREATE TABLE credential (
        channel_code TEXT NOT NULL,
        key          TEXT NOT NULL,
        value        TEXT NOT NULL,
        origin       TEXT NOT NULL DEFAULT '',
        updated_at   REAL NOT NULL,
        PRIMARY KEY (channel_code, key)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> list[str]:
    """The statements of one migration script, in order."""
    return [s.strip() for s in script.split(";") if s.strip()]
