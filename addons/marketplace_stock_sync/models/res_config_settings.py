# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    marketplace_bridge_url = fields.Char(
        string="Bridge URL",
        config_parameter="marketplace_stock_sync.bridge_url",
        help="Base URL of the bridge's listener, e.g. http://bridge:8765. Empty: no "
        "wake-up is sent and the bridge finds changes by polling.",
    )
    marketplace_webhook_secret = fields.Char(
        string="Webhook Secret",
        config_parameter="marketplace_stock_sync.webhook_secret",
        help="Shared secret that signs the wake-up (HMAC-SHA256); the same value as "
        "webhook_secret in the bridge's configuration.",
    )
    marketplace_event_retention_days = fields.Integer(
        string="Keep Events (days)",
        config_parameter="marketplace_stock_sync.event_retention_days",
        default=30,
    )
