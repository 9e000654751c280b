"""What the computation returns: a number and action per listing, and how it got there.

An Explanation is cheap on purpose (500k of them per full resync): a few numbers plus
references to records shared by many listings — the channel's LocationScope, the
product's FreeStock (per location scope), the Holds of other channels, the buffer rule.
The per-location and per-quant detail is worked out only when someone asks for it
(`render`, `to_dict`, the properties).

Usage::

    for result in compute_listings(snapshot, now):
        print(result.sku, result.quantity, result.action)
        print(result.explanation.render())
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from connector.stock.buffers import BufferBreakdown
from connector.stock.locations import LocationScope
from connector.stock.model import Allocation, AllocationMode, Channel, Listing, PushAction, Quant

CONSIGNED = "consigned"


@dataclass(frozen=True, slots=True)
class QuantLine:
    """One quant of the product and whether it counted for the channel (reason when not)."""

    quant: Quant
    location: str
    reason: str | None

    @property
    def counted(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True, eq=False)
class FreeStock:
    """free(P, C): Σ(quantity − reserved_quantity) of product P's quants in a scope.

    Shared by every channel with the same LocationScope. Consigned quants (an owner that
    is not one of the company's own partners) are skipped.

    Usage: ``FreeStock.compute(7, scope, quants_of_7, own_partners).free``
    """

    product_id: int
    scope: LocationScope
    quants: tuple[Quant, ...]  # every quant of the product in the snapshot
    own_partners: frozenset[int]
    free: float

    @classmethod
    def compute(
        cls,
        product_id: int,
        scope: LocationScope,
        quants: tuple[Quant, ...],
        own_partners: frozenset[int],
    ) -> FreeStock:
        counted = scope.counted
        total = 0.0
        for q in quants:
            if q.location_id in counted and (q.owner_id is None or q.owner_id in own_partners):
                total += q.quantity - q.reserved_quantity
        # Round away float noise (0.1 + 0.2) so that "negative" means a real oversell.
        return _build_free_stock(product_id, scope, quants, own_partners, round(total, 6))

    def quant_reason(self, quant: Quant) -> str | None:
        why = self.scope.reason(quant.location_id)
        if why is None and quant.owner_id is not None and quant.owner_id not in self.own_partners:
            return f"{CONSIGNED} (owner #{quant.owner_id})"
        return why

    def lines(self) -> tuple[QuantLine, ...]:
        """Every quant of the product, counted or not and why, sorted by location name."""
        lines = (
            QuantLine(q, self.scope.name(q.location_id), self.quant_reason(q)) for q in self.quants
        )
        return tuple(sorted(lines, key=lambda line: (line.location, line.quant.location_id)))


@dataclass(frozen=True, slots=True)
class Hold:
    """An active allocation or reservation, with its channel's code for display."""

    allocation: Allocation
    channel_code: str


@dataclass(frozen=True, slots=True)
class Holds:
    """held(P, ¬C) and C's own allocation of P, with the records behind them.

    Usage: ``pool = min(h.own_allocation, free - h.held) if h.own_allocation is not None
    else free - h.held``
    """

    others: tuple[Hold, ...] = ()
    own: tuple[Hold, ...] = ()
    held: float = 0.0  # Σ quantity of other channels' active allocations and reservations
    own_allocation: float | None = None  # Σ of C's active allocations; None: C has none


NO_HOLDS = Holds()


MARKETPLACE_MAX = "marketplace max"


def listing_cap(
    listing: Listing, channel: Channel, marketplace_max: int | None = None
) -> tuple[int | None, str | None]:
    """The smallest non-zero max of the listing, the channel and the marketplace (the most
    it stores for one listing, e.g. bol 999), and which one it was.

    Usage: ``listing_cap(listing, channel) == (10, "listing")``; ``(None, None)``: no cap.
    """
    own = listing.max_qty if listing.max_qty > 0 else None
    chan = channel.max_qty if channel.max_qty > 0 else None
    market = marketplace_max if marketplace_max is not None and marketplace_max > 0 else None
    best: tuple[int | None, str | None] = (None, None)
    for value, source in ((own, "listing"), (chan, "channel"), (market, MARKETPLACE_MAX)):
        if value is not None and (best[0] is None or math.floor(value) < best[0]):
            best = (math.floor(value), source)
    return best


@dataclass(frozen=True, slots=True)
class Explanation:
    """How one listing got its number: locations, quants, holds, buffer, pack, cap, action.

    Usage: ``print(result.explanation.render())`` or ``json.dumps(expl.to_dict())``.
    """

    listing: Listing
    channel: Channel
    stock: FreeStock
    holds: Holds
    buffer_rule: BufferBreakdown
    pool: float
    published: int
    action: PushAction
    oversold_on: tuple[str, ...]  # channel codes whose free stock of the product is negative
    marketplace_max: int | None = None  # the marketplace's own maximum (adapter.max_quantity)

    # The numbers, by name.
    @property
    def free(self) -> float:
        return self.stock.free

    @property
    def held(self) -> float:
        return self.holds.held

    @property
    def own_allocation(self) -> float | None:
        return self.holds.own_allocation

    @property
    def buffer(self) -> float:
        return self.buffer_rule.total

    @property
    def buffer_source(self) -> str:
        return self.buffer_rule.source

    @property
    def pack_size(self) -> int:
        return max(1, self.listing.pack_size)

    @property
    def cap(self) -> int | None:
        return listing_cap(self.listing, self.channel, self.marketplace_max)[0]

    @property
    def cap_source(self) -> str | None:
        return listing_cap(self.listing, self.channel, self.marketplace_max)[1]

    @property
    def oversold(self) -> bool:
        return bool(self.oversold_on)

    # The detail, worked out on demand.
    @property
    def quants(self) -> tuple[QuantLine, ...]:
        return self.stock.lines()

    @property
    def locations_counted(self) -> tuple[tuple[int, str], ...]:
        """(id, name) of every location whose quants count, sorted by name."""
        scope = self.stock.scope
        return tuple(sorted(((i, scope.name(i)) for i in scope.counted), key=_by_name))

    @property
    def locations_not_counted(self) -> tuple[tuple[int, str, str], ...]:
        """(id, name, reason) of the locations under the roots that do not count, and of
        the locations outside the roots where the product has quants."""
        scope = self.stock.scope
        ids = set(scope.not_counted)
        ids.update(q.location_id for q in self.stock.quants if q.location_id not in scope.counted)
        rows = ((i, scope.name(i), scope.reason(i) or "") for i in ids)
        return tuple(sorted(rows, key=_by_name))

    def render(self) -> str:
        """A short plain-text table for support staff."""
        listing, lines = self.listing, self.quants
        out = [
            f"{self.channel.code} ({self.channel.marketplace})  sku {listing.channel_sku}  "
            f"listing #{listing.id}  product #{listing.product_id}",
            f"  {'location':<32} {'qty':>8} {'reserved':>9} {'free':>8}  counted",
        ]
        for line in lines:
            q = line.quant
            verdict = "yes" if line.counted else f"no: {line.reason}"
            out.append(
                f"  {_cut(line.location, 32):<32} {_num(q.quantity):>8} "
                f"{_num(q.reserved_quantity):>9} {_num(q.quantity - q.reserved_quantity):>8}  "
                f"{verdict}"
            )
        if not lines:
            out.append("  (no quants of this product under any contributing location)")
        skipped = [f"{name} ({why})" for _, name, why in self.locations_not_counted]
        counted = [name for _, name in self.locations_counted]
        out.append(f"  locations counted ({len(counted)}): {_cut(', '.join(counted), 200)}")
        if skipped:
            out.append(f"  locations not counted: {_cut(', '.join(skipped), 200)}")
        rows: list[tuple[str, str, str]] = [("free stock", _num(self.free), "")]
        for hold in self.holds.others:
            a = hold.allocation
            rows.append((f"held by {hold.channel_code}", _minus(a.quantity), _hold(a)))
        for hold in self.holds.own:
            a = hold.allocation
            rows.append(("own " + AllocationMode(a.mode).value, _num(a.quantity), _hold(a)))
        if self.own_allocation is not None:
            rows.append(("pool", _num(self.pool), "min(own allocation, free - held)"))
        else:
            rows.append(("pool", _num(self.pool), "free - held by others"))
        rows.append(("buffer", _minus(self.buffer), self.buffer_source))
        rows.append(("pack size", f"/{self.pack_size}", "published in packs, rounded down"))
        cap, cap_source = listing_cap(self.listing, self.channel, self.marketplace_max)
        rows.append(("cap", "none" if cap is None else str(cap), cap_source or ""))
        rows.append(("published", str(self.published), ""))
        rows.append(("action", PushAction(self.action).value, ""))
        if self.oversold_on:
            rows.append(
                ("OVERSOLD", "0", "free stock negative on " + ", ".join(self.oversold_on))
            )
        out.extend(f"  {label:<24} {value:>10}  {note}".rstrip() for label, value, note in rows)
        return "\n".join(out)

    def to_dict(self) -> dict[str, object]:
        """Everything `render` shows, JSON-ready (for --json)."""
        cap, cap_source = listing_cap(self.listing, self.channel, self.marketplace_max)
        return {
            "listing_id": self.listing.id,
            "channel": self.channel.code,
            "marketplace": self.channel.marketplace,
            "product_id": self.listing.product_id,
            "sku": self.listing.channel_sku,
            "locations_counted": [{"id": i, "name": n} for i, n in self.locations_counted],
            "locations_not_counted": [
                {"id": i, "name": n, "reason": why} for i, n, why in self.locations_not_counted
            ],
            "quants": [
                {
                    "location_id": line.quant.location_id,
                    "location": line.location,
                    "quantity": line.quant.quantity,
                    "reserved_quantity": line.quant.reserved_quantity,
                    "lot_id": line.quant.lot_id,
                    "package_id": line.quant.package_id,
                    "owner_id": line.quant.owner_id,
                    "counted": line.counted,
                    "reason": line.reason,
                }
                for line in self.quants
            ],
            "free": self.free,
            "held_by_others": [_hold_dict(h) for h in self.holds.others],
            "held": self.held,
            "own_holds": [_hold_dict(h) for h in self.holds.own],
            "own_allocation": self.own_allocation,
            "pool": self.pool,
            "buffer": self.buffer,
            "buffer_source": self.buffer_source,
            "buffer_parts": [{"source": s, "units": u} for s, u in self.buffer_rule.parts],
            "pack_size": self.pack_size,
            "cap": cap,
            "cap_source": cap_source,
            "published": self.published,
            "action": PushAction(self.action).value,
            "oversold": self.oversold,
            "oversold_on": list(self.oversold_on),
        }


@dataclass(frozen=True, slots=True)
class ListingResult:
    """The number and action for one listing, with its explanation.

    Usage: ``adapter_update = (r.sku, r.external_id, r.quantity, r.action)``
    """

    listing_id: int
    channel_id: int
    channel_code: str
    marketplace: str
    product_id: int
    sku: str  # the listing's channel_sku
    external_id: str | None
    quantity: int
    action: PushAction
    oversold: bool
    explanation: Explanation


def _by_name(row: tuple[int, str] | tuple[int, str, str]) -> tuple[str, int]:
    return row[1], row[0]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _minus(value: float) -> str:
    return f"-{_num(value)}" if value else "0"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _hold(a: Allocation) -> str:
    span = f"{_when(a.date_start) or 'open'} .. {_when(a.date_end) or 'open'}"
    mode = AllocationMode(a.mode)
    kind = "ring-fenced" if mode is AllocationMode.ALLOCATION else "hidden from others"
    return f"{mode.value} #{a.id}, {kind}, {span}"


def _hold_dict(hold: Hold) -> dict[str, object]:
    a = hold.allocation
    return {
        "allocation_id": a.id,
        "channel": hold.channel_code,
        "mode": AllocationMode(a.mode).value,
        "quantity": a.quantity,
        "date_start": _when(a.date_start),
        "date_end": _when(a.date_end),
    }


# Fast construction for the hot loop. A frozen dataclass assigns every field through
# object.__setattr__, which makes the two records of a listing cost more than the whole
# computation of its number; writing the slots directly halves that (500k listings per
# full resync). Same objects, same fields: tests compare them with the normal constructor.
_new = object.__new__


def _slot_writers(cls: type, expected: tuple[str, ...]) -> tuple[Any, ...]:
    names = tuple(f.name for f in fields(cls))
    if names != expected:  # a field was added or moved: the builders below must follow
        raise RuntimeError(f"{cls.__name__} fields changed: {names}")
    return tuple(cls.__dict__[name].__set__ for name in names)


(_e_listing, _e_channel, _e_stock, _e_holds, _e_buffer, _e_pool, _e_published, _e_action,
 _e_oversold, _e_market_max) = _slot_writers(Explanation, (
    "listing", "channel", "stock", "holds", "buffer_rule", "pool", "published", "action",
    "oversold_on", "marketplace_max"))  # fmt: skip
(_r_listing, _r_channel, _r_code, _r_marketplace, _r_product, _r_sku, _r_external, _r_qty,
 _r_action, _r_oversold, _r_explanation) = _slot_writers(ListingResult, (
    "listing_id", "channel_id", "channel_code", "marketplace", "product_id", "sku",
    "external_id", "quantity", "action", "oversold", "explanation"))  # fmt: skip


def build_result(
    listing: Listing,
    channel: Channel,
    stock: FreeStock,
    holds: Holds,
    buffer_rule: BufferBreakdown,
    pool: float,
    published: int,
    action: PushAction,
    oversold_on: tuple[str, ...],
    marketplace_max: int | None = None,
) -> ListingResult:
    """ListingResult(...) with its Explanation, built the fast way; equal to the slow way.

    Usage: ``build_result(listing, channel, stock, NO_HOLDS, NO_BUFFER, 5.0, 5, SET, ())``
    """
    e = _new(Explanation)
    _e_listing(e, listing)
    _e_channel(e, channel)
    _e_stock(e, stock)
    _e_holds(e, holds)
    _e_buffer(e, buffer_rule)
    _e_pool(e, pool)
    _e_published(e, published)
    _e_action(e, action)
    _e_oversold(e, oversold_on)
    _e_market_max(e, marketplace_max)
    r = _new(ListingResult)
    _r_listing(r, listing.id)
    _r_channel(r, channel.id)
    _r_code(r, channel.code)
    _r_marketplace(r, channel.marketplace)
    _r_product(r, listing.product_id)
    _r_sku(r, listing.channel_sku)
    _r_external(r, listing.external_id)
    _r_qty(r, published)
    _r_action(r, action)
    _r_oversold(r, bool(oversold_on))
    _r_explanation(r, e)
    return r


(_f_product, _f_scope, _f_quants, _f_partners, _f_free) = _slot_writers(
    FreeStock, ("product_id", "scope", "quants", "own_partners", "free")
)


def _build_free_stock(
    product_id: int,
    scope: LocationScope,
    quants: tuple[Quant, ...],
    own_partners: frozenset[int],
    free: float,
) -> FreeStock:
    f = _new(FreeStock)
    _f_product(f, product_id)
    _f_scope(f, scope)
    _f_quants(f, quants)
    _f_partners(f, own_partners)
    _f_free(f, free)
    return f
