"""Order rates per product and channel from the ERP's history (issue 13 item 2).

Demand is read from what really left the shop: done stock moves into a customer location
(`state = 'done'`, `location_dest_id.usage = 'customer'`) over a window. A delivery is
attributed to a channel when its source document says so (`origin` starting with one of
the channel's prefixes, e.g. `AMZ-` for orders imported from Amazon; or, where the sales
app is installed, the sale order's sales team); the rest is shared between the channels
listing the product by the configured shares (equal shares when none are set). Rates are
in units per day — a unit is what an oversell takes, and counting units rather than
order lines is the cautious choice for multi-unit orders.

Usage::

    history = read_deliveries(client, since, until, product_ids=[7, 8])
    rates = attribute(history, {7: ["amazon_de", "bol_nl"]}, rules, days=28)
    rates[(7, "amazon_de")].per_day
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connector.erp.client import OdooClient
from connector.erp.records import m2o_id, number, text, to_odoo_datetime

PAGE = 5000


class NoHistory(Exception):
    """No done delivery to a customer in the window: nothing to size from."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One done move to a customer."""

    product_id: int
    quantity: float
    origin: str
    date: str
    team: str | None = None  # the sale order's sales team, where known


@dataclass(frozen=True, slots=True)
class AttributionRules:
    """How deliveries find their channel (config: [risk.channels.<code>])."""

    origin_prefixes: Mapping[str, Sequence[str]] = field(default_factory=dict)  # code -> prefixes
    sales_teams: Mapping[str, str] = field(default_factory=dict)  # code -> crm.team name
    shares: Mapping[str, float] = field(default_factory=dict)  # code -> weight for the rest

    def channel_of(self, delivery: Delivery) -> str | None:
        for code, prefixes in self.origin_prefixes.items():
            if any(p and delivery.origin.startswith(p) for p in prefixes):
                return code
        if delivery.team:
            for code, team in self.sales_teams.items():
                if team == delivery.team:
                    return code
        return None


@dataclass(slots=True)
class ChannelDemand:
    product_id: int
    channel: str
    units: float = 0.0  # attributed by origin or team
    shared_units: float = 0.0  # given by the configured shares
    days: float = 28.0

    @property
    def per_day(self) -> float:
        return (self.units + self.shared_units) / self.days

    @property
    def per_second(self) -> float:
        return self.per_day / 86400.0


def read_deliveries(client: OdooClient, since: datetime, until: datetime,
                    product_ids: Iterable[int] | None = None, *, quantity_field: str = "quantity",
                    read_teams: bool = False) -> list[Delivery]:
    """Done moves to customer locations in [since, until), paged by id."""
    domain: list[object] = [("state", "=", "done"), ("location_dest_id.usage", "=", "customer"),
                            ("date", ">=", to_odoo_datetime(since)), ("date", "<", to_odoo_datetime(until))]
    if product_ids is not None:
        domain.append(("product_id", "in", sorted(set(product_ids))))
    fields = ["product_id", "origin", "date", "product_uom_qty", quantity_field]
    out: list[Delivery] = []
    last_id = 0
    while True:
        rows = client.call("stock.move", "search_read", [("id", ">", last_id), *domain], fields,
                           order="id asc", limit=PAGE)
        for row in rows:
            product = m2o_id(row.get("product_id"))
            # done quantity; a move done without it (old data) counts its demand
            qty = number(row.get(quantity_field)) or number(row.get("product_uom_qty"))
            if product and qty > 0:
                out.append(Delivery(product, qty, text(row.get("origin")) or "", str(row.get("date") or "")))
        if len(rows) < PAGE:
            break
        last_id = int(rows[-1]["id"])
    if read_teams and out:
        out = _with_teams(client, out)
    return out


def _with_teams(client: OdooClient, deliveries: list[Delivery]) -> list[Delivery]:
    """The sales team of each delivery's sale order (origin = the order's name)."""
    names = sorted({d.origin for d in deliveries if d.origin})
    teams: dict[str, str] = {}
    for start in range(0, len(names), PAGE):
        rows = client.call("sale.order", "search_read", [("name", "in", names[start:start + PAGE])],
                           ["name", "team_id"])
        for row in rows:
            team = row.get("team_id")
            if isinstance(team, (list, tuple)) and len(team) > 1:
                teams[str(row["name"])] = str(team[1])
    return [Delivery(d.product_id, d.quantity, d.origin, d.date, teams.get(d.origin)) for d in deliveries]


def attribute(deliveries: Iterable[Delivery], listed: Mapping[int, Sequence[str]], rules: AttributionRules,
              days: float) -> dict[tuple[int, str], ChannelDemand]:
    """(product id, channel code) -> demand, for every listed pair (0 when nothing sold).

    A delivery attributed to a channel that does not list the product still counts for
    that product on that channel only if it is listed there; otherwise it joins the
    shared rest (the product sold somewhere we cannot name)."""
    if days <= 0:
        raise ValueError("the window must be longer than 0 days")
    out = {(pid, code): ChannelDemand(pid, code, days=days) for pid, codes in listed.items() for code in codes}
    unattributed: dict[int, float] = defaultdict(float)
    for item in deliveries:
        if item.product_id not in listed:
            continue
        code = rules.channel_of(item)
        key = (item.product_id, code or "")
        if code is not None and key in out:
            out[key].units += item.quantity
        else:
            unattributed[item.product_id] += item.quantity
    for pid, units in unattributed.items():
        codes = list(listed[pid])
        weights = [max(0.0, rules.shares.get(c, 0.0 if rules.shares else 1.0)) for c in codes]
        if sum(weights) <= 0:
            weights = [1.0] * len(codes)
        total = sum(weights)
        for code, weight in zip(codes, weights):
            out[(pid, code)].shared_units += units * weight / total
    return out
