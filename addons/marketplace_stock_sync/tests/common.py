# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import TransactionCase

from ..models import marketplace_stock_event as event_module


class MarketplaceCase(TransactionCase):
    """Shared fixtures: a warehouse, two storable products in stock, a channel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Event = cls.env["marketplace.stock.event"]
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.stock = cls.warehouse.lot_stock_id
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.suppliers = cls.env.ref("stock.stock_location_suppliers")
        cls.product = cls._storable("MSS-1")
        cls.product2 = cls._storable("MSS-2")
        quants = cls.env["stock.quant"]
        quants._update_available_quantity(cls.product, cls.stock, 10.0)
        quants._update_available_quantity(cls.product2, cls.stock, 10.0)
        cls.channel = cls.env["marketplace.channel"].create(
            {
                "name": "Test shop",
                "code": "test_shop",
                "marketplace": "shopify",
                "warehouse_ids": [Command.set(cls.warehouse.ids)],
            }
        )
        cls.listing = cls.env["marketplace.listing"].create(
            {"channel_id": cls.channel.id, "product_id": cls.product.id, "channel_sku": "MSS-1"}
        )
        # Creating the channel's listing queued a manual event: write it now and drop it,
        # so that every test starts with no event for the fixture products.
        cls.env.cr.flush()
        cls.Event.search([("product_id", "in", (cls.product | cls.product2).ids)]).unlink()

    @classmethod
    def _storable(cls, code):
        return cls.env["product.product"].create(
            {"name": code, "default_code": code, "type": "consu", "is_storable": True}
        )

    def setUp(self):
        super().setUp()
        # The cursor outlives each test's savepoint: forget the dedup state and the
        # wake-up flag an earlier test left in the transaction-scoped callback data.
        for key in (event_module._WRITTEN_KEY, event_module._WAKEUP_KEY):
            self.env.cr.postcommit.data.pop(key, None)
        self.env.cr.precommit.data.pop(event_module._PENDING_KEY, None)

    def _flush(self):
        # What COMMIT does first: flush the ORM and run the precommit hooks.
        self.env.cr.flush()

    def _events(self, product=None, reason=None):
        domain = [("product_id", "=", (product or self.product).id)]
        if reason:
            domain.append(("reason", "=", reason))
        return self.Event.search(domain)

    def _picking(self, picking_type, source, dest, lines):
        return self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": dest.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.display_name,
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": dest.id,
                        }
                    )
                    for product, qty in lines
                ],
            }
        )

    def _delivery(self, lines, validate=True):
        picking = self._picking(self.warehouse.out_type_id, self.stock, self.customers, lines)
        picking.action_confirm()
        picking.action_assign()
        if validate:
            picking.move_ids.picked = True
            picking.button_validate()
        return picking

    def _receipt(self, lines):
        picking = self._picking(self.warehouse.in_type_id, self.suppliers, self.stock, lines)
        picking.action_confirm()
        picking.move_ids.quantity = lines[0][1]
        picking.move_ids.picked = True
        picking.button_validate()
        return picking
