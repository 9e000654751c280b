# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_compare

MARKETPLACES = [
    ("amazon", "Amazon"),
    ("bol", "bol.com"),
    ("zalando", "Zalando"),
    ("kaufland", "Kaufland"),
    ("ebay", "eBay"),
    ("shopify", "Shopify"),
    ("etsy", "Etsy"),
    ("woocommerce", "WooCommerce"),
    ("lazada", "Lazada"),
    ("shopee", "Shopee"),
]

ZERO_STOCK_ACTIONS = [
    ("push_zero", "Push 0"),
    ("deactivate", "Deactivate the listing"),
    ("end_listing", "End the listing"),
]

BUFFER_POLICIES = [
    ("fixed", "Fixed"),
    ("advised", "Advised by the bridge"),
]

# Fields that change the number every listing of the channel publishes (or whether it
# publishes at all): a write queues a "manual" event for the channel's products.
PUBLISHING_FIELDS = frozenset(
    {
        "active",
        "company_id",
        "warehouse_ids",
        "excluded_location_ids",
        "buffer_qty",
        "max_qty",
        "zero_stock_action",
    }
)


class MarketplaceChannel(models.Model):
    """One shop on one marketplace: which stock it sees and how its numbers are shaped.

    The bridge reads these records over RPC; its credentials for the shop are keyed by
    ``code``. Example: ``env["marketplace.channel"].create({"name": "Amazon DE",
    "code": "amazon_de", "marketplace": "amazon"})``.
    """

    _name = "marketplace.channel"
    _description = "Marketplace Channel"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=False)
    code = fields.Char(
        required=True,
        help="Technical code of the channel, unique across all companies: the bridge "
        "keys this shop's API credentials and its sync worker by it "
        "([channels.<code>] in bridge.toml, STOCK_BRIDGE_<CODE>_<KEY> variables).",
    )
    marketplace = fields.Selection(MARKETPLACES, required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    warehouse_ids = fields.Many2many(
        "stock.warehouse",
        string="Warehouses",
        check_company=True,
        help="Stock under these warehouses' stock locations is offered on this channel.",
    )
    excluded_location_ids = fields.Many2many(
        "stock.location",
        string="Excluded Locations",
        check_company=True,
        domain="[('usage', '=', 'internal')]",
        help="Internal locations (and their children) that never count for this channel, "
        "e.g. quality control or a showroom.",
    )
    buffer_qty = fields.Float(
        string="Buffer",
        digits="Product Unit of Measure",
        help="Units held back from every listing of this channel, against oversells "
        "while a change travels to the marketplace. A listing can override it.",
    )
    buffer_policy = fields.Selection(
        BUFFER_POLICIES,
        required=True,
        default="fixed",
        help="Fixed: the buffers are what you set here and on the listings. Advised: "
        "`stock-bridge advise --apply` sets each listing's buffer from its sales and the "
        "channel's measured delay, within the bounds below.",
    )
    advised_buffer_min = fields.Float(
        string="Advised Buffer Minimum",
        digits="Product Unit of Measure",
        help="An advised buffer is never below this.",
    )
    advised_buffer_max = fields.Float(
        string="Advised Buffer Maximum",
        digits="Product Unit of Measure",
        help="An advised buffer is never above this. 0 means no maximum.",
    )
    max_qty = fields.Float(
        string="Cap",
        digits="Product Unit of Measure",
        help="Never publish more than this many units per listing. 0 means no cap.",
    )
    zero_stock_action = fields.Selection(
        ZERO_STOCK_ACTIONS,
        help="What the channel does when a listing reaches 0. Empty: the marketplace's "
        "default (Etsy deactivates, the others push 0).",
    )
    listing_ids = fields.One2many("marketplace.listing", "channel_id", string="Listings")
    listing_count = fields.Integer(compute="_compute_listing_count")

    _sql_constraints = [
        # not per company: the bridge serves every company and keys credentials by code
        (
            "code_uniq",
            "unique(code)",
            "The channel code must be unique across all companies: the bridge keys each "
            "shop's credentials by it.",
        ),
        ("buffer_qty_positive", "CHECK(buffer_qty >= 0)", "The buffer cannot be negative."),
        ("max_qty_positive", "CHECK(max_qty >= 0)", "The cap cannot be negative."),
        (
            "advised_buffer_bounds_positive",
            "CHECK(advised_buffer_min >= 0 AND advised_buffer_max >= 0)",
            "The advised buffer bounds cannot be negative.",
        ),
    ]

    @api.constrains("advised_buffer_min", "advised_buffer_max")
    def _check_advised_buffer_bounds(self):
        for channel in self:
            if channel.advised_buffer_max and (
                float_compare(channel.advised_buffer_max, channel.advised_buffer_min, precision_digits=6)
                < 0
            ):
                raise ValidationError(
                    self.env._(
                        "The advised buffer maximum of %(channel)s is below its minimum.",
                        channel=channel.display_name,
                    )
                )

    def write(self, vals):
        res = super().write(vals)
        if not PUBLISHING_FIELDS.isdisjoint(vals):
            self.env["marketplace.stock.event"]._record_products(
                self._marketplace_products(), "manual"
            )
        return res

    def unlink(self):
        # Read before: the cascade takes the listings and allocations with the channel, and
        # the other channels get back the units this one's allocations held.
        products = self._marketplace_products()
        res = super().unlink()
        self.env["marketplace.stock.event"]._record_products(products, "manual")
        return res

    def _marketplace_products(self):
        """Products of these channels' active listings and of their allocations."""
        # sudo: only ids leave this method, and a record rule must not hide a product.
        listings = self.env["marketplace.listing"].sudo().search([("channel_id", "in", self.ids)])
        allocations = (
            self.env["marketplace.allocation"].sudo().search([("channel_id", "in", self.ids)])
        )
        return listings.product_id | allocations.product_id

    def _compute_listing_count(self):
        counts = {
            channel.id: count
            for channel, count in self.env["marketplace.listing"]._read_group(
                [("channel_id", "in", self.ids)], ["channel_id"], ["__count"]
            )
        }
        for channel in self:
            channel.listing_count = counts.get(channel.id, 0)

    def action_view_listings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "marketplace_stock_sync.marketplace_listing_action"
        )
        action["domain"] = [("channel_id", "=", self.id)]
        action["context"] = {"default_channel_id": self.id}
        return action

    def action_resync(self):
        """Ask the bridge to recompute and push every listing of these channels."""
        listings = self.env["marketplace.listing"].search([("channel_id", "in", self.ids)])
        self.env["marketplace.stock.event"]._record_products(listings.product_id, "manual")
        return True
