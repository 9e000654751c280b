"""The outcome recorder's rules (Rule 6), one row each: what a push result becomes, when a
retry goes, when it gives up, and what the ledger keeps of it."""

from __future__ import annotations

import pytest

from connector.marketplaces.base import FailureCategory, PushResult, StockUpdate
from connector.marketplaces.base import Outcome as PushOutcome
from connector.state.rows import ListingMeta
from connector.stock.model import PushAction, SyncState
from connector.sync.dispatch import Job
from connector.sync.ledger import GAVE_UP, Known
from connector.sync.outcomes import Result, RetryPolicy, classify, next_known

NOW = 1_750_000_000.0
POLICY = RetryPolicy(max_attempts=3, base_s=5.0, max_s=60.0)


def job(qty: int = 4, action: PushAction = PushAction.SET) -> Job:
    meta = ListingMeta(listing_id=1, channel_code="amazon_de", marketplace="amazon", product_id=9,
                       sku="MUG", channel_sku="MUG-1")
    return Job(update=StockUpdate(1, "MUG-1", qty, action=action), meta=meta, trigger="event", events=[7])


def result(outcome: PushOutcome, **kw: object) -> PushResult:
    return PushResult(1, outcome, **kw)  # type: ignore[arg-type]


CASES = [
    # (name, job, result, known attempts, state, result, attempts after, error category)
    ("accepted", job(), result(PushOutcome.OK), 0, SyncState.SYNCED, Result.OK, 0, None),
    ("accepted deactivation", job(0, PushAction.DEACTIVATE), result(PushOutcome.OK), 0,
     SyncState.DEACTIVATED, Result.OK, 0, None),
    ("accepted end", job(0, PushAction.END), result(PushOutcome.OK), 2, SyncState.DEACTIVATED, Result.OK, 0, None),
    ("transient, first", job(), result(PushOutcome.RETRY, message="503"), 0,
     SyncState.PENDING, Result.RETRY, 1, None),
    ("transient, last allowed", job(), result(PushOutcome.RETRY, message="503"), 1,
     SyncState.PENDING, Result.RETRY, 2, None),
    ("transient, ran out", job(), result(PushOutcome.RETRY, message="503"), 2,
     SyncState.ERROR, Result.GAVE_UP, 0, GAVE_UP),
    ("deferred hold never counts", job(), result(PushOutcome.RETRY, retry_at=NOW + 60, deferred=True), 2,
     SyncState.PENDING, Result.RETRY, 2, None),
    ("locked", job(), result(PushOutcome.FAILED, category=FailureCategory.LOCKED), 0,
     SyncState.LOCKED, Result.FAILED, 0, "locked"),
    ("refused", job(), result(PushOutcome.FAILED, category=FailureCategory.VALIDATION), 0,
     SyncState.ERROR, Result.FAILED, 0, "validation"),
    ("failed without a category", job(), result(PushOutcome.FAILED), 0,
     SyncState.ERROR, Result.FAILED, 0, "other"),
]


@pytest.mark.parametrize(("name", "j", "res", "attempts", "state", "outcome", "after", "category"), CASES,
                         ids=[c[0] for c in CASES])
def test_classify(name: str, j: Job, res: PushResult, attempts: int, state: SyncState, outcome: Result,
                  after: int, category: str | None) -> None:
    known = Known(5, PushAction.SET, SyncState.SYNCED, 5, attempts=attempts)
    c = classify(j, res, known, NOW, POLICY, duration_ms=12.0)
    assert (c.record.state, c.record.result, c.attempts, c.record.error_category) == (state, outcome, after, category)
    assert c.record.old_qty == 5 and c.record.duration_ms == 12.0 and list(c.record.events) == [7]
    assert c.record.accepted is (outcome is Result.OK)
    assert (c.record.retry_due_at is not None) is (outcome is Result.RETRY)
    if outcome is Result.GAVE_UP:
        assert c.record.message.startswith(f"gave up after {attempts + 1} attempts")


@pytest.mark.parametrize(
    ("res", "attempts", "deferred", "due"),
    [
        (result(PushOutcome.RETRY), 1, False, NOW + 5),  # the backoff
        (result(PushOutcome.RETRY), 3, False, NOW + 20),  # doubled per attempt
        (result(PushOutcome.RETRY), 10, False, NOW + 60),  # capped
        (result(PushOutcome.RETRY, retry_at=NOW + 2), 1, False, NOW + 5),  # never before the backoff
        (result(PushOutcome.RETRY, retry_at=NOW + 30), 1, False, NOW + 30),  # nor before the marketplace's
        (result(PushOutcome.RETRY, retry_at=NOW + 2), 1, True, NOW + 2),  # a hold goes at its slot
        (result(PushOutcome.RETRY, retry_at=NOW + 0.2), 1, True, NOW + 1),  # but not in under a second
        (result(PushOutcome.RETRY, applied_quantity=3), 4, False, NOW + 1),  # compare-and-set: fresh read now
    ],
)
def test_retry_due(res: PushResult, attempts: int, deferred: bool, due: float) -> None:
    assert POLICY.due(NOW, res, attempts, deferred) == pytest.approx(due)


def test_the_ledger_keeps_the_accepted_value_and_the_marketplace_answer() -> None:
    prior = Known(5, PushAction.SET, SyncState.SYNCED, 5, pushed_action=PushAction.SET)
    ok = classify(job(4), result(PushOutcome.OK), prior, NOW, POLICY)
    after = next_known(ok.record, prior, ok.attempts, ok.remote_qty)
    assert (after.pushed_qty, after.wanted_qty, after.remote_qty, after.state) == (4, 4, None, SyncState.SYNCED)

    stale = classify(job(3), result(PushOutcome.RETRY, applied_quantity=7), after, NOW, POLICY)
    kept = next_known(stale.record, after, stale.attempts, stale.remote_qty)
    assert (kept.pushed_qty, kept.wanted_qty, kept.remote_qty, kept.expected_qty) == (4, 3, 7, 7)

    again = classify(job(3), result(PushOutcome.RETRY), kept, NOW, POLICY)
    assert next_known(again.record, kept, again.attempts, again.remote_qty).remote_qty == 7  # still known

    gave_up = classify(job(3), result(PushOutcome.RETRY), Known(3, PushAction.SET, SyncState.PENDING, 4, attempts=2),
                       NOW, POLICY)
    assert next_known(gave_up.record, kept, gave_up.attempts, gave_up.remote_qty).gave_up
