"""Access rights as Odoo 18 enforces them for a user who is not an administrator.

Three checks, in Odoo's order: the model's access rights (ir.model.access: which groups
may read, write, create or delete a model's records), the record rules (ir.rule, here the
global multi-company rules of stock, product, base and the addon), and the addon's write
guard on marketplace.listing (the bridge may write only the sync status fields). A user
whose fixture row names no `groups` is an administrator: a real admin's groups
(ADMIN_GROUPS), and the record rules only narrow what lies outside the companies it is
allowed in. Usage::

    check_model_access(env, "marketplace.channel", "write")     # AccessError for the bridge
    check_rules(env, "marketplace.listing", ids, "read")         # AccessError if one is hidden

`ACCESS` is data read from a real Odoo 18 with the addon installed
(`ir.model.access.group_names_with_access(model, mode)` for every model the mock serves);
tests/odoo_real/test_mock_differential.py holds the two equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connector.mock_erp.errors import AccessError

if TYPE_CHECKING:
    from connector.mock_erp.orm import Env

MODES = ("read", "write", "create", "unlink")
BRIDGE_GROUP = "Marketplace Bridge"
MANAGER_GROUP = "Marketplaces/Manager"
# What the addon's BRIDGE_WRITABLE_FIELDS lets the bridge change on a listing.
BRIDGE_WRITABLE_FIELDS = frozenset({"sync_state", "last_pushed_qty", "last_sync_at", "last_error"})

# model -> mode -> the groups granted it, in the order Odoo names them in its AccessError.
ACCESS: dict[str, dict[str, tuple[str, ...]]] = {
    "ir.model": {
        "read": ("Administration/Access Rights",),
        "write": ("Administration/Access Rights",),
        "create": ("Administration/Access Rights",),
        "unlink": ("Administration/Access Rights",),
    },
    "marketplace.allocation": {
        "read": ("Marketplaces/Manager", "Marketplaces/User", "Marketplace Bridge"),
        "write": ("Marketplaces/Manager",),
        "create": ("Marketplaces/Manager",),
        "unlink": ("Marketplaces/Manager",),
    },
    "marketplace.channel": {
        "read": ("Marketplaces/Manager", "Marketplaces/User", "Marketplace Bridge"),
        "write": ("Marketplaces/Manager",),
        "create": ("Marketplaces/Manager",),
        "unlink": ("Marketplaces/Manager",),
    },
    "marketplace.listing": {
        "read": ("Marketplaces/Manager", "Marketplaces/User", "Marketplace Bridge"),
        "write": ("Marketplaces/Manager", "Marketplace Bridge"),
        "create": ("Marketplaces/Manager",),
        "unlink": ("Marketplaces/Manager",),
    },
    "marketplace.stock.event": {
        "read": ("Marketplaces/Manager", "Marketplaces/User", "Marketplace Bridge"),
        "write": (),
        "create": (),
        "unlink": ("Marketplaces/Manager",),
    },
    "product.product": {
        "read": ("Extra Rights/Product Creation", "Inventory/Administrator", "Inventory/User", "User types/Internal User", "Marketplace Bridge"),
        "write": ("Extra Rights/Product Creation", "Inventory/Administrator"),
        "create": ("Extra Rights/Product Creation", "Inventory/Administrator"),
        "unlink": ("Extra Rights/Product Creation", "Inventory/Administrator"),
    },
    "product.template": {
        "read": ("Extra Rights/Product Creation", "Inventory/Administrator", "Inventory/User", "User types/Internal User", "Marketplace Bridge"),
        "write": ("Extra Rights/Product Creation", "Inventory/Administrator"),
        "create": ("Extra Rights/Product Creation", "Inventory/Administrator"),
        "unlink": ("Extra Rights/Product Creation", "Inventory/Administrator"),
    },
    "res.company": {
        "read": ("Administration/Access Rights", "User types/Internal User", "User types/Portal", "User types/Public"),
        "write": ("Administration/Access Rights",),
        "create": ("Administration/Access Rights",),
        "unlink": ("Administration/Access Rights",),
    },
    "res.partner": {
        "read": ("Extra Rights/Contact Creation", "Inventory/Administrator", "User types/Internal User", "User types/Portal", "User types/Public"),
        "write": ("Extra Rights/Contact Creation", "Inventory/Administrator"),
        "create": ("Extra Rights/Contact Creation", "Inventory/Administrator"),
        "unlink": ("Extra Rights/Contact Creation",),
    },
    "res.users": {
        "read": ("Administration/Access Rights", "User types/Internal User", "User types/Portal", "User types/Public"),
        "write": ("Administration/Access Rights",),
        "create": ("Administration/Access Rights",),
        "unlink": ("Administration/Access Rights",),
    },
    "stock.backorder.confirmation": {
        "read": ("Inventory/User",),
        "write": ("Inventory/User",),
        "create": ("Inventory/User",),
        "unlink": (),
    },
    "stock.location": {
        "read": ("Extra Rights/Contact Creation", "Inventory/Administrator", "Inventory/User", "User types/Internal User", "Marketplace Bridge"),
        "write": ("Inventory/Administrator", "Inventory/User"),
        "create": ("Inventory/Administrator",),
        "unlink": ("Inventory/Administrator",),
    },
    "stock.lot": {
        "read": ("Inventory/User",),
        "write": ("Inventory/User",),
        "create": ("Inventory/User",),
        "unlink": ("Inventory/User",),
    },
    "stock.move": {
        "read": ("Inventory/Administrator", "Inventory/User", "Marketplace Bridge"),
        "write": ("Inventory/Administrator", "Inventory/User"),
        "create": ("Inventory/Administrator", "Inventory/User"),
        "unlink": ("Inventory/Administrator",),
    },
    "stock.picking": {
        "read": ("Inventory/Administrator", "Inventory/User"),
        "write": ("Inventory/Administrator", "Inventory/User"),
        "create": ("Inventory/Administrator", "Inventory/User"),
        "unlink": ("Inventory/Administrator", "Inventory/User"),
    },
    "stock.picking.type": {
        "read": ("Inventory/Administrator", "Inventory/User", "User types/Internal User"),
        "write": ("Inventory/Administrator",),
        "create": ("Inventory/Administrator",),
        "unlink": ("Inventory/Administrator",),
    },
    "stock.quant": {
        "read": ("Inventory/User", "User types/Internal User", "Marketplace Bridge"),
        "write": ("Inventory/User",),
        "create": ("Inventory/User",),
        "unlink": (),
    },
    "stock.quant.package": {
        "read": ("Inventory/Administrator", "Inventory/User", "User types/Internal User"),
        "write": ("Inventory/Administrator", "Inventory/User"),
        "create": ("Inventory/Administrator", "Inventory/User"),
        "unlink": ("Inventory/Administrator", "Inventory/User"),
    },
    "stock.return.picking": {
        "read": ("Inventory/User",),
        "write": ("Inventory/User",),
        "create": ("Inventory/User",),
        "unlink": (),
    },
    "stock.return.picking.line": {
        "read": ("Inventory/User",),
        "write": ("Inventory/User",),
        "create": ("Inventory/User",),
        "unlink": ("Inventory/User",),
    },
    "stock.warehouse": {
        "read": ("Inventory/Administrator", "User types/Internal User", "Marketplace Bridge"),
        "write": ("Inventory/Administrator",),
        "create": ("Inventory/Administrator",),
        "unlink": ("Inventory/Administrator",),
    },
    "uom.uom": {
        "read": ("Administration/Settings", "Inventory/Administrator", "User types/Internal User"),
        "write": ("Administration/Settings", "Inventory/Administrator"),
        "create": ("Administration/Settings", "Inventory/Administrator"),
        "unlink": ("Administration/Settings", "Inventory/Administrator"),
    },
}
ACCESS["stock.package"] = ACCESS["stock.quant.package"]  # 19.0's name for the same model

# The fixture's group names (res.users "groups") by the xmlid a reader knows them by.
GROUP_XMLIDS = {
    "base.group_user": "User types/Internal User",
    "base.group_no_one": "Extra Rights/Technical Features",
    "stock.group_stock_user": "Inventory/User",
    "stock.group_stock_manager": "Inventory/Administrator",
    "marketplace_stock_sync.group_marketplace_user": "Marketplaces/User",
    "marketplace_stock_sync.group_marketplace_manager": "Marketplaces/Manager",
    "marketplace_stock_sync.group_marketplace_bridge": BRIDGE_GROUP,
}

_HEADERS = {
    "read": "You are not allowed to access '{kind}' ({model}) records.",
    "write": "You are not allowed to modify '{kind}' ({model}) records.",
    "create": "You are not allowed to create '{kind}' ({model}) records.",
    "unlink": "You are not allowed to delete '{kind}' ({model}) records.",
}

Domain = list[Any]


def _company_in(path: str, with_empty: bool = False) -> Callable[[list[int]], Domain]:
    def rule(companies: list[int]) -> Domain:
        return [(path, "in", [*companies, False] if with_empty else companies)]
    return rule


def _company_or_none(path: str) -> Callable[[list[int]], Domain]:
    def rule(companies: list[int]) -> Domain:
        return ["|", (path, "=", False), (path, "in", companies)]
    return rule


# Global record rules (every user but the superuser), as `company_ids -> domain`: the
# addon's security/marketplace_rules.xml and the stock/product/base multi-company rules.
# `parent_of` becomes `in`: the mock's companies have no parents.
RULES: dict[str, Callable[[list[int]], Domain]] = {
    "marketplace.channel": _company_in("company_id"),
    "marketplace.listing": _company_in("channel_id.company_id"),
    "marketplace.allocation": _company_in("channel_id.company_id"),
    "marketplace.stock.event": _company_or_none("product_id.company_id"),
    "product.template": _company_or_none("company_id"),
    "product.product": _company_or_none("product_tmpl_id.company_id"),  # via _inherits
    "res.company": _company_in("id"),
    "res.partner": _company_or_none("company_id"),
    "stock.location": _company_in("company_id", with_empty=True),
    "stock.lot": _company_in("company_id", with_empty=True),
    "stock.quant": _company_in("company_id", with_empty=True),
    "stock.move": _company_in("company_id"),
    "stock.picking": _company_in("company_id"),
    "stock.picking.type": _company_in("company_id"),
    "stock.warehouse": _company_in("company_id"),
}


# The groups of a real Odoo 18's admin with the addon: what a fixture user without
# `groups` holds for the access rights (so even admin may not delete a quant by hand).
ADMIN_GROUPS = frozenset({
    "Administration/Access Rights", "Administration/Settings", "Extra Rights/Contact Creation",
    "Extra Rights/Product Creation", "Extra Rights/Technical Features", "Inventory/Administrator",
    "Inventory/User", "Marketplaces/Manager", "Marketplaces/User", "User types/Internal User",
})


def user_groups(env: Env) -> frozenset[str] | None:
    """The user's group names; None for an administrator (no `groups` in its fixture row)."""
    row = env.store.row("res.users", env.uid) or {}
    groups = row.get("groups")
    return None if groups is None else frozenset(groups)


def check_model_access(env: Env, model: str, mode: str) -> None:
    """ir.model.access.check: an AccessError naming the groups that may, as Odoo words it."""
    if env.context.get("_sudo") or env.uid == 1:
        return
    groups = user_groups(env)
    if groups is None:
        if model not in ACCESS:
            return  # another series' model (e.g. 16.0's stock.immediate.transfer): admin may
        groups = ADMIN_GROUPS
    allowed = ACCESS.get(model, {}).get(mode, ())
    if groups.isdisjoint(allowed):
        kind = env.schema[model].description if model in env.schema else model
        header = _HEADERS[mode].format(kind=kind, model=model)
        if allowed:
            info = "This operation is allowed for the following groups:\n" + "\n".join(f"\t- {g}" for g in allowed)
        else:
            info = "No group currently allows this operation."
        raise AccessError(f"{header}\n\n{info}\n\nContact your administrator to request access if necessary.")


def has_access(env: Env, model: str, mode: str) -> bool:
    try:
        check_model_access(env, model, mode)
    except AccessError:
        return False
    return True


def allowed_companies(env: Env) -> list[int]:
    """env.companies over RPC: the context's allowed_company_ids, else all the user's companies."""
    row = env.store.row("res.users", env.uid) or {}
    mine = list(row.get("company_ids") or []) or [row.get("company_id") or 1]
    asked = env.context.get("allowed_company_ids")
    if isinstance(asked, list) and asked:
        return [c for c in asked if c in mine] or mine
    return mine


def rule_predicate(env: Env, model: str) -> Callable[[dict[str, Any]], bool] | None:
    """The row test of the model's record rules for this user; None when nothing is hidden."""
    if env.uid == 1 or env.context.get("_sudo") or model not in RULES:
        return None
    companies = allowed_companies(env)
    if user_groups(env) is None and set(companies) >= set(env.store.table("res.company")):
        return None  # an administrator allowed in every company: the rules hide nothing it made
    from connector.mock_erp.domain import compile_domain

    pred, _ = compile_domain(env.with_context(_sudo=True), model, RULES[model](companies))
    return pred


def check_rules(env: Env, model: str, ids: list[int], mode: str) -> None:
    """ir.rule._make_access_error when a record the call names is hidden by a rule."""
    pred = rule_predicate(env, model)
    if pred is None:
        return
    table = env.store.table(model)
    hidden = [rid for rid in ids if rid in table and not pred(table[rid])]
    if hidden:
        raise AccessError(_rule_message(env, model, hidden, mode))


def _rule_message(env: Env, model: str, hidden: list[int], mode: str) -> str:
    """ir.rule._make_access_error as Odoo 18 words it outside debug mode."""
    user = env.store.row("res.users", env.uid) or {}
    kind = env.schema[model].description
    message = ("Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
               f"Sorry, {user.get('name')} (id={env.uid}) doesn't have '{mode}' access to:\n"
               f"- {kind} ({model})\n\n"
               "If you really, really need access, perhaps you can win over your friendly administrator "
               "with a batch of freshly baked cookies.")
    if "company_id" in env.schema[model].fields:  # _get_redirect_suggested_company
        table = env.store.table(model)
        companies: set[int] = {int(c) for rid in hidden[:6] if (c := table[rid].get("company_id"))}
        if len(companies) > 1:
            message += "\n\nNote: this might be a multi-company issue. Switching company may help - in Odoo, not in real life!"
        elif companies and companies <= set(user.get("company_ids") or []):
            company = env.store.row("res.company", companies.pop()) or {}
            message += ("\n\nThis seems to be a multi-company issue, you might be able to access the record by "
                        f"switching to the company: {company.get('name')}.")
        elif companies:
            message += ("\n\nThis seems to be a multi-company issue, but you do not have access to the proper "
                        "company to access the record anyhow.")
    return message


def check_listing_write(env: Env, vals: dict[str, Any]) -> None:
    """The addon's MarketplaceListing._check_bridge_write: the bridge reports sync status only."""
    groups = user_groups(env)
    if groups is None or env.context.get("_sudo") or BRIDGE_GROUP not in groups or MANAGER_GROUP in groups:
        return
    forbidden = sorted(set(vals) - BRIDGE_WRITABLE_FIELDS)
    if forbidden:
        raise AccessError(f"The marketplace bridge may only write sync status fields, not: {', '.join(forbidden)}")
