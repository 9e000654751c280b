"""What every listing of a channel shares, and the holds of other channels: the pieces the
per-listing formula (reference.py) and the columnar fast path (fast.py) both use.

- ChannelContext: one LocationScope per distinct channel configuration and one plan per
  active channel (scope, zero-stock action, marketplace cap, buffer rules). It depends
  only on the configuration (channels, locations, warehouses), never on stock.
- holds_of: held(P, ¬C) and C's own allocation from P's active allocations.

Usage::

    ctx = ChannelContext.build(snapshot, zero_stock_defaults, marketplace_caps)
    plan = ctx.plans[channel_id]; scope = ctx.scopes[plan.scope_index]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from connector.stock.buffers import BufferBreakdown, channel_buffer
from connector.stock.locations import LocationScope, LocationTree, contributing_roots
from connector.stock.model import (
    Allocation,
    AllocationMode,
    Channel,
    Location,
    PushAction,
    Warehouse,
    ZeroStockAction,
)
from connector.stock.result import Hold, Holds
from connector.stock.times import is_between

ZERO_PUSH = {
    ZeroStockAction.PUSH_ZERO: PushAction.SET,
    ZeroStockAction.DEACTIVATE: PushAction.DEACTIVATE,
    ZeroStockAction.END_LISTING: PushAction.END,
}
BACK_IN_STOCK = {PushAction.DEACTIVATE: PushAction.REACTIVATE, PushAction.END: PushAction.RELIST}
# Quantities are floats from the ERP: 5.999999999 packs are 6 packs, not 5.
EPS = 1e-9


def zero_action(
    channel: Channel, zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None
) -> ZeroStockAction:
    """The channel's own zero-stock behaviour, else its marketplace's default, else push 0."""
    if channel.zero_stock_action is not None:
        return channel.zero_stock_action
    if zero_stock_defaults is not None:
        return zero_stock_defaults.get(channel.marketplace, ZeroStockAction.PUSH_ZERO)
    return ZeroStockAction.PUSH_ZERO


@dataclass(slots=True)
class ChannelPlan:
    """What every listing of one channel shares: scope, zero action, buffer rules."""

    channel: Channel
    scope_index: int
    zero_push: PushAction
    marketplace_max: int | None = None
    buffers: dict[str | None, BufferBreakdown] = field(default_factory=dict)

    def buffer(self, velocity_class: str | None, now: datetime) -> BufferBreakdown:
        """The channel rule's buffer for a velocity class at `now`, worked out once (a
        context serves one computation, so one `now`: peak periods are not re-checked)."""
        rule = self.buffers.get(velocity_class)
        if rule is None:
            rule = channel_buffer(self.channel.buffer, velocity_class, now)
            self.buffers[velocity_class] = rule
        return rule


@dataclass(slots=True)
class ChannelContext:
    """The scopes and plans of one configuration. Channels sharing warehouses, exclusions
    and company share one LocationScope (and so one FreeStock per product)."""

    scopes: list[LocationScope]
    plans: dict[int, ChannelPlan]  # active channels only
    channel_codes: dict[int, str]  # every channel, archived ones too (their holds still hold)

    @classmethod
    def build(
        cls,
        channels: Mapping[int, Channel],
        locations: Mapping[int, Location],
        warehouses: Mapping[int, Warehouse],
        zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None,
        marketplace_caps: Mapping[str, int] | None = None,
    ) -> ChannelContext:
        tree = LocationTree(locations)
        scopes: list[LocationScope] = []
        scope_ids: dict[tuple[frozenset[int], frozenset[int], int | None], int] = {}
        plans: dict[int, ChannelPlan] = {}
        for channel in channels.values():
            if not channel.active:
                continue
            key = (
                contributing_roots(channel, locations, warehouses),
                frozenset(channel.excluded_location_ids),
                channel.company_id,
            )
            if key not in scope_ids:
                scope_ids[key] = len(scopes)
                scopes.append(tree.scope(channel, warehouses))
            plans[channel.id] = ChannelPlan(
                channel,
                scope_ids[key],
                ZERO_PUSH[zero_action(channel, zero_stock_defaults)],
                (marketplace_caps or {}).get(channel.marketplace),
            )
        return cls(scopes, plans, {c.id: c.code for c in channels.values()})


def active_holds(
    allocations: Iterable[Allocation], now: datetime
) -> dict[int, list[Allocation]]:
    """product id -> its allocations and reservations active at `now`."""
    out: dict[int, list[Allocation]] = {}
    for a in allocations:
        if is_between(now, a.date_start, a.date_end):
            out.setdefault(a.product_id, []).append(a)
    return out


def holds_of(active: list[Allocation], channel_id: int, codes: Mapping[int, str]) -> Holds:
    """held(P, ¬C) and C's own allocation of P, from P's active allocations."""
    # Holds of archived or unknown channels still hold: the admin ends an allocation,
    # the bridge does not guess that it no longer matters.
    others: list[Hold] = []
    own: list[Hold] = []
    own_allocation: float | None = None
    for a in sorted(active, key=lambda a: a.id):
        hold = Hold(a, codes.get(a.channel_id, f"channel #{a.channel_id}"))
        if a.channel_id != channel_id:
            others.append(hold)
        else:
            own.append(hold)
            if a.mode == AllocationMode.ALLOCATION:  # == : the ERP may hand a plain str
                own_allocation = (own_allocation or 0.0) + max(0.0, a.quantity)
    # A negative quantity is a data error; it must not release ring-fenced units.
    held = float(sum(max(0.0, h.allocation.quantity) for h in others))
    return Holds(tuple(others), tuple(own), held, own_allocation)
