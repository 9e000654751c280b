# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _apply_inventory(self, *args, **kwargs):
        # *args: 19.0 adds parameters; this hook only needs the quants' products.
        products = self.product_id.filtered("is_storable")
        res = super()._apply_inventory(*args, **kwargs)
        self.env["marketplace.stock.event"]._record_products(products, "adjustment")
        return res
