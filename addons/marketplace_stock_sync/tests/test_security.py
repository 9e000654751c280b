# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import MarketplaceCase


@tagged("post_install", "-at_install")
class TestSecurity(MarketplaceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bridge = new_test_user(
            cls.env,
            login="mss_bridge",
            groups="base.group_user,marketplace_stock_sync.group_marketplace_bridge",
        )
        cls.user = new_test_user(
            cls.env,
            login="mss_user",
            groups="base.group_user,marketplace_stock_sync.group_marketplace_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="mss_manager",
            groups="base.group_user,marketplace_stock_sync.group_marketplace_manager",
        )

    def test_bridge_reads_config_and_stock(self):
        env = self.env(user=self.bridge)
        self.assertEqual(env["marketplace.channel"].search([]).code, "test_shop")
        self.assertEqual(
            env["marketplace.listing"].search_read([], ["channel_sku", "buffer_qty"])[0][
                "channel_sku"
            ],
            "MSS-1",
        )
        quants = env["stock.quant"].search_read(
            [("product_id", "=", self.product.id), ("location_id", "=", self.stock.id)],
            ["quantity", "reserved_quantity"],
        )
        self.assertEqual(quants[0]["quantity"], 10.0)
        env["marketplace.stock.event"].search_read([], ["product_id", "reason", "move_id"])

    def test_bridge_writes_only_sync_status(self):
        listing = self.listing.with_user(self.bridge)
        listing.write({"sync_state": "error", "last_error": "unknown SKU", "last_pushed_qty": 3})
        self.assertEqual(self.listing.sync_state, "error")
        with self.assertRaises(AccessError):
            listing.write({"channel_sku": "OTHER"})
        with self.assertRaises(AccessError):
            listing.write({"sync_state": "synced", "pack_size": 2})
        with self.assertRaises(AccessError):
            self.channel.with_user(self.bridge).write({"buffer_qty": 5})
        with self.assertRaises(AccessError):
            self.env["marketplace.listing"].with_user(self.bridge).create(
                {"channel_id": self.channel.id, "product_id": self.product2.id, "channel_sku": "X"}
            )
        with self.assertRaises(AccessError):
            self.env["stock.quant"].with_user(self.bridge).create(
                {"product_id": self.product.id, "location_id": self.stock.id, "quantity": 1}
            )

    def test_bridge_reports_many_statuses_in_one_call(self):
        second = self.env["marketplace.listing"].create(
            {"channel_id": self.channel.id, "product_id": self.product2.id, "channel_sku": "MSS-2"}
        )
        gone = self.env["marketplace.listing"].create(
            {"channel_id": self.channel.id, "product_id": self.product2.id, "channel_sku": "MSS-3"}
        )
        gone_id = gone.id
        gone.unlink()
        events = self.env["marketplace.stock.event"].search_count([])
        written = (
            self.env["marketplace.listing"]
            .with_user(self.bridge)
            .report_sync_status(
                [
                    {"id": self.listing.id, "sync_state": "synced", "last_pushed_qty": 4},
                    {"id": second.id, "sync_state": "error", "last_error": "unknown SKU"},
                    {"id": gone_id, "sync_state": "synced", "last_pushed_qty": 1},
                ]
            )
        )
        self.assertEqual(sorted(written), sorted([self.listing.id, second.id]))
        self.assertEqual((self.listing.sync_state, self.listing.last_pushed_qty), ("synced", 4))
        self.assertEqual((second.sync_state, second.last_error), ("error", "unknown SKU"))
        # status reports are no publishing change: no outbox event, no loop
        self.assertEqual(self.env["marketplace.stock.event"].search_count([]), events)
        with self.assertRaises(ValidationError):
            self.env["marketplace.listing"].with_user(self.bridge).report_sync_status(
                [{"id": self.listing.id, "channel_sku": "OTHER"}]
            )
        self.assertEqual(self.listing.channel_sku, "MSS-1")

    def test_user_reads_manager_configures(self):
        with self.assertRaises(AccessError):
            self.channel.with_user(self.user).write({"buffer_qty": 1})
        self.channel.with_user(self.manager).write({"buffer_qty": 1})
        self.listing.with_user(self.manager).write({"channel_sku": "MSS-1B"})
        self.assertEqual(self.listing.channel_sku, "MSS-1B")

    def test_multi_company_rules(self):
        other = self.env["res.company"].create({"name": "Other marketplace company"})
        other_warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", other.id)], limit=1
        )
        other_channel = self.env["marketplace.channel"].create(
            {
                "name": "Other shop",
                "code": "other_company_shop",
                "marketplace": "bol",
                "company_id": other.id,
                "warehouse_ids": [Command.set(other_warehouse.ids)],
            }
        )
        self.env["marketplace.listing"].create(
            {"channel_id": other_channel.id, "product_id": self.product.id, "channel_sku": "O-1"}
        )
        channels = self.env["marketplace.channel"].with_user(self.bridge).search([])
        self.assertEqual(channels, self.channel)
        listings = self.env["marketplace.listing"].with_user(self.bridge).search([])
        self.assertEqual(listings, self.listing)
