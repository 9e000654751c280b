# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

ALLOCATION_MODES = [
    ("allocation", "Allocation (ring-fenced for this channel only)"),
    ("reservation", "Reservation (hidden from the other channels)"),
]


class MarketplaceAllocation(models.Model):
    """Units of a product held for one channel, for a period (e.g. a campaign).

    Example: ``env["marketplace.allocation"].create({"channel_id": c.id,
    "product_id": p.id, "mode": "allocation", "quantity": 10})``.
    """

    _name = "marketplace.allocation"
    _description = "Marketplace Stock Allocation"
    _order = "date_start desc, id desc"
    _rec_name = "product_id"

    channel_id = fields.Many2one(
        "marketplace.channel", required=True, index=True, ondelete="cascade"
    )
    product_id = fields.Many2one(
        "product.product", required=True, index=True, ondelete="cascade"
    )
    mode = fields.Selection(
        ALLOCATION_MODES,
        required=True,
        default="allocation",
        help="Allocation: only this channel sees these units, and it sees nothing else. "
        "Reservation: the other channels do not see these units; this channel still "
        "sees the whole pool.",
    )
    quantity = fields.Float(
        digits="Product Unit of Measure",
        required=True,
        help="Units still held. Lower it (or end the allocation) as sales consume it.",
    )
    date_start = fields.Datetime(string="Start", help="Empty: already started.")
    date_end = fields.Datetime(string="End", help="Empty: open-ended. Exclusive.")

    _sql_constraints = [
        ("quantity_positive", "CHECK(quantity >= 0)", "The quantity cannot be negative."),
        (
            "dates_ordered",
            "CHECK(date_start IS NULL OR date_end IS NULL OR date_start < date_end)",
            "The allocation must end after it starts.",
        ),
    ]
