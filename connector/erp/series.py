"""What differs between Odoo series 16.0-19.0, as data (see reference/odoo.md, section 3).

Usage::

    profile = profile_for(client.server_version_info)
    client.call("product.product", "search", [*profile.storable_domain])
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from connector.erp.errors import ErpError

log = logging.getLogger(__name__)

MIN_MAJOR, MAX_MAJOR = 16, 19


@dataclass(frozen=True, slots=True)
class SeriesProfile:
    """Field names and capabilities of one Odoo series."""

    series: str  # "16.0" .. "19.0"
    major: int
    storable_domain: tuple[tuple[str, str, Any], ...]  # storable products
    product_type_field: str  # field to read to tell storable products
    move_quantity_field: str  # done (16) / picked-or-reserved (17+) quantity on stock.move
    move_line_quantity_field: str
    has_json2: bool
    has_any_operator: bool  # domain operator "any" (17+)


def parse_version(version: dict[str, Any]) -> tuple[int, int]:
    """(major, minor) from a `common.version` answer ("saas~17.2" -> (17, 2))."""
    info = version.get("server_version_info")
    if isinstance(info, (list, tuple)) and len(info) >= 2 and isinstance(info[0], int):
        return int(info[0]), int(info[1]) if isinstance(info[1], int) else 0
    text = str(version.get("server_serie") or version.get("server_version") or "")
    match = re.search(r"(\d+)\.(\d+)", text)
    if not match:
        raise ErpError(f"cannot tell the Odoo version from {text!r}")
    return int(match.group(1)), int(match.group(2))


def profile_for(major: int) -> SeriesProfile:
    """The profile of a major version; outside 16-19 an error (below) or a warning (above)."""
    if major < MIN_MAJOR:
        raise ErpError(f"Odoo {major}.0 is not supported: the bridge needs Odoo 16.0 to 19.0")
    if major > MAX_MAJOR:
        log.warning("Odoo %d.0 is newer than the bridge knows (19.0); using 19.0 field names",
                    major)
    storable: tuple[tuple[str, str, Any], ...] = (
        (("type", "=", "product"),) if major <= 17 else (("is_storable", "=", True),)
    )
    return SeriesProfile(
        series=f"{major}.0",
        major=major,
        storable_domain=storable,
        product_type_field="type" if major <= 17 else "is_storable",
        move_quantity_field="quantity_done" if major == 16 else "quantity",
        move_line_quantity_field="qty_done" if major == 16 else "quantity",
        has_json2=major >= 19,
        has_any_operator=major >= 17,
    )
