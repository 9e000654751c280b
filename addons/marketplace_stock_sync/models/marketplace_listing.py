# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

SYNC_STATES = [
    ("pending", "Pending"),
    ("synced", "Synced"),
    ("error", "Error"),
    ("deactivated", "Deactivated"),
    ("locked", "Locked"),
]

# The only fields the bridge's technical user may change: the sync status it reports.
BRIDGE_WRITABLE_FIELDS = frozenset({"sync_state", "last_pushed_qty", "last_sync_at", "last_error"})
BRIDGE_GROUP = "marketplace_stock_sync.group_marketplace_bridge"
MANAGER_GROUP = "marketplace_stock_sync.group_marketplace_manager"
# Fields that change what (or where) the listing publishes: a write queues a "manual"
# event so the bridge re-pushes now. The sync status fields are not here: the bridge
# writes them after every push, and an event for them would loop.
PUBLISHING_FIELDS = frozenset(
    {
        "channel_id",
        "product_id",
        "channel_sku",
        "external_id",
        "buffer_override",
        "buffer_qty",
        "max_qty",
        "pack_size",
        "active",
    }
)


class MarketplaceListing(models.Model):
    """The binding of one product to one offer on one channel (OCA connector's binder).

    Example: ``env["marketplace.listing"].create({"channel_id": channel.id,
    "product_id": product.id, "channel_sku": "SKU-1"})``.
    """

    _name = "marketplace.listing"
    _description = "Marketplace Listing"
    _order = "channel_id, channel_sku, id"
    _rec_name = "channel_sku"

    channel_id = fields.Many2one(
        "marketplace.channel", required=True, index=True, ondelete="cascade"
    )
    product_id = fields.Many2one(
        "product.product", required=True, index=True, ondelete="restrict"
    )
    channel_sku = fields.Char(
        string="Channel SKU",
        required=True,
        help="The identifier the seller uses on the marketplace (seller SKU, EAN, ...).",
    )
    external_id = fields.Char(
        string="External ID",
        help="The marketplace's own handle for the offer, when it has one (offer id, "
        "inventory item id, item_id/model_id, ...).",
    )
    buffer_override = fields.Boolean(
        help="Use this listing's own buffer instead of the channel's rule. Odoo stores an "
        "empty number as 0, so this flag is what tells 'inherit' from 'no buffer'.",
    )
    buffer_qty = fields.Float(
        string="Listing Buffer",
        digits="Product Unit of Measure",
        help="Units held back for this listing only, when Buffer Override is ticked.",
    )
    max_qty = fields.Float(
        string="Cap",
        digits="Product Unit of Measure",
        help="Never publish more than this. 0 means no cap; the channel's cap also applies.",
    )
    pack_size = fields.Integer(
        default=1,
        help="Units sold together as one marketplace unit: the published number is "
        "the free stock divided by this, rounded down.",
    )
    active = fields.Boolean(default=True)
    sync_state = fields.Selection(
        SYNC_STATES,
        default="pending",
        required=True,
        help="Written by the bridge after every push.",
    )
    last_pushed_qty = fields.Float(
        string="Last Pushed Quantity", digits="Product Unit of Measure", readonly=True
    )
    last_sync_at = fields.Datetime(string="Last Sync", readonly=True)
    last_error = fields.Text(readonly=True, help="The marketplace's own message, if any.")

    _sql_constraints = [
        (
            "channel_sku_uniq",
            "unique(channel_id, channel_sku)",
            "A channel SKU can only be listed once per channel.",
        ),
        ("pack_size_positive", "CHECK(pack_size >= 1)", "The pack size must be at least 1."),
        ("max_qty_positive", "CHECK(max_qty >= 0)", "The cap cannot be negative."),
        (
            "buffer_qty_positive",
            "CHECK(buffer_qty IS NULL OR buffer_qty >= 0)",
            "The buffer cannot be negative.",
        ),
    ]

    @api.constrains("channel_id", "product_id")
    def _check_product_company(self):
        for listing in self:
            product_company = listing.product_id.company_id
            if product_company and product_company != listing.channel_id.company_id:
                raise ValidationError(
                    self.env._(
                        "Product %(product)s belongs to another company than channel "
                        "%(channel)s.",
                        product=listing.product_id.display_name,
                        channel=listing.channel_id.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        listings = super().create(vals_list)
        self.env["marketplace.stock.event"]._record_products(listings.product_id, "manual")
        return listings

    def write(self, vals):
        self._check_bridge_write(vals)
        if PUBLISHING_FIELDS.isdisjoint(vals):
            return super().write(vals)
        products = self.product_id
        res = super().write(vals)
        self.env["marketplace.stock.event"]._record_products(
            products | self.product_id, "manual"
        )
        return res

    @api.model
    def report_sync_status(self, statuses):
        """The bridge's status write-back for many listings in one call.

        ``statuses`` is a list of dicts: ``id`` plus any of the sync status fields
        (``sync_state``, ``last_pushed_qty``, ``last_sync_at``, ``last_error``).
        Listings with equal values are written together, through ``write`` and so under
        the caller's access rights, record rules and the bridge write guard; ids of
        listings deleted meanwhile are skipped. Returns the ids written.

        One RPC instead of one per distinct quantity: on a real server every RPC pays
        the API key check, so the write-back of a stock change on ten channels with
        ten different numbers would otherwise cost ten calls.
        """
        groups = defaultdict(list)
        for status in statuses:
            if not isinstance(status, dict) or "id" not in status:
                raise ValidationError(self.env._("Each status needs the listing's id."))
            vals = {key: value for key, value in status.items() if key != "id"}
            unknown = sorted(set(vals) - BRIDGE_WRITABLE_FIELDS)
            if unknown:
                raise ValidationError(
                    self.env._(
                        "Only sync status fields can be reported, not: %s",
                        ", ".join(unknown),
                    )
                )
            groups[tuple(sorted(vals.items()))].append(int(status["id"]))
        written = []
        for vals, ids in groups.items():
            listings = self.browse(ids).exists()
            if listings:
                listings.write(dict(vals))
                written.extend(listings.ids)
        return written

    def action_resync(self):
        """Ask the bridge to recompute and push these listings now."""
        self.env["marketplace.stock.event"]._record_products(self.product_id, "manual")
        return True

    def _check_bridge_write(self, vals):
        # The bridge's technical user holds write access only so that it can report
        # sync status; it must never change what is listed or how it is computed.
        if self.env.su or not self.env.user.has_group(BRIDGE_GROUP):
            return
        if self.env.user.has_group(MANAGER_GROUP):
            return
        forbidden = sorted(set(vals) - BRIDGE_WRITABLE_FIELDS)
        if forbidden:
            raise AccessError(
                self.env._(
                    "The marketplace bridge may only write sync status fields, not: %s",
                    ", ".join(forbidden),
                )
            )
