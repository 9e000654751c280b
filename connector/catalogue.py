"""The one list of marketplaces: every other list (adapter registry, sandbox APIs, mock ERP
selection, demo channels, token URLs, optional and numeric channel keys) reads this one.
What a marketplace does (zero-stock default, quantity cap, required and secret keys) its
adapter class declares; wiring and channel_keys read those from the class named here.

Adding a marketplace = its adapter module (connector/marketplaces/<code>.py), its sandbox
module (connector/sandbox/<code>.py), one `Marketplace` entry below, and its tests. The Odoo
addon cannot import the bridge, so its selection is written out in
addons/marketplace_stock_sync/models/marketplace_channel.py; a test keeps it equal to this.

Pure data: imports nothing with I/O, so config, the sandbox and the mock ERP may read it
without loading the adapters (they are named by "module:Class" strings, imported on demand).

Usage::

    from connector.catalogue import CATALOGUE, by_code
    by_code("bol").adapter          # "connector.marketplaces.bol:BolAdapter"
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Marketplace:
    """One marketplace the bridge serves."""

    code: str  # the `marketplace` value in configs, the ERP and the state file
    label: str  # shown in the ERP's selection
    adapter: str  # "module:Class" of the bridge's adapter
    sandbox: str  # "module:Class" of the sandbox's stand-in API
    demo_channel: str  # the embedded demo shop's channel code
    # What a listing's `external_id` holds for this marketplace (its handle there);
    # "" when the channel SKU alone names the listing.
    handle: str = ""
    # The marketplace's own path of its token endpoint ("" when it issues none).
    token_path: str = ""
    # Optional settings the adapter reads with a default but its class does not declare.
    optional_keys: frozenset[str] = frozenset()
    # Keys whose value the API takes as an integer id (checked when the bridge is wired).
    numeric_keys: frozenset[str] = frozenset()


CATALOGUE: tuple[Marketplace, ...] = (
    Marketplace(
        "amazon", "Amazon", "connector.marketplaces.amazon:AmazonAdapter", "connector.sandbox.amazon:Amazon",
        "amazon_de", token_path="/auth/o2/token",
        optional_keys=frozenset({"fulfillment_channel_code", "issue_locale", "product_type"}),
    ),
    Marketplace(
        "bol", "bol.com", "connector.marketplaces.bol:BolAdapter", "connector.sandbox.bol:Bol",
        "bol_nl", handle="offer id", token_path="/token",
        optional_keys=frozenset({"managed_by_retailer", "poll_interval_s", "poll_timeout_s"}),
    ),
    Marketplace(
        "zalando", "Zalando", "connector.marketplaces.zalando:ZalandoAdapter", "connector.sandbox.zalando:Zalando",
        "zalando_de", token_path="/auth/token",
    ),
    Marketplace(
        "kaufland", "Kaufland", "connector.marketplaces.kaufland:KauflandAdapter",
        "connector.sandbox.kaufland:Kaufland", "kaufland_de", handle="id_unit",
        optional_keys=frozenset({"bulk_update", "user_agent", "partner_client_key", "partner_secret_key"}),
    ),
    Marketplace(
        "ebay", "eBay", "connector.marketplaces.ebay:EbayAdapter", "connector.sandbox.ebay:Ebay",
        "ebay_de", handle="offer id", token_path="/identity/v1/oauth2/token",
    ),
    Marketplace(
        "shopify", "Shopify", "connector.marketplaces.shopify:ShopifyAdapter", "connector.sandbox.shopify:Shopify",
        "shopify_eu", handle="gid://shopify/InventoryItem/<n>",
        optional_keys=frozenset({"api_version"}),
    ),
    Marketplace(
        "etsy", "Etsy", "connector.marketplaces.etsy:EtsyAdapter", "connector.sandbox.etsy:Etsy",
        "etsy_shop", handle="listing id[/product id]", token_path="/v3/public/oauth/token",
        numeric_keys=frozenset({"shop_id"}),
    ),
    Marketplace(
        "woocommerce", "WooCommerce", "connector.marketplaces.woocommerce:WooCommerceAdapter",
        "connector.sandbox.woocommerce:WooCommerce", "woo_shop", handle="[product id/]variation or product id",
    ),
    Marketplace(
        "lazada", "Lazada", "connector.marketplaces.lazada:LazadaAdapter", "connector.sandbox.lazada:Lazada",
        "lazada_sg", handle="item id/sku id", token_path="/rest/auth/token/refresh",
        optional_keys=frozenset({"refresh_token"}),
    ),
    Marketplace(
        "shopee", "Shopee", "connector.marketplaces.shopee:ShopeeAdapter", "connector.sandbox.shopee:Shopee",
        "shopee_sg", handle="item id/model id", token_path="/api/v2/auth/access_token/get",
        optional_keys=frozenset({"location_id"}), numeric_keys=frozenset({"partner_id", "shop_id"}),
    ),
)

CODES: tuple[str, ...] = tuple(m.code for m in CATALOGUE)
_BY_CODE: dict[str, Marketplace] = {m.code: m for m in CATALOGUE}


def by_code(code: str) -> Marketplace:
    """The entry of `code`; ValueError naming the known ones otherwise."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise ValueError(f"unknown marketplace {code!r}; known: {', '.join(sorted(_BY_CODE))}") from None


def selection() -> list[tuple[str, str]]:
    """(code, label) pairs in catalogue order: the ERP's `marketplace` selection."""
    return [(m.code, m.label) for m in CATALOGUE]
