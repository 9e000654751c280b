# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

# Last time the edge cron looked (UTC, Odoo datetime string): the next run emits events
# for allocations whose date_start or date_end fell in (last run, now].
PARAM_EDGES_CHECKED = "marketplace_stock_sync.allocation_edges_checked_at"

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

    @api.model_create_multi
    def create(self, vals_list):
        allocations = super().create(vals_list)
        # A flash sale that starts now must reach the other channels now, not at the
        # next safety-net resync: every channel's number for the product moves.
        self.env["marketplace.stock.event"]._record_products(allocations.product_id, "manual")
        return allocations

    def write(self, vals):
        # The products before the write too: an allocation moved to another product
        # gives the first one's units back.
        products = self.product_id
        res = super().write(vals)
        self.env["marketplace.stock.event"]._record_products(
            products | self.product_id, "manual"
        )
        return res

    def unlink(self):
        products = self.product_id
        res = super().unlink()
        self.env["marketplace.stock.event"]._record_products(products, "manual")
        return res

    @api.model
    def _cron_allocation_edges(self):
        """Queue events for products whose allocation started or ended since the last run.

        Time passing writes nothing, so without this the channels would only learn at the
        bridge's next safety-net resync. Runs every minute (data/ir_cron.xml); the first
        run only records the time. Example: ``env["marketplace.allocation"]
        ._cron_allocation_edges()``.
        """
        params = self.env["ir.config_parameter"].sudo()
        now = fields.Datetime.now()
        last = fields.Datetime.to_datetime(params.get_param(PARAM_EDGES_CHECKED) or False)
        params.set_param(PARAM_EDGES_CHECKED, fields.Datetime.to_string(now))
        if not last or last >= now:
            return True
        crossed = self.sudo().search(
            [
                "|",
                "&",
                ("date_start", ">", last),
                ("date_start", "<=", now),
                "&",
                ("date_end", ">", last),
                ("date_end", "<=", now),
            ]
        )
        self.env["marketplace.stock.event"]._record_products(crossed.product_id, "manual")
        return True
