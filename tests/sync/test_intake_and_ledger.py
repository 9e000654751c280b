"""Two rooms of the engine alone: the trigger intake (what woke it, not read yet) and the
listing ledger (each listing's last durable value, loaded from the state file)."""

from __future__ import annotations

from pathlib import Path

from connector.state.rows import ListingMeta, PushRecord
from connector.state.sqlite import StateStore
from connector.stock.model import PushAction, SyncState
from connector.sync.intake import TriggerIntake
from connector.sync.ledger import GAVE_UP, Known, ListingLedger


def test_intake_takes_everything_once_and_keeps_the_first_wake_up() -> None:
    intake = TriggerIntake()
    intake.add([1], [(101, 2, "move_done")], now=10.0)
    intake.add([], [(102, 2, "manual"), (103, 3, "move_done")], now=11.0)
    assert intake.pending() and intake.last_wake == 11.0
    products, announced, first = intake.take()
    assert products == {1, 2, 3} and first == 10.0
    assert announced == {2: {101: "move_done", 102: "manual"}, 3: {103: "move_done"}}
    assert not intake.pending() and intake.take() == (set(), {}, None)


def test_intake_gets_back_what_a_failed_read_took() -> None:
    intake = TriggerIntake()
    intake.add([1], [(101, 1, "move_done")], now=5.0)
    products, announced, first = intake.take()
    intake.add([2], [], now=6.0)  # a wake-up while the read failed
    intake.put_back(products, announced, first)
    again, events, woken = intake.take()
    assert again == {1, 2} and events == {1: {101: "move_done"}}
    assert woken == 6.0  # the newer wake-up's time stays: it is still unflushed


def test_intake_signals_both_waiters() -> None:
    intake = TriggerIntake()
    intake.signal()
    assert intake.wake.is_set() and intake.fast_wake.is_set()
    intake.add([], [], now=1.0)
    assert intake.take_woken() == 1.0 and intake.take_woken() is None


def _record(listing_id: int, qty: int, state: SyncState, result: str, accepted: bool, **kw: object) -> PushRecord:
    meta = ListingMeta(listing_id, "amazon_de", "amazon", 7, "MUG", "MUG-1")
    return PushRecord(meta=meta, quantity=qty, action=PushAction.SET, state=state, result=result,
                      accepted=accepted, **kw)  # type: ignore[arg-type]


def test_the_ledger_loads_durable_values_attempts_and_give_ups(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    try:
        store.record_outcomes([
            _record(1, 5, SyncState.SYNCED, "ok", True),
            _record(2, 3, SyncState.PENDING, "retry", False, retry_due_at=9e9, message="503"),
            _record(3, 4, SyncState.ERROR, "gave_up", False, error_category=GAVE_UP, message="gave up after 12"),
        ])
        store.record_outcomes([_record(2, 3, SyncState.PENDING, "retry", False, retry_due_at=9e9)])
        ledger = ListingLedger.load(store)
    finally:
        store.close()
    known = ledger.entries([1, 2, 3, 4])
    assert set(known) == {1, 2, 3}  # 4 was never recorded
    assert (known[1].pushed_qty, known[1].wanted_qty, known[1].state) == (5, 5, SyncState.SYNCED)
    assert known[2].pushed_qty is None and known[2].wanted_qty == 3 and known[2].attempts >= 1
    assert known[3].gave_up and known[3].needs_repair


def test_the_ledger_replaces_entries_whole() -> None:
    ledger = ListingLedger({1: Known(5, PushAction.SET, SyncState.SYNCED, 5)})
    before = ledger.get(1)
    ledger.replace({1: Known(4, PushAction.SET, SyncState.PENDING, 5)})
    assert before is not None and before.wanted_qty == 5  # a reader's copy never changes under it
    after = ledger.get(1)
    assert after is not None and after.wanted_qty == 4
