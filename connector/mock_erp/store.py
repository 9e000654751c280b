"""In-memory tables with one-lock-per-call transactions and an undo journal.

Every RPC call runs inside `store.transaction()`: it holds the store's lock for the whole
call (so concurrent clients see each call as atomic), records the old value of every
field it changes (copy-on-write, not a copy of the database), undoes them all if the call
raises, and runs the post-commit callbacks (webhook) after the lock is released.
Usage::

    with store.transaction() as tx:
        rid = store.insert("res.partner", {"name": "X"})
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# (model, field) pairs kept in a value -> ids index; the domain engine narrows with them.
INDEXED: frozenset[tuple[str, str]] = frozenset(
    {
        ("stock.quant", "product_id"),
        ("stock.quant", "location_id"),
        ("stock.move", "picking_id"),
        ("stock.move", "product_id"),
        ("stock.move", "origin_returned_move_id"),
        ("stock.location", "location_id"),
        ("product.product", "product_tmpl_id"),
        ("marketplace.listing", "product_id"),
        ("marketplace.listing", "channel_id"),
        ("marketplace.allocation", "product_id"),
        ("marketplace.allocation", "channel_id"),
        ("stock.return.picking.line", "wizard_id"),
    }
)


@dataclass
class Transaction:
    """What one call changed: the undo journal and work to do after commit."""

    undo: list[Callable[[], None]] = field(default_factory=list)
    postcommit: list[Callable[[], None]] = field(default_factory=list)
    events: dict[tuple[int, str], int] = field(default_factory=dict)  # (product, reason) -> event id


class Store:
    """Tables `model -> id -> row`; rows hold stored field values (False when empty)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[int, dict[str, Any]]] = {}
        self.next_id: dict[str, int] = {}
        self.indexes: dict[tuple[str, str], dict[Any, set[int]]] = {key: {} for key in INDEXED}
        self.lock = threading.RLock()
        self.tx: Transaction | None = None
        # called after commit with the call's new outbox events (the webhook wake-up)
        self.on_events: Callable[[list[dict[str, Any]]], None] | None = None

    def table(self, model: str) -> dict[int, dict[str, Any]]:
        return self.tables.setdefault(model, {})

    def row(self, model: str, rid: int) -> dict[str, Any] | None:
        return self.tables.get(model, {}).get(rid)

    def index(self, model: str, fname: str) -> dict[Any, set[int]] | None:
        return self.indexes.get((model, fname))

    # -- writes (journaled) ---------------------------------------------------------
    def insert(self, model: str, row: dict[str, Any], rid: int | None = None) -> int:
        if rid is None:
            rid = self.next_id.get(model, 1)
        self.next_id[model] = max(self.next_id.get(model, 1), rid + 1)
        row["id"] = rid
        self.table(model)[rid] = row
        self._index_add(model, rid, row)
        if self.tx is not None:
            self.tx.undo.append(lambda: self._forget(model, rid))
        return rid

    def update(self, model: str, rid: int, vals: dict[str, Any]) -> None:
        row = self.tables[model][rid]
        old = {k: row.get(k, _MISSING) for k in vals}
        self._index_remove(model, rid, row, vals.keys())
        row.update(vals)
        self._index_add(model, rid, row, vals.keys())
        if self.tx is not None:
            self.tx.undo.append(lambda: self._raw_restore(model, rid, old))

    def delete(self, model: str, rid: int) -> None:
        row = self._raw_delete(model, rid)
        if self.tx is not None and row is not None:
            self.tx.undo.append(lambda: self._raw_reinsert(model, rid, row))

    # -- transactions -----------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.lock:
            if self.tx is not None:  # nested: part of the outer call
                yield self.tx
                return
            tx = self.tx = Transaction()
            try:
                yield tx
            except BaseException:
                for undo in reversed(tx.undo):
                    undo()
                raise
            finally:
                self.tx = None
        for callback in tx.postcommit:
            callback()

    # -- internals --------------------------------------------------------------------
    def _raw_delete(self, model: str, rid: int) -> dict[str, Any] | None:
        row = self.tables.get(model, {}).pop(rid, None)
        if row is not None:
            self._index_remove(model, rid, row)
        return row

    def _forget(self, model: str, rid: int) -> None:
        self._raw_delete(model, rid)

    def _raw_reinsert(self, model: str, rid: int, row: dict[str, Any]) -> None:
        self.table(model)[rid] = row
        self._index_add(model, rid, row)

    def _raw_restore(self, model: str, rid: int, old: dict[str, Any]) -> None:
        row = self.tables[model][rid]
        self._index_remove(model, rid, row, old.keys())
        for key, value in old.items():
            if value is _MISSING:
                row.pop(key, None)
            else:
                row[key] = value
        self._index_add(model, rid, row, old.keys())

    def _index_add(self, model: str, rid: int, row: dict[str, Any], keys: Any = None) -> None:
        for (m, f), idx in self.indexes.items():
            if m == model and (keys is None or f in keys):
                idx.setdefault(row.get(f, False), set()).add(rid)

    def _index_remove(self, model: str, rid: int, row: dict[str, Any], keys: Any = None) -> None:
        for (m, f), idx in self.indexes.items():
            if m == model and (keys is None or f in keys):
                ids = idx.get(row.get(f, False))
                if ids is not None:
                    ids.discard(rid)


class _Missing:
    pass


_MISSING: Any = _Missing()
