# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    marketplace_listing_count = fields.Integer(
        string="Marketplace Listings", compute="_compute_marketplace_listing_count"
    )

    def _compute_marketplace_listing_count(self):
        for template in self:
            template.marketplace_listing_count = sum(
                template.with_context(active_test=False).product_variant_ids.mapped(
                    "marketplace_listing_count"
                )
            )

    def action_view_marketplace_listings(self):
        return self.product_variant_ids.action_view_marketplace_listings()

    def action_marketplace_resync(self):
        return self.product_variant_ids.action_marketplace_resync()
