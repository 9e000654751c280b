"""The outbox: `marketplace.stock.event` rows written in the same transaction as stock.

`emit(env, product_id, reason, move_id)` writes at most one row per (product, reason)
per RPC call and, once per call, schedules the store's `on_events` callback (the webhook)
to run after commit — a rolled-back call leaves neither rows nor a wake-up. Usage::

    emit(env, product_id=7, reason="move_done", move_id=42)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.mock_erp.orm import Env


def emit(env: Env, product_id: int, reason: str, move_id: int | None = None) -> int:
    from connector.mock_erp.orm import now_str  # local: orm imports nothing of ours that imports us

    store = env.store
    tx = store.tx
    key = (product_id, reason)
    if tx is not None and key in tx.events:
        return tx.events[key]
    stamp = now_str()
    eid = store.insert("marketplace.stock.event", {
        "product_id": product_id, "reason": reason, "move_id": move_id or False,
        "create_date": stamp, "write_date": stamp, "create_uid": env.uid, "write_uid": env.uid,
    })
    if tx is not None:
        if not tx.events:
            tx.postcommit.append(lambda: _notify(store, tx.events))
        tx.events[key] = eid
    return eid


def _notify(store: Any, events: dict[tuple[int, str], int]) -> None:
    callback = getattr(store, "on_events", None)
    if callback is None:
        return
    payload = [{"id": eid, "product_id": pid, "reason": reason}
               for (pid, reason), eid in sorted(events.items(), key=lambda kv: kv[1])]
    callback(payload)
