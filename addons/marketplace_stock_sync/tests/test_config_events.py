# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from ..models import marketplace_allocation as allocation_module
from ..models import marketplace_stock_event as event_module
from .common import MarketplaceCase


def _run_inline(target, *args):
    target(*args)


@tagged("post_install", "-at_install")
class TestConfigEvents(MarketplaceCase):
    """Allocations and publishing settings queue "manual" events, like stock changes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Allocation = cls.env["marketplace.allocation"]
        cls.product3 = cls._storable("MSS-3")

    def _reset(self):
        # Write what is queued, then forget it: a deleted row also clears the
        # per-transaction dedup (the outbox re-checks that its rows still exist).
        self._flush()
        self.Event.search(
            [("product_id", "in", (self.product | self.product2 | self.product3).ids)]
        ).unlink()

    def _manual(self):
        """Products with a manual event since the last reset, flushed like a COMMIT."""
        self._flush()
        events = self.Event.search(
            [
                ("product_id", "in", (self.product | self.product2 | self.product3).ids),
                ("reason", "=", "manual"),
            ]
        )
        return events.product_id

    def _allocation(self, product, **vals):
        return self.Allocation.create(
            dict(
                {
                    "channel_id": self.channel.id,
                    "product_id": product.id,
                    "mode": "allocation",
                    "quantity": 5,
                },
                **vals,
            )
        )

    # -- allocations ------------------------------------------------------------------------

    def test_allocation_create_write_unlink(self):
        self._reset()
        allocation = self._allocation(self.product2)
        self.assertEqual(self._manual(), self.product2)
        self.assertEqual(len(self.Event.search([("product_id", "=", self.product2.id)])), 1)

        self._reset()
        allocation.quantity = 3
        self.assertEqual(self._manual(), self.product2)

        self._reset()
        allocation.date_end = fields.Datetime.now() + timedelta(hours=1)
        self.assertEqual(self._manual(), self.product2)

        self._reset()
        # Moved to another product: both numbers change.
        allocation.product_id = self.product3
        self.assertEqual(self._manual(), self.product2 | self.product3)

        self._reset()
        allocation.unlink()
        self.assertEqual(self._manual(), self.product3)

    def test_one_event_per_product_for_many_allocations(self):
        self._reset()
        self._allocation(self.product2)
        self._allocation(self.product2, mode="reservation")
        self._flush()
        self._allocation(self.product2, quantity=1)
        self._flush()
        self.assertEqual(len(self.Event.search([("product_id", "=", self.product2.id)])), 1)

    # -- listings ---------------------------------------------------------------------------

    def test_listing_publishing_fields(self):
        changes = {
            "buffer_override": True,
            "buffer_qty": 2.0,
            "max_qty": 4.0,
            "pack_size": 2,
            "active": False,
        }
        for name, value in changes.items():
            with self.subTest(field=name):
                self._reset()
                self.listing.write({name: value})
                self.assertEqual(self._manual(), self.product)

    def test_listing_moved_to_another_product(self):
        self._reset()
        self.listing.product_id = self.product2
        self.assertEqual(self._manual(), self.product | self.product2)

    def test_listing_create(self):
        self._reset()
        self.env["marketplace.listing"].create(
            {"channel_id": self.channel.id, "product_id": self.product2.id, "channel_sku": "N"}
        )
        self.assertEqual(self._manual(), self.product2)

    def test_sync_status_writes_never_queue_an_event(self):
        bridge = new_test_user(
            self.env,
            login="mss_cfg_bridge",
            groups="base.group_user,marketplace_stock_sync.group_marketplace_bridge",
        )
        self._reset()
        vals = {
            "sync_state": "synced",
            "last_pushed_qty": 7,
            "last_sync_at": fields.Datetime.now(),
            "last_error": False,
        }
        self.listing.with_user(bridge).write(vals)
        self.listing.write(dict(vals, sync_state="error", last_error="refused"))
        self.assertFalse(self._manual())

    # -- channels ---------------------------------------------------------------------------

    def test_channel_publishing_fields(self):
        other = self.env["stock.location"].create(
            {"name": "QC", "usage": "internal", "location_id": self.stock.id}
        )
        changes = {
            "buffer_qty": 3.0,
            "max_qty": 10.0,
            "zero_stock_action": "deactivate",
            "warehouse_ids": [Command.clear()],
            "excluded_location_ids": [Command.set(other.ids)],
            "active": False,
        }
        for name, value in changes.items():
            with self.subTest(field=name):
                self._reset()
                self.channel.write({name: value})
                # The listed product only: product2 has no listing on this channel.
                self.assertEqual(self._manual(), self.product)

    def test_channel_includes_allocated_products_not_archived_listings(self):
        self._allocation(self.product2, mode="reservation")
        archived = self.env["marketplace.listing"].create(
            {"channel_id": self.channel.id, "product_id": self.product3.id, "channel_sku": "A"}
        )
        archived.active = False
        self._reset()
        self.channel.buffer_qty = 1.0
        self.assertEqual(self._manual(), self.product | self.product2)

    def test_channel_other_fields_queue_nothing(self):
        self._reset()
        self.channel.write({"name": "Renamed shop"})
        self.assertFalse(self._manual())

    def test_channel_unlink(self):
        channel = self.env["marketplace.channel"].create(
            {"name": "Gone", "code": "gone", "marketplace": "ebay"}
        )
        self.env["marketplace.listing"].create(
            {"channel_id": channel.id, "product_id": self.product2.id, "channel_sku": "G"}
        )
        self._allocation(self.product3, channel_id=channel.id)
        self._reset()
        channel.unlink()
        self.assertEqual(self._manual(), self.product2 | self.product3)

    # -- wake-up ----------------------------------------------------------------------------

    def test_config_change_wakes_the_bridge_after_commit(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(event_module.PARAM_URL, "http://bridge.test:8765")
        self._reset()
        with (
            patch.object(event_module, "spawn", _run_inline),
            patch.object(event_module.requests, "post") as post,
        ):
            post.return_value.status_code = 202
            self._allocation(self.product2, mode="reservation")
            self._flush()
            post.assert_not_called()
            self.env.cr.postcommit.run()
        self.assertEqual(post.call_count, 1)
        self.assertIn(b'"reason":"manual"', post.call_args.kwargs["data"])

    # -- time edges -------------------------------------------------------------------------

    def _set_last_run(self, when):
        self.env["ir.config_parameter"].sudo().set_param(
            allocation_module.PARAM_EDGES_CHECKED, fields.Datetime.to_string(when)
        )

    def _last_run(self):
        return fields.Datetime.to_datetime(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(allocation_module.PARAM_EDGES_CHECKED)
        )

    def test_cron_queues_allocations_that_started_or_ended(self):
        now = fields.Datetime.now()
        # Started 5 minutes ago, ended 3 minutes ago, starts tomorrow.
        self._allocation(self.product, date_start=now - timedelta(minutes=5))
        self._allocation(
            self.product2,
            date_start=now - timedelta(days=2),
            date_end=now - timedelta(minutes=3),
        )
        self._allocation(self.product3, date_start=now + timedelta(days=1))
        self._set_last_run(now - timedelta(minutes=10))
        self._reset()
        self.Allocation._cron_allocation_edges()
        self.assertEqual(self._manual(), self.product | self.product2)
        self.assertGreaterEqual(self._last_run(), now)

        # Nothing crossed an edge since: the next run queues nothing.
        self._reset()
        self.Allocation._cron_allocation_edges()
        self.assertFalse(self._manual())

    def test_cron_ignores_edges_before_the_last_run(self):
        now = fields.Datetime.now()
        self._allocation(self.product, date_start=now - timedelta(hours=2))
        self._set_last_run(now - timedelta(hours=1))
        self._reset()
        self.Allocation._cron_allocation_edges()
        self.assertFalse(self._manual())

    def test_cron_first_run_only_records_the_time(self):
        now = fields.Datetime.now()
        self._allocation(self.product, date_start=now - timedelta(minutes=1))
        self.env["ir.config_parameter"].sudo().set_param(
            allocation_module.PARAM_EDGES_CHECKED, False
        )
        self._reset()
        self.Allocation._cron_allocation_edges()
        self.assertFalse(self._manual())
        self.assertGreaterEqual(self._last_run(), now)

    def test_cron_is_registered_every_minute(self):
        cron = self.env.ref("marketplace_stock_sync.ir_cron_marketplace_allocation_edges")
        self.assertTrue(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "minutes"))
