"""Shopify Admin API version lifecycle: which version is supported when, which one Shopify
will serve for a retired one, and which mutation syntax a version takes.

Shopify, "About Shopify API versioning" (shopify.dev/docs/api/usage/versioning): a new
stable version every three months, named after its release month ("2026-04" = April 1,
2026), and "Each stable version is supported for a minimum of 12 months". A request to a
version that is no longer supported is answered by the oldest supported stable version
(Shopify's answer in its community forum, "the expected behaviour would be for Shopify to
respond with the oldest stable version"); every reply says which version answered in its
`X-Shopify-API-Version` header, which is what the adapter follows.

Syntax, from Shopify's developer changelog (Dec 12, 2025, "Concurrency protection features
for inventory and refund mutations"):
- 2026-01 adds `changeFromQuantity` to InventoryQuantityInput (compareQuantity and
  ignoreCompareQuantity deprecated) and the optional `@idempotent(key:)` directive on
  inventorySetQuantities and other inventory/refund mutations (inventoryActivate's reference
  page says the same: optional from 2026-01, required from 2026-04);
- 2026-04 makes `changeFromQuantity` required, removes compareQuantity and
  ignoreCompareQuantity, and makes `@idempotent` mandatory on those mutations ("calling these
  mutations without an idempotency directive will result in an error at runtime").

Usage::

    supported_until("2026-04")              # date(2027, 4, 1)
    served_for("2025-07", date(2026, 12, 3))  # "2026-01": the oldest one still supported
"""

from __future__ import annotations

import re
from datetime import date

# The newest version this adapter's syntax rules were checked against (the default).
NEWEST_KNOWN = "2026-10"
SUPPORT_MONTHS = 12
WARN_DAYS = 90  # warn when the configured version retires within this many days
_VERSION = re.compile(r"^(\d{4})-(01|04|07|10)$")


def parse(version: str) -> tuple[int, int] | None:
    """(year, month) of a stable version name, or None ("unstable", a typo)."""
    match = _VERSION.match(version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def supported_until(version: str) -> date | None:
    """The first day Shopify may no longer serve `version` (12 months after its release)."""
    parts = parse(version)
    return None if parts is None else date(parts[0] + SUPPORT_MONTHS // 12, parts[1], 1)


def released(version: str) -> date | None:
    parts = parse(version)
    return None if parts is None else date(parts[0], parts[1], 1)


def oldest_supported(today: date) -> str:
    """The oldest stable version still supported on `today`: the first release after the
    same day a year earlier (one released exactly a year ago retires today)."""
    year_ago = date(today.year - 1, today.month, min(today.day, 28))
    for year in (today.year - 1, today.year):
        for month in (1, 4, 7, 10):
            if date(year, month, 1) > year_ago:
                return f"{year}-{month:02d}"
    return f"{today.year + 1}-01"  # unreachable: some release follows within a year


def served_for(version: str, today: date) -> str:
    """The version Shopify answers with for a request to `version` on `today`: itself while
    supported (or not a stable name), else the oldest supported one."""
    until = supported_until(version)
    if until is None or today < until:
        return version
    return oldest_supported(today)


def uses_change_from(version: str) -> bool:
    """`changeFromQuantity` from 2026-01 on (required from 2026-04); `compareQuantity` before."""
    return version == "unstable" or version >= "2026-01"


def needs_idempotency_key(version: str) -> bool:
    """`@idempotent` on inventory mutations: accepted from 2026-01, mandatory from 2026-04.
    Sent from 2026-01: a retried request with the same key is applied once."""
    return version == "unstable" or version >= "2026-01"
