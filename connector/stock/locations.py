"""Which stock locations feed a channel, and why the others do not.

A channel sells what sits in the internal locations under its warehouses' stock
locations (`child_of lot_stock_id`), minus its excluded locations and everything under
them, in its own company. Warehouses may overlap (a warehouse whose stock location is a
child of another's): a location reached twice still counts once, because the result is
a set.

Usage::

    scope = LocationTree(snapshot.locations).scope(channel, snapshot.warehouses)
    scope.reason(quant.location_id)   # None when the location counts
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connector.stock.model import Channel, Location, Warehouse

# Why a location does not count for a channel (shown to support staff as-is).
EXCLUDED = "excluded"
FOREIGN_COMPANY = "foreign company"
NOT_INTERNAL = "not internal"
INACTIVE = "inactive"
NOT_UNDER_ROOT = "not under a root"
UNKNOWN_LOCATION = "unknown location"


@dataclass(frozen=True, slots=True, eq=False)
class LocationScope:
    """The contributing locations of one channel configuration, with the reasons for the rest.

    Shared by every channel with the same warehouses, exclusions and company, and by every
    explanation of those channels' listings (identity equality: there is one per config).

    Usage: ``scope.reason(7) is None`` when location 7 counts.
    """

    roots: frozenset[int]
    counted: frozenset[int]
    not_counted: Mapping[int, str]  # under a root but not counting -> reason
    locations: Mapping[int, Location]  # the snapshot's locations, for names

    def reason(self, location_id: int) -> str | None:
        """None when the location counts, else why it does not."""
        if location_id in self.counted:
            return None
        why = self.not_counted.get(location_id)
        if why is not None:
            return why
        return NOT_UNDER_ROOT if location_id in self.locations else UNKNOWN_LOCATION

    def name(self, location_id: int) -> str:
        """The location's complete name, or its id when the snapshot does not know it."""
        loc = self.locations.get(location_id)
        return loc.name if loc is not None else f"location #{location_id}"


class LocationTree:
    """The location hierarchy of one snapshot, indexed once for every channel.

    Usage: ``LocationTree(locations).contributing(channel, warehouses)``.
    """

    def __init__(self, locations: Mapping[int, Location]) -> None:
        self.locations = locations
        self._children: dict[int, list[int]] = {}
        for loc in locations.values():
            if loc.parent_id is not None:
                self._children.setdefault(loc.parent_id, []).append(loc.id)

    def subtree(self, roots: Iterable[int]) -> set[int]:
        """The roots and all their descendants, each once (parent links may even loop)."""
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            loc_id = stack.pop()
            if loc_id in seen:
                continue
            seen.add(loc_id)
            stack.extend(self._children.get(loc_id, ()))
        return seen

    def scope(self, channel: Channel, warehouses: Mapping[int, Warehouse]) -> LocationScope:
        """Classify every location under the channel's roots: counted, or why not."""
        roots = contributing_roots(channel, self.locations, warehouses)
        excluded = self.subtree(channel.excluded_location_ids)
        counted: set[int] = set()
        not_counted: dict[int, str] = {}
        for loc_id in self.subtree(roots):
            why = _reason(channel, self.locations.get(loc_id), loc_id in excluded)
            if why is None:
                counted.add(loc_id)
            else:
                not_counted[loc_id] = why
        return LocationScope(roots, frozenset(counted), not_counted, self.locations)


def _reason(channel: Channel, loc: Location | None, excluded: bool) -> str | None:
    if loc is None:
        return UNKNOWN_LOCATION
    if excluded:
        return EXCLUDED
    # A location without a company is shared by all companies (Odoo's convention).
    if (
        channel.company_id is not None
        and loc.company_id is not None
        and loc.company_id != channel.company_id
    ):
        return FOREIGN_COMPANY
    if loc.usage != "internal":
        return NOT_INTERNAL
    if not loc.active:
        return INACTIVE
    return None


def contributing_roots(
    channel: Channel, locations: Mapping[int, Location], warehouses: Mapping[int, Warehouse]
) -> frozenset[int]:
    """The stock locations (lot_stock_id) of the channel's warehouses: the child_of roots.

    Foreign-company warehouses stay in: their locations are then rejected one by one with
    the reason "foreign company", which is what support staff need to see. `locations` is
    not needed for the roots themselves; it is in the signature so that it matches
    contributing_locations and callers need not care which one needs what.

    Usage: ``domain = [("location_id", "child_of", sorted(contributing_roots(c, locs, whs)))]``
    """
    return frozenset(
        warehouses[wid].lot_stock_id for wid in channel.warehouse_ids if wid in warehouses
    )


def contributing_locations(
    channel: Channel, locations: Mapping[int, Location], warehouses: Mapping[int, Warehouse]
) -> frozenset[int]:
    """The ids of the locations whose quants count for the channel.

    Usage: ``contributing_locations(channel, snapshot.locations, snapshot.warehouses)``
    """
    return LocationTree(locations).scope(channel, warehouses).counted
