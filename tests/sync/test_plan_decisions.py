"""The plan's rules, one row each: which computed listings are pushed and why (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from connector.stock.model import PushAction, SyncState
from connector.sync.ledger import Known
from connector.sync.plan import Baseline, PlanMode, Reason, Trigger, baseline, decide, plan

SET, DEACT, REACT, RELIST = PushAction.SET, PushAction.DEACTIVATE, PushAction.REACTIVATE, PushAction.RELIST


@dataclass(frozen=True)
class Result:
    """A computed listing, as much of connector.stock.result.ListingResult as the plan reads."""

    listing_id: int = 1
    quantity: int = 5
    action: PushAction = SET
    channel_code: str = "amazon_de"
    marketplace: str = "amazon"
    product_id: int = 10
    channel_id: int = 1
    sku: str = "MUG"
    external_id: str | None = None
    oversold: bool = False
    explanation: Any = field(default=None)


SETTLED_5 = Baseline(5, SET, settled=True)

CASES = [
    # (name, result, baseline, mode, push, reason)
    ("never pushed", Result(), Baseline(), PlanMode(), True, Reason.FIRST),
    ("same value: skipped", Result(), SETTLED_5, PlanMode(), False, None),
    ("new number", Result(quantity=4), SETTLED_5, PlanMode(), True, Reason.CHANGED),
    ("new action, same number", Result(quantity=5, action=DEACT), SETTLED_5, PlanMode(), True, Reason.CHANGED),
    ("forced", Result(), SETTLED_5, PlanMode(force=True), True, Reason.FORCED),
    ("forced by id", Result(), SETTLED_5, PlanMode(force_ids=frozenset({1})), True, Reason.FORCED),
    ("forced, another id", Result(), SETTLED_5, PlanMode(force_ids=frozenset({2})), False, None),
    ("retry of an unchanged value", Result(), SETTLED_5,
     PlanMode(trigger=Trigger.RETRY, force_ids=frozenset({1})), True, Reason.RETRY),
    ("drift of an unchanged value", Result(), SETTLED_5,
     PlanMode(trigger=Trigger.DRIFT, force_ids=frozenset({1})), True, Reason.DRIFT),
    ("retry of a changed value says changed", Result(quantity=3), SETTLED_5,
     PlanMode(trigger=Trigger.RETRY, force_ids=frozenset({1})), True, Reason.CHANGED),
    ("back in stock keeps its number: SET is no change", Result(quantity=5, action=SET),
     Baseline(5, REACT, settled=True), PlanMode(), False, None),
    ("relisted keeps its number: SET is no change", Result(quantity=5, action=SET),
     Baseline(5, RELIST, settled=True), PlanMode(), False, None),
    ("a value not settled is pushed", Result(), Baseline(5, SET, settled=False), PlanMode(), True, Reason.CHANGED),
    ("repair of a listing that needs it", Result(), Baseline(5, SET, settled=True, needs_repair=True),
     PlanMode(repair=True), True, Reason.FORCED),
    ("repair leaves a sound listing", Result(), SETTLED_5, PlanMode(repair=True), False, None),
    ("needs repair, but no repair run", Result(), Baseline(5, SET, settled=True, needs_repair=True),
     PlanMode(), False, None),
]


@pytest.mark.parametrize(("name", "result", "base", "mode", "push", "reason"), CASES, ids=[c[0] for c in CASES])
def test_decide(name: str, result: Result, base: Baseline, mode: PlanMode, push: bool, reason: Reason | None) -> None:
    decision = decide(result, base, mode)
    assert (decision.push, decision.reason) == (push, reason)
    assert (decision.old_qty, decision.old_action) == (base.qty, base.action)


def test_an_unchanged_value_on_its_way_names_the_scheduled_push() -> None:
    base = baseline(None, (5, SET))
    decision = decide(Result(), base, PlanMode())
    assert not decision.push and decision.scheduled == (5, SET)


def test_plan_leaves_out_disabled_and_unasked_channels_and_keeps_order() -> None:
    results = [Result(1, channel_code="a"), Result(2, channel_code="b"), Result(3, channel_code="c")]
    decisions = plan(results, {}, PlanMode(channels=frozenset({"a", "b"}), disabled=frozenset({"b"})))
    assert [d.result.listing_id for d in decisions] == [1]
    assert [d.result.listing_id for d in plan(results, {}, PlanMode())] == [1, 2, 3]


@pytest.mark.parametrize(
    ("known", "scheduled", "expected"),
    [
        (None, None, Baseline()),
        (None, (3, DEACT), Baseline(3, DEACT, True, (3, DEACT))),
        (Known(5, SET, SyncState.SYNCED, 5), None, Baseline(5, SET, True)),
        # the worker's queued value is newer than the ledger's
        (Known(5, SET, SyncState.SYNCED, 5), (2, SET), Baseline(2, SET, True, (2, SET))),
        # an error is a durable outcome too (Rule 6: not retried forever)
        (Known(5, SET, SyncState.ERROR, None), None, Baseline(5, SET, True)),
        (Known(5, SET, SyncState.ERROR, None, gave_up=True), None, Baseline(5, SET, True, needs_repair=True)),
        (Known(5, SET, SyncState.SYNCED, 4), None, Baseline(5, SET, True, needs_repair=True)),
    ],
)
def test_baseline(known: Known | None, scheduled: tuple[int, PushAction] | None, expected: Baseline) -> None:
    assert baseline(known, scheduled) == expected


@pytest.mark.parametrize(
    ("known", "previous", "expected_qty", "repair"),
    [
        (Known(4, REACT, SyncState.PENDING, 0, pushed_action=DEACT), DEACT, 0, False),  # refused: still off
        (Known(4, SET, SyncState.SYNCED, 4), SET, 4, False),
        (Known(4, SET, SyncState.PENDING, 3, remote_qty=7), SET, 7, False),  # compare-and-set answer
        (Known(4, SET, SyncState.LOCKED, 3), SET, 3, False),  # locked stays (Rule 6)
        (Known(4, SET, SyncState.PENDING, 3), SET, 3, False),  # the retry queue owns it
    ],
)
def test_known_listing_answers(known: Known, previous: PushAction, expected_qty: int, repair: bool) -> None:
    assert known.previous_action is previous
    assert known.expected_qty == expected_qty
    assert known.needs_repair is repair
