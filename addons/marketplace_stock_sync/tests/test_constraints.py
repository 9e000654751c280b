# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MarketplaceCase


@tagged("post_install", "-at_install")
class TestConstraints(MarketplaceCase):
    def assertRefused(self, model, vals):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env[model].create(vals)

    def test_channel_code_unique_across_companies(self):
        self.assertRefused(
            "marketplace.channel", {"name": "Dup", "code": "test_shop", "marketplace": "ebay"}
        )
        # the bridge keys credentials by code alone: another company may not reuse it
        other = self.env["res.company"].create({"name": "Another company"})
        self.assertRefused(
            "marketplace.channel",
            {"name": "Dup", "code": "test_shop", "marketplace": "ebay", "company_id": other.id},
        )
        second = self.env["marketplace.channel"].create(
            {"name": "Other", "code": "other_shop", "marketplace": "ebay", "company_id": other.id}
        )
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            second.write({"code": "test_shop"})
            second.flush_recordset()

    def test_channel_quantities_not_negative(self):
        base = {"name": "N", "code": "neg", "marketplace": "ebay"}
        self.assertRefused("marketplace.channel", dict(base, buffer_qty=-1))
        self.assertRefused("marketplace.channel", dict(base, max_qty=-1))

    def test_advised_buffer_policy_and_bounds(self):
        base = {"name": "B", "code": "bounds", "marketplace": "ebay"}
        self.assertRefused("marketplace.channel", dict(base, advised_buffer_min=-1))
        self.assertRefused("marketplace.channel", dict(base, advised_buffer_max=-1))
        fixed = self.env["marketplace.channel"].create(dict(base, code="fixed_by_default"))
        self.assertEqual(fixed.buffer_policy, "fixed")
        channel = self.env["marketplace.channel"].create(
            dict(base, buffer_policy="advised", advised_buffer_min=1, advised_buffer_max=3)
        )
        with self.assertRaises(ValidationError), self.cr.savepoint():
            channel.write({"advised_buffer_max": 0.5})
        channel.write({"advised_buffer_max": 0})  # 0: no maximum
        self.assertEqual(channel.advised_buffer_min, 1)

    def test_channel_sku_unique_per_channel(self):
        vals = {"channel_id": self.channel.id, "product_id": self.product2.id, "channel_sku": "MSS-1"}
        self.assertRefused("marketplace.listing", vals)
        other = self.env["marketplace.channel"].create(
            {"name": "Second", "code": "second", "marketplace": "etsy"}
        )
        self.env["marketplace.listing"].create(dict(vals, channel_id=other.id))

    def test_listing_pack_size_and_quantities(self):
        vals = {"channel_id": self.channel.id, "product_id": self.product2.id, "channel_sku": "P"}
        self.assertRefused("marketplace.listing", dict(vals, pack_size=0))
        self.assertRefused("marketplace.listing", dict(vals, max_qty=-1))
        self.assertRefused("marketplace.listing", dict(vals, buffer_qty=-2))
        self.assertEqual(self.env["marketplace.listing"].create(vals).pack_size, 1)

    def test_allocation_dates_ordered_and_quantity_positive(self):
        now = fields.Datetime.now()
        vals = {
            "channel_id": self.channel.id,
            "product_id": self.product.id,
            "mode": "allocation",
            "quantity": 5,
        }
        self.assertRefused(
            "marketplace.allocation",
            dict(vals, date_start=now, date_end=now - timedelta(days=1)),
        )
        self.assertRefused("marketplace.allocation", dict(vals, quantity=-1))
        self.env["marketplace.allocation"].create(
            dict(vals, date_start=now, date_end=now + timedelta(days=1))
        )
        self.env["marketplace.allocation"].create(dict(vals, mode="reservation"))

    def test_cron_prunes_old_events(self):
        old, recent = self.Event.create(
            [
                {"product_id": self.product.id, "reason": "manual"},
                {"product_id": self.product2.id, "reason": "manual"},
            ]
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE marketplace_stock_event SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(days=31), old.id),
        )
        self.Event.invalidate_model(["create_date"])
        self.Event._cron_prune_events()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())
