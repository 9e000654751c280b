"""The outbox's ids come from a PostgreSQL sequence: a lower id can commit after a higher one.

Two ERP transactions take event ids 41 and 42; 42 commits first, the bridge reads it and
moves its cursor to 42; then 41 commits. A poller that only asks for `id > cursor` never
sees 41, and that product's channels stay wrong until the next safety-net resync (10 min
by default). The bridge must re-read such gaps for a while.

The mock ERP runs one call at a time, so it cannot interleave two transactions by itself:
the test hands the late transaction its (lower) id by setting the mock's id counter back
for the duration of one ordinary RPC call. Everything else is the normal path: RPC
adjustment, post-commit webhook, outbox read.
"""

from __future__ import annotations

import pytest

from tests.e2e.harness import Stack

pytestmark = pytest.mark.timeout(60)
EVENT = "marketplace.stock.event"


def test_an_event_committed_late_with_a_lower_id_is_not_lost(stack: Stack) -> None:
    store = stack.erp.db.store
    stack.settle()
    # Transaction T1 takes the next id from the sequence but does not commit yet.
    late_id = store.next_id.get(EVENT, 1)
    store.next_id[EVENT] = late_id + 1
    # Transaction T2 commits first: PEN-GEL-BLK 250 -> 200 on WH/Stock (+120 on WH2 Bin 1).
    stack.rpc.set_quantity("PEN-GEL-BLK", "WH/Stock", 200)
    stack.settle()
    assert stack.qty("PEN-GEL-BLK")["shopify_eu"] == 320
    assert stack.rpc.last_event_id() == late_id + 1
    # Now T1 commits, with its lower id: TEA-GREEN-100 80 -> 50 on WH/Stock (+40 on WH2).
    resume = store.next_id[EVENT]
    store.next_id[EVENT] = late_id
    try:
        stack.rpc.set_quantity("TEA-GREEN-100", "WH/Stock", 50)
    finally:
        store.next_id[EVENT] = resume
    assert stack.rpc("marketplace.stock.event", "search_read", [["id", "=", late_id]], ["product_id"]), \
        "the late event should carry the lower id"
    stack.wait_for(lambda: stack.qty("TEA-GREEN-100")["shopify_eu"] == 90, timeout=5,
                   what="the late (lower-id) event to reach the channels")
    stack.settle()
    assert stack.qty("TEA-GREEN-100") == {"amazon_de": 90, "kaufland_de": 90, "shopify_eu": 90, "woo_shop": 90}


# -- the feed's gap rules, without a server ----------------------------------------------------------

class _Event:
    def __init__(self, eid: int, product_id: int, reason: str = "move_done") -> None:
        self.id, self.product_id, self.reason = eid, product_id, reason


class _Outbox:
    """An outbox whose rows appear in the order a test commits them."""

    def __init__(self) -> None:
        self.rows: dict[int, int] = {}

    def read(self, after_id: int, limit: int = 1000) -> list[_Event]:
        return [_Event(i, p) for i, p in sorted(self.rows.items()) if i > after_id][:limit]

    def read_ids(self, ids: list[int]) -> list[_Event]:
        return [_Event(i, self.rows[i]) for i in ids if i in self.rows]

    def latest_id(self) -> int:
        return max(self.rows, default=0)


def test_feed_rereads_gaps_until_filled_or_timed_out_and_replays_a_failed_read() -> None:
    from connector.state.sqlite import StateStore
    from connector.sync.wiring import OutboxChangeFeed

    now = [1000.0]
    outbox = _Outbox()
    feed = OutboxChangeFeed(outbox, gap_timeout_s=60, clock=lambda: now[0])
    outbox.rows.update({1: 11, 3: 13, 5: 15})  # 2 and 4 still in flight
    products, pos = feed.read(0)
    assert products == {11: [1], 13: [3], 15: [5]}
    assert pos == {"high": 5, "gaps": {"2": 1000.0, "4": 1000.0}}
    # a failed flush reads again from the same position and gets the same events
    assert feed.read(0)[0] == products
    outbox.rows[4] = 14  # commits late
    products, pos = feed.read(pos)
    assert products == {14: [4]} and pos == {"high": 5, "gaps": {"2": 1000.0}}
    # the position survives the state file (JSON) and a restart
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore.open(Path(tmp) / "s.sqlite3")
        store.set_cursor("outbox", pos)
        assert store.get_cursor("outbox") == pos
        store.close()
    now[0] += 61  # id 2 was rolled back: the gap is given up, the cursor becomes a plain id
    outbox.rows[6] = 16
    products, pos = feed.read(pos)
    assert products == {16: [6]} and pos == 6
