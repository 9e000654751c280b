"""The published number and action of every listing in a snapshot, one listing at a time:
DESIGN.md's formula written out plainly. This is the reference that the columnar fast path
(fast.py) must equal (tests/stock/test_fast_path.py compares them on random shops), and
what a lazy explanation (table.py) runs on one product's slice of the inputs.

    locations(C) = internal, active, same-company locations under C's warehouses' stock
                   locations, minus C's excluded locations and their children, each once
    free(P, C)   = Σ (quantity − reserved_quantity) of P's non-consigned quants in locations(C)
    held(P, ¬C)  = Σ quantity of the active allocations and reservations of P of other channels
    pool(P, C)   = min(A, free − held) when C has an active allocation A of P, else free − held
    published(L) = clamp(floor((pool − buffer(L)) / pack_size), 0, cap)
    action(L)    = published > 0 ? SET (REACTIVATE / RELIST after DEACTIVATE / END)
                                 : the channel's zero-stock behaviour

Free stock below zero on any channel's locations means an oversell happened: every
listing of that product publishes 0 and is flagged `oversold`.

Everything is indexed once per call (location scopes per channel configuration, quants
and holds per product), so a call costs a few microseconds per listing.

Usage::

    results = compute_listings_reference(snapshot, datetime.now(UTC),
                                         previous_actions={12: PushAction.DEACTIVATE})
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Mapping
from datetime import datetime

from connector.stock.buffers import BufferBreakdown, listing_buffer
from connector.stock.model import (
    Listing,
    PushAction,
    Quant,
    StockSnapshot,
    ZeroStockAction,
)
from connector.stock.plans import (
    BACK_IN_STOCK,
    EPS,
    ChannelContext,
    ChannelPlan,
    active_holds,
    holds_of,
)
from connector.stock.result import (
    NO_HOLDS,
    FreeStock,
    Holds,
    ListingResult,
    build_result,
    listing_cap,
)

__all__ = ["compute_listings_reference"]

_SET = PushAction.SET
_BACK_IN_STOCK = BACK_IN_STOCK
_EPS = EPS


class _Computation:
    """One call's indexes. Not reused across snapshots (truth is never cached); the
    configuration part (ChannelContext) may be handed in when the caller has it."""

    def __init__(self, snapshot: StockSnapshot, now: datetime, context: ChannelContext) -> None:
        self.now = now
        self.partners = snapshot.company_partner_ids
        self.scopes = context.scopes
        self.plans = context.plans
        self.channel_codes = context.channel_codes
        self.free: list[dict[int, FreeStock]] = [{} for _ in self.scopes]
        quants: dict[int, list[Quant]] = {}
        for q in snapshot.quants:
            quants.setdefault(q.product_id, []).append(q)
        self.quants = {pid: tuple(qs) for pid, qs in quants.items()}
        self.active_holds = active_holds(snapshot.allocations, now)
        self.holds: dict[tuple[int, int], Holds] = {}

    def free_stock(self, product_id: int, scope_index: int) -> FreeStock:
        cache = self.free[scope_index]
        stock = cache.get(product_id)
        if stock is None:
            stock = FreeStock.compute(
                product_id,
                self.scopes[scope_index],
                self.quants.get(product_id, ()),
                self.partners,
            )
            cache[product_id] = stock
        return stock

    def holds_for(self, product_id: int, channel_id: int) -> Holds:
        active = self.active_holds.get(product_id)
        if not active:
            return NO_HOLDS
        key = (product_id, channel_id)
        holds = self.holds.get(key)
        if holds is None:
            holds = holds_of(active, channel_id, self.channel_codes)
            self.holds[key] = holds
        return holds

    def buffer_for(self, plan: ChannelPlan, listing: Listing) -> BufferBreakdown:
        if listing.buffer_qty is not None:
            return listing_buffer(listing, plan.channel.buffer, self.now)
        return plan.buffer(listing.velocity_class, self.now)

    def run(
        self,
        snapshot: StockSnapshot,
        wanted: frozenset[int] | None,
        previous: Mapping[int, PushAction],
    ) -> list[ListingResult]:
        """The hot loop: everything per listing is a dict lookup or cached, nothing else."""
        product_ids = snapshot.product_ids
        if wanted is not None:
            # Oversold is decided over all listings of a product, so keep the wanted
            # listings' products whole, and only those.
            product_ids = product_ids & {
                listing.product_id for listing in snapshot.listings if listing.id in wanted
            }
        plans, free_caches, active_holds = self.plans, self.free, self.active_holds
        oversold: dict[int, set[str]] = {}
        results: list[ListingResult] = []
        append = results.append
        for listing in snapshot.listings:
            pid = listing.product_id
            if not listing.active or pid not in product_ids:
                continue
            plan = plans.get(listing.channel_id)
            if plan is None:
                continue
            cache = free_caches[plan.scope_index]
            stock = cache.get(pid)
            if stock is None:
                stock = self.free_stock(pid, plan.scope_index)
            free = stock.free
            channel = plan.channel
            if free < 0:
                oversold.setdefault(pid, set()).add(channel.code)
            if wanted is not None and listing.id not in wanted:
                continue
            if pid in active_holds:
                holds = self.holds_for(pid, channel.id)
                if holds.own_allocation is not None:
                    pool = min(holds.own_allocation, free - holds.held)
                else:
                    pool = free - holds.held
            else:
                holds, pool = NO_HOLDS, free
            if listing.buffer_qty is None:
                buffer = plan.buffers.get(listing.velocity_class)
                if buffer is None:
                    buffer = self.buffer_for(plan, listing)
            else:
                buffer = listing_buffer(listing, channel.buffer, self.now)
            pack = listing.pack_size
            if free < 0:
                published = 0  # the other channels of this product follow below
            elif pack > 1:
                published = math.floor((pool - buffer.total) / pack + _EPS)
            else:
                published = math.floor(pool - buffer.total + _EPS)
            if published <= 0:
                published, action = 0, plan.zero_push
            else:
                market_max = plan.marketplace_max
                if listing.max_qty > 0 or channel.max_qty > 0 or market_max:
                    cap = listing_cap(listing, channel, market_max)[0]
                    if cap is not None and published > cap:
                        published = cap
                before = previous.get(listing.id)
                action = _SET if before is None else _BACK_IN_STOCK.get(before, _SET)
            append(
                build_result(
                    listing, channel, stock, holds, buffer, pool, published, action, (),
                    plan.marketplace_max,
                )
            )
        if oversold:
            self._zero_oversold(results, {p: tuple(sorted(c)) for p, c in oversold.items()})
        return results

    def _zero_oversold(
        self, results: list[ListingResult], oversold: Mapping[int, tuple[str, ...]]
    ) -> None:
        """Free stock below zero anywhere a product is listed: 0 on all its listings."""
        for i, r in enumerate(results):
            bad = oversold.get(r.product_id)
            if bad is not None:
                e = r.explanation
                plan = self.plans[r.channel_id]
                results[i] = build_result(
                    e.listing, e.channel, e.stock, e.holds, e.buffer_rule, e.pool, 0,
                    plan.zero_push, bad, plan.marketplace_max,
                )  # fmt: skip



def compute_listings_reference(
    snapshot: StockSnapshot,
    now: datetime,
    *,
    previous_actions: Mapping[int, PushAction] | None = None,
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None,
    listing_ids: Iterable[int] | None = None,
    marketplace_caps: Mapping[str, int] | None = None,
    context: ChannelContext | None = None,
) -> list[ListingResult]:
    """One ListingResult per active listing of an active channel whose product is in the
    snapshot, in the snapshot's listing order (restricted to `listing_ids` if given).

    `previous_actions`: the last action pushed per listing id (turns SET into REACTIVATE
    after a DEACTIVATE, RELIST after an END). `zero_stock_defaults`: marketplace -> default
    zero-stock behaviour for channels that do not set their own (fallback: push 0).
    `marketplace_caps`: marketplace -> the most it stores for one listing (the adapters'
    `max_quantity`, e.g. bol 999); capped like max_qty, cap source "marketplace max".
    `context`: the configuration's scopes and plans when the caller built them already
    (built from the snapshot otherwise; it must come from the same configuration).

    The cyclic garbage collector is paused for the duration of the call (and restored as
    it was): the call makes two records per listing and none of them form cycles.

    Usage: ``compute_listings_reference(snap, now, listing_ids={12})[0].explanation.render()``
    """
    if context is None:
        context = ChannelContext.build(
            snapshot.channels, snapshot.locations, snapshot.warehouses,
            zero_stock_defaults, marketplace_caps,
        )  # fmt: skip
    calc = _Computation(snapshot, now, context)
    wanted = None if listing_ids is None else frozenset(listing_ids)
    # Half a million short-lived records would trigger the cyclic GC dozens of times over a
    # heap that holds the whole snapshot; none of them form cycles, so pause it meanwhile.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return calc.run(snapshot, wanted, previous_actions or {})
    finally:
        if gc_was_enabled:
            gc.enable()
