# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    marketplace_listing_count = fields.Integer(
        string="Marketplace Listings", compute="_compute_marketplace_listing_count"
    )

    def _compute_marketplace_listing_count(self):
        counts = {
            product.id: count
            for product, count in self.env["marketplace.listing"]._read_group(
                [("product_id", "in", self.ids)], ["product_id"], ["__count"]
            )
        }
        for product in self:
            product.marketplace_listing_count = counts.get(product.id, 0)

    def action_view_marketplace_listings(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "marketplace_stock_sync.marketplace_listing_action"
        )
        action["domain"] = [("product_id", "in", self.ids)]
        if len(self) == 1:
            action["context"] = {"default_product_id": self.id}
        return action

    def action_marketplace_resync(self):
        """Ask the bridge to recompute and push every listing of these products."""
        self.env["marketplace.stock.event"]._record_products(self, "manual")
        return True
