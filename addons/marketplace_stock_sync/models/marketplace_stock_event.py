# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The outbox: one row per product and reason per transaction, then a signed wake-up.

Rows are written in the same transaction as the stock change (just before it commits),
so the bridge, polling ``id > cursor``, never misses a change. The HTTP wake-up only
shortens the wait; it runs after commit, in a thread, and can never fail the operation.
"""

import hashlib
import hmac
import json
import logging
import threading
from datetime import timedelta
from functools import partial

import requests

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

REASONS = [
    ("move_done", "Move done"),
    ("reservation", "Reservation changed"),
    ("adjustment", "Inventory adjustment"),
    ("receipt", "Receipt"),
    ("return", "Return"),
    ("cancel", "Cancellation"),
    ("manual", "Manual resync"),
]

PARAM_URL = "marketplace_stock_sync.bridge_url"
PARAM_SECRET = "marketplace_stock_sync.webhook_secret"
PARAM_RETENTION = "marketplace_stock_sync.event_retention_days"
DEFAULT_RETENTION_DAYS = 30
TRIGGER_PATH = "/v1/triggers"
# (connect, read) seconds: a wake-up is a hint, never worth waiting for.
WAKEUP_TIMEOUT = (1.0, 2.0)

_PENDING_KEY = "marketplace_stock_sync.pending"
_WRITTEN_KEY = "marketplace_stock_sync.written"
_WAKEUP_KEY = "marketplace_stock_sync.wakeup"


def trigger_url(bridge_url):
    """The bridge's trigger endpoint for a configured base URL.

    Example: ``trigger_url("http://bridge:8765") == "http://bridge:8765/v1/triggers"``.
    """
    url = bridge_url.strip().rstrip("/")
    return url if url.endswith(TRIGGER_PATH) else url + TRIGGER_PATH


def build_wakeup(secret, written):
    """Body and headers of a wake-up for ``{(product_id, reason): event_id}``.

    Example: ``body, headers = build_wakeup("s3cret", {(7, "move_done"): 123})``.
    """
    events = [
        {"id": event_id, "product_id": product_id, "reason": reason}
        for (product_id, reason), event_id in sorted(written.items(), key=lambda kv: kv[1])
    ]
    body = json.dumps({"events": events}, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Signature-256"] = "sha256=" + digest
    return body, headers


def post_wakeup(url, body, headers):
    """POST one wake-up; log (without the signature) instead of raising."""
    try:
        response = requests.post(url, data=body, headers=headers, timeout=WAKEUP_TIMEOUT)
    except Exception as exc:  # pylint: disable=broad-except
        # Only the exception's class: its text may repeat headers or credentials in the URL.
        _logger.warning("Marketplace bridge wake-up failed: %s", type(exc).__name__)
        return False
    if response.status_code >= 300:
        _logger.warning("Marketplace bridge wake-up answered HTTP %s", response.status_code)
        return False
    return True


def spawn(target, *args):
    """Run ``target(*args)`` in a daemon thread (patched to run inline in tests)."""
    threading.Thread(target=target, args=args, daemon=True, name="marketplace-wakeup").start()


def _after_commit(url, secret, written):
    # Runs after COMMIT: the rows exist for the bridge; the request may take its time
    # in its own thread while the user's request returns.
    try:
        body, headers = build_wakeup(secret, written)
        spawn(post_wakeup, url, body, headers)
    except Exception as exc:  # pylint: disable=broad-except
        _logger.warning("Marketplace bridge wake-up not sent: %s", type(exc).__name__)


class MarketplaceStockEvent(models.Model):
    """An outbox row telling the bridge which product to look at again, and why.

    Example: ``env["marketplace.stock.event"]._record_products(products, "manual")``.
    """

    _name = "marketplace.stock.event"
    _description = "Marketplace Stock Event"
    _order = "id desc"
    _rec_name = "product_id"

    product_id = fields.Many2one(
        "product.product", required=True, index=True, ondelete="cascade", readonly=True
    )
    reason = fields.Selection(REASONS, required=True, readonly=True)
    move_id = fields.Many2one(
        "stock.move",
        string="Stock Move",
        ondelete="set null",
        readonly=True,
        help="The first move of the transaction that caused this event, if any.",
    )

    @api.model
    def _record_products(self, products, reason, moves=None):
        """Queue one event per product for ``reason`` in the current transaction."""
        move_by_product = {}
        for move in moves or []:
            move_by_product.setdefault(move.product_id.id, move.id)
        self._record(
            (product.id, reason, move_by_product.get(product.id, False)) for product in products
        )

    @api.model
    def _record(self, items):
        """Queue ``(product_id, reason, move_id)`` items; written once, before commit."""
        precommit = self.env.cr.precommit
        pending = precommit.data.get(_PENDING_KEY)
        if pending is None:
            pending = precommit.data[_PENDING_KEY] = {}
            precommit.add(self.sudo()._flush_pending)
        for product_id, reason, move_id in items:
            if product_id:
                pending.setdefault((product_id, reason), move_id)

    def _flush_pending(self):
        cr = self.env.cr
        pending = cr.precommit.data.pop(_PENDING_KEY, None) or {}
        # Survives every precommit run until COMMIT/ROLLBACK: dedup for the transaction.
        written = cr.postcommit.data.setdefault(_WRITTEN_KEY, {})
        if written:
            # A savepoint rolled back after an earlier flush takes its rows with it.
            alive = set(self.browse(list(written.values())).exists().ids)
            for key in [key for key, event_id in written.items() if event_id not in alive]:
                del written[key]
        todo = [(key, move_id) for key, move_id in pending.items() if key not in written]
        if not todo:
            return
        events = self.create(
            [
                {"product_id": product_id, "reason": reason, "move_id": move_id}
                for (product_id, reason), move_id in todo
            ]
        )
        for ((product_id, reason), _move_id), event in zip(todo, events, strict=True):
            written[(product_id, reason)] = event.id
        self._schedule_wakeup(written)

    def _schedule_wakeup(self, written):
        postcommit = self.env.cr.postcommit
        if postcommit.data.get(_WAKEUP_KEY):
            return
        postcommit.data[_WAKEUP_KEY] = True
        params = self.env["ir.config_parameter"].sudo()
        # Read inside the transaction: after commit the cursor is not ours to use.
        url = params.get_param(PARAM_URL)
        if not url:
            return
        secret = params.get_param(PARAM_SECRET) or ""
        postcommit.add(partial(_after_commit, trigger_url(url), secret, written))

    @api.model
    def _cron_prune_events(self):
        """Delete events older than the retention (the bridge reads them within seconds)."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            days = int(params.get_param(PARAM_RETENTION, DEFAULT_RETENTION_DAYS))
        except (TypeError, ValueError):
            days = DEFAULT_RETENTION_DAYS
        limit = fields.Datetime.now() - timedelta(days=max(days, 1))
        self.sudo().search([("create_date", "<", limit)]).unlink()
        return True
