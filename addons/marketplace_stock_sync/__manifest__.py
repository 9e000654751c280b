# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Marketplace Stock Sync",
    "summary": "Configure marketplace channels and feed every stock change to the bridge",
    "version": "18.0.1.0.0",
    "category": "Inventory/Inventory",
    "website": "https://github.com/marketplace-stock-sync/marketplace-stock-sync",
    "author": "Marketplace Stock Sync contributors",
    "license": "LGPL-3",
    "depends": ["stock"],
    "data": [
        "security/marketplace_security.xml",
        "security/ir.model.access.csv",
        "security/marketplace_rules.xml",
        "data/ir_cron.xml",
        "views/marketplace_channel_views.xml",
        "views/marketplace_listing_views.xml",
        "views/marketplace_allocation_views.xml",
        "views/marketplace_stock_event_views.xml",
        "views/product_views.xml",
        "views/res_config_settings_views.xml",
        "views/marketplace_menus.xml",
    ],
}
