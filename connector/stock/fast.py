"""The formula of reference.py over columns: every listing at once, with numpy.

Same inputs, same numbers, same actions, same order as compute_listings_reference
(tests/stock/test_fast_path.py holds the two equal on random shops); what it does not make
is the per-listing records: the result is a ResultTable of a few arrays, and a listing's
explanation is worked out from the inputs only when someone asks for it (table.py).

How each step stays equal to the per-listing loop, not just close:
- free(P, scope): the product's counted quants are summed in snapshot order (bincount adds
  its weights in input order, as the loop does), then rounded to 6 places with Python's
  own round for the totals that are not whole (a whole float rounds to itself);
- holds: only products with active allocations (a few by nature) go through the shared
  `holds_of`, once per (product, channel);
- buffer, pack, floor, cap: the same IEEE operations, element-wise.

Usage::

    table = compute_table(ColumnarSnapshot.from_snapshot(snapshot), now)
    table.quantity[i], table.action_of(i), table[i].explanation.render()
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np

from connector.stock.baseline import Baseline
from connector.stock.columns import NONE_ID, ColumnarSnapshot, Floats, Int64s, ids_array
from connector.stock.model import PushAction, ZeroStockAction
from connector.stock.plans import EPS, ChannelContext, ChannelPlan, active_holds, holds_of
from connector.stock.table import ACTION_CODE, ResultTable

__all__ = ["compute_table"]

_SET = ACTION_CODE[PushAction.SET]
_REACTIVATE = ACTION_CODE[PushAction.REACTIVATE]
_RELIST = ACTION_CODE[PushAction.RELIST]
# Published numbers are stored as int64; a pool beyond this is not stock but a data error.
_MAX_PUBLISHED = float(2**62)


def compute_table(
    snap: ColumnarSnapshot,
    now: datetime,
    *,
    previous_actions: Mapping[int, PushAction] | Baseline | None = None,
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None,
    listing_ids: Iterable[int] | None = None,
    marketplace_caps: Mapping[str, int] | None = None,
    context: ChannelContext | None = None,
) -> ResultTable:
    """compute_listings_reference's results for a ColumnarSnapshot, as a ResultTable.

    `previous_actions` may be a Baseline (the last pushed values as arrays): a million
    previous actions are then never a million dict entries.

    Usage: ``compute_table(cols, now, previous_actions={12: PushAction.DEACTIVATE})``
    """
    if context is None:
        context = ChannelContext.build(
            snap.channels, snap.locations, snap.warehouses, zero_stock_defaults, marketplace_caps
        )
    previous = previous_actions or {}
    lst = snap.listings
    pid = lst.product_id

    # Channel of each listing -> its plan (index into `plan_ids`), -1: inactive/unknown.
    plan_ids = np.array(sorted(context.plans), dtype=np.int64)
    plans = [context.plans[int(c)] for c in plan_ids]
    if len(plan_ids):
        pos = np.minimum(np.searchsorted(plan_ids, lst.channel_id), len(plan_ids) - 1)
        plan_of = np.where(plan_ids[pos] == lst.channel_id, pos, -1).astype(np.int32)
        del pos
    else:
        plan_of = np.full(len(lst), -1, dtype=np.int32)
    eligible = lst.active & (plan_of >= 0) & _member(pid, snap.product_ids)

    wanted_rows: np.ndarray | None = None
    if listing_ids is not None:
        wanted_rows = _member(lst.id, ids_array(listing_ids)) & eligible
        # Oversold is decided over all listings of a wanted listing's product.
        eligible &= _member(pid, np.unique(pid[wanted_rows]))
    rows = np.flatnonzero(eligible)
    del eligible

    run = _Run(snap, context, now, plans, previous)
    quantity = np.empty(len(rows), dtype=np.int64)
    action = np.empty(len(rows), dtype=np.int8)
    # In chunks, so that the temporaries (a dozen arrays per step) stay a few MB however
    # many listings there are; only the outputs are full length.
    for lo in range(0, len(rows), _CHUNK):
        part = rows[lo : lo + _CHUNK]
        quantity[lo : lo + len(part)], action[lo : lo + len(part)] = run.chunk(
            part, plan_of[part]
        )
    # Oversold: negative free stock on any channel's scope zeroes all of the product's listings.
    oversold = np.zeros(len(rows), dtype=bool)
    if run.bad.any():
        for lo in range(0, len(rows), _CHUNK):
            part = rows[lo : lo + _CHUNK]
            hit = run.bad[run.product_index(pid[part])]
            if hit.any():
                at = lo + np.flatnonzero(hit)
                oversold[at] = True
                quantity[at] = 0
                action[at] = run.zero_code[plan_of[rows[at]]]

    out_rows = rows
    if wanted_rows is not None:
        keep = wanted_rows[rows]
        out_rows, quantity, action, oversold = rows[keep], quantity[keep], action[keep], oversold[keep]
    return ResultTable(snap, context, now, previous, out_rows, quantity, action, oversold)


_CHUNK = 1 << 16


class _Run:
    """One call's small indexes (per plan, per product) and the per-chunk formula."""

    def __init__(
        self,
        snap: ColumnarSnapshot,
        context: ChannelContext,
        now: datetime,
        plans: list[ChannelPlan],
        previous: Mapping[int, PushAction] | Baseline,
    ) -> None:
        self.snap, self.context, self.now, self.plans = snap, context, now, plans
        lst = snap.listings
        # Dense product index: the ids themselves when compact (Odoo's are), else ranks.
        q_pid = snap.quants.product_id
        both_lo = min(int(pid.min()) if len(pid) else 0 for pid in (lst.product_id, q_pid))
        both_hi = max(int(pid.max()) if len(pid) else 0 for pid in (lst.product_id, q_pid))
        self.uniq: Int64s | None = None
        if both_lo >= 0 and both_hi <= 4 * (len(lst) + len(q_pid)) + 1024:
            self.n_products = both_hi + 1
        else:
            self.uniq = np.unique(np.concatenate((lst.product_id, q_pid)))
            self.n_products = len(self.uniq)
        self.q_index = self.product_index(q_pid)
        self.scope_of_plan = np.array([p.scope_index for p in plans], dtype=np.int32)
        self.zero_code = np.array([ACTION_CODE[p.zero_push] for p in plans], dtype=np.int8)
        self.plan_cap = _plan_caps(plans)
        self.buffer_table = _buffer_table(plans, lst.velocity_classes, now)
        self.free: dict[int, Floats] = {}
        self.holds = active_holds(snap.allocations, now)
        self.with_holds = ids_array(self.holds)
        self.holds_cache: dict[tuple[int, int], tuple[float, float]] = {}
        self.bad = np.zeros(self.n_products, dtype=bool)
        if isinstance(previous, Baseline):
            self.deactivated = previous.ids_with(PushAction.DEACTIVATE)
            self.ended = previous.ids_with(PushAction.END)
        else:
            self.deactivated = ids_array(
                i for i, a in previous.items() if a == PushAction.DEACTIVATE
            )
            self.ended = ids_array(i for i, a in previous.items() if a == PushAction.END)

    def product_index(self, product_ids: Int64s) -> Int64s:
        if self.uniq is None:
            return product_ids
        return np.searchsorted(self.uniq, product_ids)

    def free_of_scope(self, scope: int) -> Floats:
        got = self.free.get(scope)
        if got is None:
            got = _free_by_product(self.snap, self.context, scope, self.q_index, self.n_products)
            self.free[scope] = got
        return got

    def chunk(self, rows: Int64s, r_plan: np.ndarray) -> tuple[Int64s, np.ndarray]:
        """Published numbers and action codes of these listing rows (all eligible)."""
        lst = self.snap.listings
        r_pid = lst.product_id[rows]
        p_index = self.product_index(r_pid)
        r_scope = self.scope_of_plan[r_plan]
        free = np.empty(len(rows), dtype=np.float64)
        for s in np.unique(r_scope).tolist():
            sel = r_scope == s
            free[sel] = self.free_of_scope(s)[p_index[sel]]

        # held(P, ¬C) and own allocations: only listings whose product has active holds.
        pool = free.copy()
        if len(self.with_holds):
            with_holds = np.flatnonzero(_member(r_pid, self.with_holds))
            if len(with_holds):
                r_chan = lst.channel_id[rows[with_holds]]
                for k, p, c in zip(with_holds.tolist(), r_pid[with_holds].tolist(), r_chan.tolist()):
                    held, own = self._holds(p, c)
                    pool[k] = free[k] - held
                    if own == own and own < pool[k]:  # own == own: not NaN, C has allocations
                        pool[k] = own

        buffer = self.buffer_table[r_plan, lst.velocity[rows]]
        own_buffer = lst.buffer_qty[rows]
        has_own = ~np.isnan(own_buffer)
        buffer[has_own] = np.maximum(0.0, own_buffer[has_own])
        pack = lst.pack_size[rows]
        raw = pool - buffer
        packed = pack > 1
        raw[packed] /= pack[packed]
        raw += EPS
        np.clip(raw, -1.0, _MAX_PUBLISHED, out=raw)
        published = np.floor(raw).astype(np.int64)
        negative = free < 0
        published[negative] = 0  # the other channels of this product follow (oversold)
        if negative.any():
            self.bad[p_index[negative]] = True
        positive = published > 0

        # Caps apply to positive numbers only: a cap below 1 makes 0 with the action SET,
        # exactly as the per-listing loop does.
        cap = self.plan_cap[r_plan]
        own_max = lst.max_qty[rows]
        capped = own_max > 0
        cap[capped] = np.minimum(cap[capped], np.floor(np.minimum(own_max[capped], _MAX_PUBLISHED)))
        np.minimum(published, cap, out=published)
        published[~positive] = 0

        action = np.where(positive, np.int8(_SET), self.zero_code[r_plan]).astype(np.int8)
        ids = lst.id[rows]
        for listed, code in ((self.deactivated, _REACTIVATE), (self.ended, _RELIST)):
            if len(listed):
                action[positive & _member(ids, listed)] = code
        return published, action

    def _holds(self, product_id: int, channel_id: int) -> tuple[float, float]:
        key = (product_id, channel_id)
        got = self.holds_cache.get(key)
        if got is None:
            h = holds_of(self.holds[product_id], channel_id, self.context.channel_codes)
            got = (h.held, math.nan if h.own_allocation is None else h.own_allocation)
            self.holds_cache[key] = got
        return got


def _member(values: Int64s, sorted_unique: Int64s) -> np.ndarray:
    """values[i] in sorted_unique, vectorised (searchsorted: no hashing, no sort of values)."""
    if len(sorted_unique) == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_unique, values), len(sorted_unique) - 1)
    return np.asarray(sorted_unique[pos] == values)


def _free_by_product(
    snap: ColumnarSnapshot, context: ChannelContext, scope_index: int, q_index: Int64s, n: int
) -> Floats:
    q = snap.quants
    scope = context.scopes[scope_index]
    counted = ids_array(scope.counted)
    mask = _member(q.location_id, counted)
    partners = ids_array(snap.company_partner_ids)
    mask &= (q.owner_id == NONE_ID) | _member(q.owner_id, partners)
    weights = q.quantity[mask] - q.reserved_quantity[mask]
    totals = np.bincount(q_index[mask], weights=weights, minlength=n).astype(np.float64)
    # Round away float noise as FreeStock.compute does, with Python's round where it matters.
    frac = np.flatnonzero(totals != np.floor(totals))
    if len(frac):
        totals[frac] = [round(x, 6) for x in totals[frac].tolist()]
    return totals


def _buffer_table(
    plans: list[ChannelPlan], velocity_classes: tuple[str, ...], now: datetime
) -> Floats:
    """[plan, velocity index] -> the channel rule's buffer; the last column is class None
    (so that index -1 reads it)."""
    classes: tuple[str | None, ...] = (*velocity_classes, None)
    rows = [[p.buffer(v, now).total for v in classes] for p in plans]
    return np.array(rows or [[0.0] * len(classes)], dtype=np.float64)


def _plan_caps(plans: list[ChannelPlan]) -> Int64s:
    """The smallest positive max of the channel and its marketplace, floored; else none."""
    big = np.iinfo(np.int64).max
    out = []
    for p in plans:
        caps = [p.channel.max_qty] + ([p.marketplace_max] if p.marketplace_max else [])
        positive = [math.floor(c) for c in caps if c is not None and c > 0]
        out.append(min(positive) if positive else big)
    return np.array(out or [big], dtype=np.int64)
