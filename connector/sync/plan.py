"""The plan: which computed listings to push, and why. Pure: no I/O, no locks, no clock.

Input: the computation's results, each listing's baseline (what the marketplace has or is
about to get) and the mode of the run; output: one `Decision` per listing in scope. The
engine acts on the decisions (hand-over to the workers, report, audit queue); `explain`
and every trigger use the same functions, so there is one diff, not a copy per caller.

Usage::

    mode = PlanMode(trigger=Trigger.EVENT)
    for d in plan(results, {r.listing_id: baseline(known, scheduled) for r in results}, mode):
        if d.push: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from connector.state.rows import ListingMeta
from connector.stock.model import Listing, PushAction, StockSnapshot, ZeroStockAction
from connector.sync.ledger import Known
from connector.sync.ports import ComputeFn, ListingResultLike

# Actions that switch a listing back on; a SET that keeps the number of one of these is
# not a change (the listing stays switched on).
BACK_IN_STOCK = frozenset({PushAction.REACTIVATE, PushAction.RELIST})
ZERO_ACTIONS = frozenset({PushAction.DEACTIVATE, PushAction.END})

Scheduled = tuple[int, PushAction]  # the (quantity, action) a channel worker holds for a listing


class Trigger(StrEnum):
    """Why values are computed: journaled with every push (Rule 8)."""

    STARTUP = "startup"  # the first full sync
    RESYNC = "resync"  # a resync command, the scheduled full resync
    EVENT = "event"  # the change feed / a webhook
    MANUAL = "manual"  # a plain wake-up without a change feed
    RETRY = "retry"  # the retry queue's due listings
    DRIFT = "drift"  # the drift audit found the marketplace changed


class Reason(StrEnum):
    """Why a listing is pushed."""

    FIRST = "first"  # nothing was ever recorded for it
    CHANGED = "changed"  # the value differs from the baseline
    FORCED = "forced"  # unchanged, pushed anyway (--force, the safety net)
    RETRY = "retry"  # unchanged, due in the retry queue
    DRIFT = "drift"  # unchanged, but the marketplace drifted


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the marketplace has or will have for one listing, newest first."""

    qty: int | None = None
    action: PushAction | None = None
    settled: bool = False  # a durable outcome or a scheduled push exists
    scheduled: Scheduled | None = None  # the value a worker holds for it now
    needs_repair: bool = False


def baseline(known: Known | None, scheduled: Scheduled | None) -> Baseline:
    """The baseline from the worker's queued value, else the ledger's last durable outcome
    (any: error and locked too, Rule 6; pending means parked in the retry queue, which
    owns that value)."""
    repair = known.needs_repair if known is not None else False
    if scheduled is not None:
        return Baseline(scheduled[0], scheduled[1], True, scheduled, repair)
    if known is None:
        return Baseline()
    return Baseline(known.wanted_qty, known.wanted_action, True, None, repair)


@dataclass(frozen=True, slots=True)
class PlanMode:
    """How a run decides (one value, instead of a flag per caller)."""

    trigger: str = Trigger.EVENT
    force: bool = False  # push unchanged values too
    force_ids: frozenset[int] = frozenset()  # ... of these listings only
    channels: frozenset[str] | None = None  # only these channels (None: all)
    disabled: frozenset[str] = frozenset()  # never these channels
    repair: bool = False  # the safety net: also listings whose Known.needs_repair
    dry_run: bool = False  # decide and report, push nothing

    def in_scope(self, channel_code: str) -> bool:
        return channel_code not in self.disabled and (self.channels is None or channel_code in self.channels)


@dataclass(frozen=True, slots=True)
class Decision:
    result: ListingResultLike
    old_qty: int | None
    old_action: PushAction | None
    push: bool
    reason: Reason | None = None  # with push
    scheduled: Scheduled | None = None  # unchanged but on its way: wait for that push


def unchanged(result: ListingResultLike, base: Baseline) -> bool:
    return base.settled and base.qty == result.quantity and (
        base.action == result.action
        # a listing switched back on (or about to be) that keeps its number
        or (base.action in BACK_IN_STOCK and result.action is PushAction.SET)
    )


def decide(result: ListingResultLike, base: Baseline, mode: PlanMode) -> Decision:
    """One listing's decision (the caller has checked `mode.in_scope`)."""
    same = unchanged(result, base)
    forced = mode.force or result.listing_id in mode.force_ids or (mode.repair and base.needs_repair)
    if same and not forced:
        return Decision(result, base.qty, base.action, push=False, scheduled=base.scheduled)
    reason = Reason.FIRST if base.qty is None else (Reason.CHANGED if not same else Reason.FORCED)
    if same and mode.trigger in (Trigger.RETRY, Trigger.DRIFT):
        reason = Reason(str(mode.trigger))
    return Decision(result, base.qty, base.action, push=True, reason=reason)


def plan(
    results: Iterable[ListingResultLike], baselines: Mapping[int, Baseline], mode: PlanMode
) -> list[Decision]:
    """A decision for every result in scope, in the results' order."""
    empty = Baseline()
    return [
        decide(r, baselines.get(r.listing_id, empty), mode) for r in results if mode.in_scope(r.channel_code)
    ]


def previous_actions(
    snapshot: StockSnapshot, lookup: Callable[[str, int], PushAction | None]
) -> dict[int, PushAction]:
    """listing id -> the action its marketplace has or is about to get, for the computation
    (`lookup(channel_code, listing_id)`)."""
    codes = {c.id: c.code for c in snapshot.channels.values()}
    previous: dict[int, PushAction] = {}
    for listing in snapshot.listings:
        action = lookup(codes.get(listing.channel_id, ""), listing.id)
        if action is not None:
            previous[listing.id] = action
    return previous


def listing_meta(
    result: ListingResultLike, snapshot: StockSnapshot, listings: Mapping[int, Listing]
) -> ListingMeta:
    """How the journal and the reports name a computed listing."""
    listing = listings.get(result.listing_id)
    product = snapshot.products.get(result.product_id)
    return ListingMeta(
        listing_id=result.listing_id,
        channel_code=result.channel_code,
        marketplace=result.marketplace,
        product_id=result.product_id,
        sku=(product.default_code if product and product.default_code else result.sku) or "",
        channel_sku=listing.channel_sku if listing is not None else result.sku,
        external_id=result.external_id,
    )


def scoped(results: Sequence[ListingResultLike], mode: PlanMode) -> list[ListingResultLike]:
    """The results of the channels this run covers."""
    return [r for r in results if mode.in_scope(r.channel_code)]


Compute = Callable[[StockSnapshot, Mapping[int, PushAction]], Sequence[ListingResultLike]]


def bind_compute(
    compute: ComputeFn,
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None,
    marketplace_caps: Mapping[str, int] | None = None,
) -> Compute:
    """(snapshot, previous actions) -> results, with the marketplaces' defaults bound."""

    def run(snapshot: StockSnapshot, previous: Mapping[int, PushAction]) -> Sequence[ListingResultLike]:
        return compute(
            snapshot,
            snapshot.taken_at,
            previous_actions=previous,
            zero_stock_defaults=zero_stock_defaults,
            marketplace_caps=marketplace_caps,
        )

    return run
