# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import hmac
import json
from unittest.mock import patch

import requests

from odoo.tests import Form, tagged

from ..models import marketplace_stock_event as event_module
from .common import MarketplaceCase


def _run_inline(target, *args):
    target(*args)


@tagged("post_install", "-at_install")
class TestStockEvents(MarketplaceCase):
    def test_delivery_writes_move_done_event(self):
        picking = self._delivery([(self.product, 2.0)])
        self.assertEqual(picking.state, "done")
        self._flush()
        done = self._events(reason="move_done")
        self.assertEqual(len(done), 1)
        self.assertEqual(done.move_id, picking.move_ids)
        self.assertTrue(self._events(reason="reservation"), "the reservation was captured too")
        self.assertFalse(self._events(self.product2), "an untouched product has no event")

    def test_one_event_per_product_and_reason_per_transaction(self):
        self._delivery([(self.product, 1.0), (self.product2, 1.0)])
        self._flush()
        # A second flush in the same transaction (a savepoint does one) adds nothing.
        self._delivery([(self.product, 1.0)])
        self._flush()
        self.assertEqual(len(self._events(reason="move_done")), 1)
        self.assertEqual(len(self._events(self.product2, "move_done")), 1)

    def test_cancel(self):
        picking = self._delivery([(self.product, 3.0)], validate=False)
        self.assertEqual(picking.state, "assigned")
        picking.action_cancel()
        self._flush()
        self.assertEqual(len(self._events(reason="cancel")), 1)

    def test_unreserve(self):
        picking = self._delivery([(self.product, 3.0)], validate=False)
        self._flush()
        self._events().unlink()
        picking.do_unreserve()
        self._flush()
        self.assertEqual(len(self._events(reason="reservation")), 1)

    def test_receipt(self):
        self._receipt([(self.product, 5.0)])
        self._flush()
        self.assertEqual(len(self._events(reason="receipt")), 1)
        self.assertFalse(self._events(reason="move_done"))

    def test_return(self):
        delivery = self._delivery([(self.product, 2.0)])
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_ids=delivery.ids, active_id=delivery.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = 1.0
        action = wizard.action_create_returns()
        returned = self.env["stock.picking"].browse(action["res_id"])
        returned.action_assign()
        returned.move_ids.quantity = 1.0
        returned.move_ids.picked = True
        returned.button_validate()
        self._flush()
        event = self._events(reason="return")
        self.assertEqual(len(event), 1)
        self.assertEqual(event.move_id.origin_returned_move_id, delivery.move_ids)

    def test_inventory_adjustment(self):
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                {
                    "product_id": self.product.id,
                    "location_id": self.stock.id,
                    "inventory_quantity": 4.0,
                }
            )
        )
        quant.action_apply_inventory()
        self._flush()
        event = self._events(reason="adjustment")
        self.assertEqual(len(event), 1)
        self.assertTrue(event.move_id.is_inventory)

    def test_resync_buttons_write_manual_events(self):
        self.listing.action_resync()
        self.channel.action_resync()
        self.product2.action_marketplace_resync()
        self._flush()
        self.assertEqual(len(self._events(reason="manual")), 1)
        self.assertEqual(len(self._events(self.product2, "manual")), 1)

    def test_signed_wakeup_after_commit(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(event_module.PARAM_URL, "http://bridge.test:8765/")
        params.set_param(event_module.PARAM_SECRET, "s3cret")
        with (
            patch.object(event_module, "spawn", _run_inline),
            patch.object(event_module.requests, "post") as post,
        ):
            post.return_value.status_code = 202
            self._delivery([(self.product, 1.0)])
            self._flush()
            post.assert_not_called()
            self.env.cr.postcommit.run()
        self.assertEqual(post.call_count, 1)
        url = post.call_args.args[0]
        body = post.call_args.kwargs["data"]
        headers = post.call_args.kwargs["headers"]
        self.assertEqual(url, "http://bridge.test:8765/v1/triggers")
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        self.assertEqual(headers["X-Signature-256"], "sha256=" + expected)
        self.assertLessEqual(max(post.call_args.kwargs["timeout"]), 2.0)
        events = json.loads(body)["events"]
        done = self._events(reason="move_done")
        self.assertIn(
            {"id": done.id, "product_id": self.product.id, "reason": "move_done"}, events
        )

    def test_bridge_down_never_fails_nor_leaks_the_secret(self):
        body, headers = event_module.build_wakeup("s3cret", {(1, "manual"): 5})
        with (
            patch.object(
                event_module.requests,
                "post",
                side_effect=requests.ConnectionError("refused; sha256=" + "ab" * 32),
            ),
            self.assertLogs(event_module.__name__, level="WARNING") as logs,
        ):
            self.assertFalse(event_module.post_wakeup("http://down.test", body, headers))
        output = "\n".join(logs.output)
        self.assertNotIn("s3cret", output)
        self.assertNotIn(headers["X-Signature-256"], output)

    def test_no_url_no_wakeup(self):
        self.env["ir.config_parameter"].sudo().set_param(event_module.PARAM_URL, "")
        with patch.object(event_module, "spawn") as spawn:
            self._delivery([(self.product, 1.0)])
            self._flush()
            self.env.cr.postcommit.run()
        spawn.assert_not_called()
        self.assertTrue(self._events(reason="move_done"))
