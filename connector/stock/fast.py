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

from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np

from connector.stock.buffers import channel_buffer
from connector.stock.columns import NONE_ID, ColumnarSnapshot, Floats, Int64s, ids_array
from connector.stock.model import PushAction, ZeroStockAction
from connector.stock.plans import EPS, ChannelContext, ChannelPlan, active_holds, holds_of
from connector.stock.table import ACTION_CODE, ResultTable

__all__ = ["compute_table"]

_DEACTIVATE = ACTION_CODE[PushAction.DEACTIVATE]
_END = ACTION_CODE[PushAction.END]
_SET = ACTION_CODE[PushAction.SET]
_REACTIVATE = ACTION_CODE[PushAction.REACTIVATE]
_RELIST = ACTION_CODE[PushAction.RELIST]
# Published numbers are stored as int64; a pool beyond this is not stock but a data error.
_MAX_PUBLISHED = float(2**62)


def compute_table(
    snap: ColumnarSnapshot,
    now: datetime,
    *,
    previous_actions: Mapping[int, PushAction] | None = None,
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None,
    listing_ids: Iterable[int] | None = None,
    marketplace_caps: Mapping[str, int] | None = None,
    context: ChannelContext | None = None,
) -> ResultTable:
    """compute_listings_reference's results for a ColumnarSnapshot, as a ResultTable.

    Usage: ``compute_table(cols, now, previous_actions={12: PushAction.DEACTIVATE})``
    """
    if context is None:
        context = ChannelContext.build(
            snap.channels, snap.locations, snap.warehouses, zero_stock_defaults, marketplace_caps
        )
    previous = previous_actions or {}
    lst = snap.listings
    n = len(lst)
    pid = lst.product_id

    # Channel of each listing -> its plan (index into `plan_ids`), -1: inactive/unknown.
    plan_ids = np.array(sorted(context.plans), dtype=np.int64)
    plans = [context.plans[int(c)] for c in plan_ids]
    if len(plan_ids):
        pos = np.searchsorted(plan_ids, lst.channel_id)
        pos_ok = np.minimum(pos, len(plan_ids) - 1)
        plan_of = np.where(plan_ids[pos_ok] == lst.channel_id, pos_ok, -1)
    else:
        plan_of = np.full(n, -1, dtype=np.int64)
    product_ok = _member(pid, snap.product_ids)
    eligible = lst.active & (plan_of >= 0) & product_ok

    wanted_rows: np.ndarray | None = None
    if listing_ids is not None:
        wanted_ids = ids_array(listing_ids)
        wanted_rows = _member(lst.id, wanted_ids) & eligible
        # Oversold is decided over all listings of a wanted listing's product.
        eligible &= _member(pid, np.unique(pid[wanted_rows]))
    rows = np.flatnonzero(eligible)
    if wanted_rows is not None:
        out_rows = np.flatnonzero(wanted_rows)
    else:
        out_rows = rows

    # Dense product index: direct when ids are compact (Odoo's are), else via unique.
    r_pid = pid[rows]
    q_pid = snap.quants.product_id
    p_index, q_index, n_products = _product_index(r_pid, q_pid)
    r_plan = plan_of[rows]

    # free(P, scope) for every scope a listed channel uses.
    free = np.zeros(len(rows), dtype=np.float64)
    scope_of_plan = np.array([p.scope_index for p in plans], dtype=np.int64)
    r_scope = scope_of_plan[r_plan] if len(rows) else np.zeros(0, dtype=np.int64)
    for s in np.unique(r_scope):
        per_product = _free_by_product(snap, context, int(s), q_index, n_products)
        sel = r_scope == s
        free[sel] = per_product[p_index[sel]]

    # held(P, ¬C) and own allocations: only listings whose product has active holds.
    held = np.zeros(len(rows), dtype=np.float64)
    own = np.full(len(rows), np.nan)
    holds_by_product = active_holds(snap.allocations, now)
    if holds_by_product:
        with_holds = np.flatnonzero(_member(r_pid, ids_array(holds_by_product)))
        cache: dict[tuple[int, int], tuple[float, float]] = {}
        r_chan = lst.channel_id[rows]
        for k in with_holds.tolist():
            key = (int(r_pid[k]), int(r_chan[k]))
            got = cache.get(key)
            if got is None:
                h = holds_of(holds_by_product[key[0]], key[1], context.channel_codes)
                got = (h.held, np.nan if h.own_allocation is None else h.own_allocation)
                cache[key] = got
            held[k], own[k] = got
    pool = free - held
    has_own = ~np.isnan(own)
    pool = np.where(has_own & (own < pool), own, pool)

    buffer = _buffers(snap, context, rows, r_plan, plans, now)
    pack = lst.pack_size[rows]
    raw = np.where(pack > 1, (pool - buffer) / np.maximum(pack, 1) + EPS, pool - buffer + EPS)
    published = np.floor(np.clip(raw, -1.0, _MAX_PUBLISHED)).astype(np.int64)
    published[free < 0] = 0  # the other channels of this product follow below
    positive = published > 0

    # Caps apply to positive numbers only: a cap below 1 makes 0 with the action SET,
    # exactly as the per-listing loop does.
    cap = _caps(snap, rows, r_plan, plans)
    published = np.where(positive, np.minimum(published, cap), 0)

    zero_code = np.array([ACTION_CODE[p.zero_push] for p in plans], dtype=np.int8)
    action = np.where(positive, _SET, zero_code[r_plan] if len(rows) else _SET).astype(np.int8)
    _back_in_stock(action, positive, lst.id[rows], previous)

    # Oversold: negative free stock on any channel's scope zeroes all of the product's listings.
    negative = free < 0
    oversold = np.zeros(len(rows), dtype=bool)
    if negative.any():
        bad = np.zeros(n_products, dtype=bool)
        bad[p_index[negative]] = True
        oversold = bad[p_index]
        published[oversold] = 0
        action[oversold] = zero_code[r_plan[oversold]]

    if wanted_rows is not None:
        keep = _member(rows, out_rows)
        published, action, oversold = published[keep], action[keep], oversold[keep]
    return ResultTable(snap, context, now, previous, out_rows, published, action, oversold)


def _member(values: Int64s, sorted_unique: Int64s) -> np.ndarray:
    """values[i] in sorted_unique, vectorised (searchsorted: no hashing, no sort of values)."""
    if len(sorted_unique) == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_unique, values), len(sorted_unique) - 1)
    return np.asarray(sorted_unique[pos] == values)


def _product_index(r_pid: Int64s, q_pid: Int64s) -> tuple[Int64s, Int64s, int]:
    """Dense indexes of the listings' and the quants' products, and how many there are."""
    both = np.concatenate((r_pid, q_pid))
    if len(both) == 0:
        return r_pid.copy(), q_pid.copy(), 0
    lo, hi = int(both.min()), int(both.max())
    if lo >= 0 and hi <= 4 * len(both) + 1024:
        return r_pid, q_pid, hi + 1
    uniq, inverse = np.unique(both, return_inverse=True)
    return inverse[: len(r_pid)], inverse[len(r_pid) :], len(uniq)


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


def _buffers(
    snap: ColumnarSnapshot,
    context: ChannelContext,
    rows: Int64s,
    r_plan: Int64s,
    plans: list[ChannelPlan],
    now: datetime,
) -> Floats:
    """The listing's own buffer (never below 0), else its channel's rule for its velocity."""
    lst = snap.listings
    classes: tuple[str | None, ...] = (*lst.velocity_classes, None)  # -1 -> None
    table = np.array(
        [[channel_buffer(p.channel.buffer, v, now).total for v in classes] for p in plans]
        or [[0.0]],
        dtype=np.float64,
    )
    velocity = lst.velocity[rows].astype(np.int64)
    velocity[velocity < 0] = len(classes) - 1
    rule = table[r_plan, velocity] if len(rows) else np.zeros(0)
    own = lst.buffer_qty[rows]
    return np.where(np.isnan(own), rule, np.maximum(0.0, own))


def _caps(
    snap: ColumnarSnapshot, rows: Int64s, r_plan: Int64s, plans: list[ChannelPlan]
) -> Int64s:
    """The smallest positive max of listing, channel and marketplace, floored; else no cap."""
    big = np.iinfo(np.int64).max
    per_plan = []
    for p in plans:
        caps = [p.channel.max_qty] + ([p.marketplace_max] if p.marketplace_max else [])
        positive = [int(np.floor(c)) for c in caps if c is not None and c > 0]
        per_plan.append(min(positive) if positive else big)
    plan_cap = np.array(per_plan or [big], dtype=np.int64)[r_plan] if len(rows) else np.zeros(0, np.int64)
    own = snap.listings.max_qty[rows]
    own_cap = np.where(own > 0, np.floor(np.minimum(own, _MAX_PUBLISHED)), _MAX_PUBLISHED).astype(np.int64)
    return np.minimum(plan_cap, own_cap)


def _back_in_stock(
    action: np.ndarray, positive: np.ndarray, ids: Int64s, previous: Mapping[int, PushAction]
) -> None:
    """SET -> REACTIVATE after a DEACTIVATE, RELIST after an END (positive numbers only)."""
    deactivated = [i for i, a in previous.items() if a == PushAction.DEACTIVATE]
    ended = [i for i, a in previous.items() if a == PushAction.END]
    for listed, code in ((deactivated, _REACTIVATE), (ended, _RELIST)):
        if listed:
            hit = positive & _member(ids, ids_array(listed))
            action[hit] = code
