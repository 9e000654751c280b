# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import MarketplaceCase


@tagged("post_install", "-at_install")
class TestQuantEvents(MarketplaceCase):
    """Reservation and on-hand changes made through move lines or quants directly, outside
    _action_assign/_do_unreserve/_action_done, still reach the outbox."""

    def _reasons(self, product=None):
        self._flush()
        return sorted(self._events(product).mapped("reason"))

    def _quant(self, product=None):
        return self.env["stock.quant"]._gather(product or self.product, self.stock, strict=True)

    def _assigned_delivery(self, qty=3.0):
        picking = self._delivery([(self.product, qty)], validate=False)
        self.assertEqual(picking.state, "assigned")
        self._flush()
        self._events().unlink()
        return picking

    def test_editing_detailed_operation_changes_reservation(self):
        picking = self._assigned_delivery()
        self.assertEqual(sum(self._quant().mapped("reserved_quantity")), 3.0)
        picking.move_ids.move_line_ids.quantity = 1.0
        # the reservation really went down, without _do_unreserve
        self.assertEqual(sum(self._quant().mapped("reserved_quantity")), 1.0)
        self.assertEqual(self._reasons(), ["reservation"])
        self.assertFalse(self._events(self.product2))

    def test_editing_move_quantity_changes_reservation(self):
        picking = self._assigned_delivery()
        picking.move_ids.quantity = 2.0
        self.assertEqual(sum(self._quant().mapped("reserved_quantity")), 2.0)
        self.assertEqual(self._reasons(), ["reservation"])

    def test_removing_a_move_line_frees_the_reservation(self):
        picking = self._assigned_delivery()
        picking.move_ids.move_line_ids.unlink()
        self.assertEqual(sum(self._quant().mapped("reserved_quantity")), 0.0)
        self.assertEqual(self._reasons(), ["reservation"])

    def test_direct_quant_updates_and_dedup(self):
        quants = self.env["stock.quant"]
        quants._update_available_quantity(self.product, self.stock, 2.0)
        quants._update_available_quantity(self.product, self.stock, -1.0)
        quants._update_reserved_quantity(self.product, self.stock, 1.0)
        quants._update_reserved_quantity(self.product, self.stock, -1.0)
        # one event per product and reason for the whole transaction
        self.assertEqual(self._reasons(), ["move_done", "reservation"])
        # stock outside internal/transit locations never counts for a channel
        quants._update_available_quantity(self.product2, self.customers, 1.0)
        self.assertFalse(self._events(self.product2))

    def test_known_flows_keep_their_reasons(self):
        # validate: the assign and done hooks fire; the quant hooks add nothing of their own
        self._delivery([(self.product, 2.0)])
        self.assertEqual(self._reasons(), ["move_done", "reservation"])
        self._receipt([(self.product2, 5.0)])
        self.assertEqual(self._reasons(self.product2), ["receipt"])

    def test_inventory_adjustment_is_only_an_adjustment(self):
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": self.product2.id,
                    "location_id": self.stock.id,
                    "inventory_quantity": 7.0,
                }
            )
        )
        quant.action_apply_inventory()
        self.assertEqual(self._reasons(self.product2), ["adjustment"])

    def test_unreserve_and_cancel_keep_their_reasons(self):
        picking = self._assigned_delivery()
        picking.do_unreserve()
        self.assertEqual(self._reasons(), ["reservation"])
        self._events().unlink()
        picking.action_assign()
        self._flush()
        self._events().unlink()
        picking.action_cancel()
        reasons = self._reasons()
        self.assertIn("cancel", reasons)
        # cancelling unreserves (the move-level "reservation"); stock on hand never moved
        self.assertNotIn("move_done", reasons)
