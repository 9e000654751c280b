# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

from .stock_move import FLOW_CONTEXT, STOCK_USAGES


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _apply_inventory(self, *args, **kwargs):
        # *args: 19.0 adds parameters; this hook only needs the quants' products.
        products = self.product_id.filtered("is_storable")
        res = super(StockQuant, self.with_context(**{FLOW_CONTEXT: True}))._apply_inventory(
            *args, **kwargs
        )
        self.env["marketplace.stock.event"]._record_products(products, "adjustment")
        return res

    # Every change of a quant's quantity or reservation goes through the two methods
    # below (18.0: _update_available_quantity(product_id, location_id, quantity=False,
    # reserved_quantity=False, lot_id=None, package_id=None, owner_id=None, in_date=None);
    # _update_reserved_quantity(product_id, location_id, quantity, lot_id=None,
    # package_id=None, owner_id=None, strict=True) delegates to the first). Hooking them
    # catches what the move-level hooks cannot see: editing a move's quantity or its
    # detailed operations changes the reservation through move lines, without
    # _action_assign or _do_unreserve; editing a done move line changes on-hand stock
    # without _action_done. *args/**kwargs: later series add parameters.

    @api.model
    def _update_available_quantity(self, product_id, location_id, *args, **kwargs):
        res = super()._update_available_quantity(product_id, location_id, *args, **kwargs)
        quantity = kwargs.get("quantity", args[0] if args else False)
        self._marketplace_quant_changed(
            product_id, location_id, "move_done" if quantity else "reservation"
        )
        return res

    @api.model
    def _update_reserved_quantity(self, product_id, location_id, *args, **kwargs):
        res = super()._update_reserved_quantity(product_id, location_id, *args, **kwargs)
        self._marketplace_quant_changed(product_id, location_id, "reservation")
        return res

    @api.model
    def _marketplace_quant_changed(self, product, location, reason):
        """Queue an event for a quant change made outside the known flows.

        Inside _action_done/_action_assign/_do_unreserve/_action_cancel/_apply_inventory
        the flow records its own reason (receipt, return, cancel...), so nothing here.
        The outbox keeps one event per product and reason per transaction.
        """
        if self.env.context.get(FLOW_CONTEXT):
            return
        if not (product and product.is_storable and location.usage in STOCK_USAGES):
            return
        self.env["marketplace.stock.event"]._record([(product.id, reason, False)])
