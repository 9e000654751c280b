"""One contract, every adapter, real HTTP against the sandbox (which is written from the
marketplaces' docs, not from our clients): push, read back, zero, reactivate, locked SKU,
429 storm delivered in full. A ManualClock keeps backoff from really sleeping.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from connector.marketplaces.base import FailureCategory, MarketplaceAdapter, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.registry import ADAPTERS, build_adapter
from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import RunningSandbox, start_sandbox
from connector.stock.model import PushAction, ZeroStockAction

ZALANDO_CHANNEL = "01924c48-49bb-40c2-9c32-ab582e6db6f4"


@dataclass(frozen=True)
class Case:
    marketplace: str
    sku: str
    external_id: str | None
    account: dict[str, str]  # what the sandbox knows
    settings: dict[str, str]  # what the channel config holds (secrets included)
    listing_extra: dict[str, Any] = field(default_factory=dict)
    # None: the marketplace refuses writes below a locked quantity and the sandbox plays it.
    # Otherwise the precise reason this marketplace has no such lock (checked against
    # /work/shared/specs and the reference notes), shown as the skip reason.
    lockable: str | None = None


def _same(creds: dict[str, str], **more: str) -> tuple[dict[str, str], dict[str, str]]:
    return dict(creds), {**creds, **more}


CASES = [
    Case("amazon", "MUG-RED", None, *_same({"client_id": "amzn-client", "client_secret": "amzn-secret-1234",
                                            "refresh_token": "Atzr|refresh-1234", "seller_id": "A3EXAMPLE"},
                                           marketplace_id="A1PA6795UKMFR9"),
         lockable=("Amazon: no floor on a DEFAULT (merchant) quantity in the Listings Items spec; its refusals are "
                   "INVALID issues (validation) and FBA quantities, which Amazon owns and the adapter never writes")),
    Case("bol", "8712345678906", "1001", *_same({"client_id": "bol-client", "client_secret": "bol-secret-1234"}),
         lockable=("bol.com: UpdateOfferStockRequest.amount takes any 0..999; open orders are subtracted "
                   "(correctedStock), never refused")),
    Case("zalando", "4006381333931", None,
         *_same({"client_id": "zal-client", "client_secret": "zal-secret-1234",
                 "merchant_id": "7e0f3c4a-3b2a-4a4e-9a39-0c5a3b1f2d11"}, sales_channel_id=ZALANDO_CHANNEL),
         listing_extra={"sales_channel_id": ZALANDO_CHANNEL},
         lockable=("Zalando: the stocks API 207 per-item result refuses invalid items (EAN, channel, "
                   "quantity): validation, not a lock; no promotion-held stock for partner fulfilment")),
    Case("kaufland", "4006381333948", "338765432",
         *_same({"client_key": "kl-client-key", "secret_key": "kl-secret-key-1234"}, storefront="de"),
         lockable=("Kaufland: patchUnit takes any amount >= 0; the spec's only 423 Locked is on "
                   "POST /product-data/import-files, not on units")),
    Case("ebay", "MUG-RED", "9876543210",
         *_same({"client_id": "ebay-client", "client_secret": "ebay-secret-1234", "refresh_token": "v^1.1#refresh"},
                marketplace_id="EBAY_DE"),
         lockable=("eBay: no quantity floor; its one lock-like refusal, the 250 revisions per listing per day "
                   "block, lifts the next day (a quota to pace and retry, not a locked quantity)")),
    Case("shopify", "MUG-RED", "gid://shopify/InventoryItem/1",
         *_same({"access_token": "shpat_sandbox_token_1234", "location_id": "gid://shopify/Location/2"},
                api_version="2025-01"),
         lockable=("Shopify: no quantity floor; its only refusal of a value is compare-and-set "
                   "(compareQuantity stale), a race to re-read, covered in tests/marketplaces/test_shopify.py")),
    Case("etsy", "MUG-RED", "123/11",
         *_same({"keystring": "etsykey", "shared_secret": "etsy-shared-1234", "refresh_token": "123.etsy-refresh",
                 "shop_id": "5001"}), listing_extra={"status": "active", "shop_id": "5001"},
         lockable=("Etsy: no quantity floor; it refuses an active listing at 0 (handled by deactivation, "
                   "test_zero_then_reactivate) and more than 999 (validation)")),
    Case("woocommerce", "MUG-RED", "799", *_same({"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox_secret"}),
         lockable=("WooCommerce: core stock_quantity is a plain integer with no floor; stock held for "
                   "pending orders is already subtracted, never refused")),
    Case("lazada", "MUG-RED", "234234234/234",
         *_same({"app_key": "100001", "app_secret": "lazada-secret-1234", "access_token": "lzd-access-1234",
                 "refresh_token": "lzd-refresh-1234"})),
    Case("shopee", "MUG-RED", "1000/3456",
         *_same({"partner_id": "2001", "partner_key": "shopee-key-1234", "shop_id": "3001",
                 "access_token": "shopee-access-1234", "refresh_token": "shopee-refresh-1234"})),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox() as running:
        yield running


@dataclass
class Rig:
    case: Case
    adapter: MarketplaceAdapter
    admin: SandboxAdmin
    clock: ManualClock

    def update(self, quantity: int, action: PushAction = PushAction.SET, listing_id: int = 1) -> StockUpdate:
        return StockUpdate(listing_id=listing_id, sku=self.case.sku, quantity=quantity, action=action,
                           external_id=self.case.external_id)

    def held(self) -> dict[str, Any]:
        listing = self.admin.listing(self.case.marketplace, self.case.sku)
        assert listing is not None
        return listing


@pytest.fixture(params=CASES, ids=[c.marketplace for c in CASES])
def rig(request: pytest.FixtureRequest, sandbox: RunningSandbox) -> Iterator[Rig]:
    case: Case = request.param
    module = ADAPTERS[case.marketplace].partition(":")[0]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"adapter module {module} does not exist yet")
    admin = SandboxAdmin(sandbox.url)
    admin.reset(reseed=False)
    admin.add_account(case.marketplace, case.account)
    admin.add_listings(case.marketplace, [{"sku": case.sku, "external_id": case.external_id, "quantity": 5,
                                           **case.listing_extra}])
    clock = ManualClock(start=time.time())  # signatures carry timestamps: start at real time
    settings = {**sandbox.channel_urls(case.marketplace), **case.settings}
    adapter = build_adapter(f"{case.marketplace}_test", case.marketplace, settings, clock=clock)
    yield Rig(case, adapter, admin, clock)
    adapter.close()
    admin.close()


def _ok(results: list[Any]) -> None:
    assert [r.outcome for r in results] == [Outcome.OK], results


def _push(rig: Rig, update: StockUpdate) -> list[Any]:
    """Push as the engine does: a write the marketplace accepted but has not applied yet
    (Amazon's ACCEPTED) comes back at its `retry_at` to be confirmed, at most 5 times."""
    results = rig.adapter.push([update])
    for _ in range(5):
        if not results[0].awaiting_confirmation:
            break
        rig.clock.advance(max(0.0, results[0].retry_at - rig.clock.now()))
        results = rig.adapter.push([update])
    return results


def test_push_and_read_back(rig: Rig) -> None:
    _ok(_push(rig, rig.update(7)))
    assert rig.held()["quantity"] == 7
    remote = rig.adapter.read([(rig.case.sku, rig.case.external_id)])
    assert len(remote) == 1 and remote[0].found
    if rig.case.marketplace == "zalando":
        assert remote[0].quantity is None  # Zalando documents no stock read for partner fulfilment
    else:
        assert remote[0].quantity == 7


def _zero_action(adapter: MarketplaceAdapter) -> PushAction:
    return {ZeroStockAction.DEACTIVATE: PushAction.DEACTIVATE, ZeroStockAction.END_LISTING: PushAction.END}.get(
        adapter.default_zero_stock, PushAction.SET)


def test_zero_then_reactivate(rig: Rig) -> None:
    zero_action = _zero_action(rig.adapter)
    _ok(_push(rig, rig.update(0, zero_action)))
    held = rig.held()
    if rig.case.marketplace == "etsy":
        assert held["active"] is False and held["quantity"] >= 1  # Etsy cannot hold 0: deactivated instead
    else:
        assert held["quantity"] == 0
    back = PushAction.REACTIVATE if zero_action is PushAction.DEACTIVATE else (
        PushAction.RELIST if zero_action is PushAction.END else PushAction.SET)
    _ok(_push(rig, rig.update(4, back)))
    held = rig.held()
    assert held["quantity"] == 4 and held["active"] is True


def test_locked_sku(rig: Rig) -> None:
    if rig.case.lockable:
        pytest.skip(rig.case.lockable)
    rig.admin.set_faults(rig.case.marketplace, lock={"sku": rig.case.sku, "floor": 6})
    results = rig.adapter.push([rig.update(2)])
    assert results[0].outcome is Outcome.FAILED and results[0].category is FailureCategory.LOCKED, results
    assert results[0].message
    assert rig.held()["quantity"] == 5


def test_429_storm_delivered_in_full(rig: Rig) -> None:
    rig.admin.set_faults(rig.case.marketplace, storm_429={"count": 3, "retry_after": 1})
    _ok(_push(rig, rig.update(9)))
    assert rig.held()["quantity"] == 9
    refused = [r for r in rig.admin.requests(rig.case.marketplace) if r["operation"] not in ("token", "refresh")]
    assert len(refused) >= 4  # three throttled tries, then the one that landed
    assert rig.clock.sleeps, "the adapter must back off between throttled tries"


def test_amazon_fba_sku_is_refused_without_a_patch(sandbox: RunningSandbox) -> None:
    """An Amazon-fulfilled SKU (the sandbox reports its fulfillmentChannelCode from
    getListingsItem) fails VALIDATION before any PATCH could add a merchant offer."""
    [case] = [c for c in CASES if c.marketplace == "amazon"]
    admin = SandboxAdmin(sandbox.url)
    admin.reset(reseed=False)
    admin.add_account("amazon", case.account)
    admin.add_listings("amazon", [{"sku": "FBA-MUG", "quantity": 5, "fulfillment_channel_code": "AMAZON_EU"}])
    adapter = build_adapter("amazon_test", "amazon", {**sandbox.channel_urls("amazon"), **case.settings},
                            clock=ManualClock(start=time.time()))
    try:
        [result] = adapter.push([StockUpdate(listing_id=1, sku="FBA-MUG", quantity=9)])
        assert result.outcome is Outcome.FAILED and result.category is FailureCategory.VALIDATION, result
        assert "FBA listing" in result.message
        operations = [r["operation"] for r in admin.requests("amazon")]
        assert "get_item" in operations and "patch_item" not in operations, operations
        held = admin.listing("amazon", "FBA-MUG")
        assert held is not None and held["quantity"] == 5
    finally:
        adapter.close()
        admin.close()


def _amazon_rig(sandbox: RunningSandbox, listing: dict[str, Any]) -> tuple[MarketplaceAdapter, SandboxAdmin, ManualClock]:
    [case] = [c for c in CASES if c.marketplace == "amazon"]
    admin = SandboxAdmin(sandbox.url)
    admin.reset(reseed=False)
    admin.add_account("amazon", case.account)
    admin.add_listings("amazon", [listing])
    clock = ManualClock(start=time.time())
    adapter = build_adapter("amazon_test", "amazon", {**sandbox.channel_urls("amazon"), **case.settings},
                            clock=clock)
    return adapter, admin, clock


def test_amazon_patch_accepted_and_later_rejected(sandbox: RunningSandbox) -> None:
    """Issue 17 scenario: Amazon answers ACCEPTED ("accepted for processing", spec's
    ListingsItemSubmissionResponse), then rejects the submission downstream (an ERROR issue
    on the item, Amazon's "Manage Listings Issues" guide). The push is held as accepted, not
    applied; its confirmation reads the item back and ends as the listing's error."""
    adapter, admin, clock = _amazon_rig(sandbox, {"sku": "MUG-LATE", "quantity": 5,
                                                  "reject_later": "The quantity could not be processed."})
    try:
        [held] = adapter.push([StockUpdate(listing_id=1, sku="MUG-LATE", quantity=9)])
        assert held.awaiting_confirmation and held.outcome is Outcome.RETRY and held.deferred, held
        assert held.retry_at is not None
        clock.advance(held.retry_at - clock.now())
        [late] = adapter.push([StockUpdate(listing_id=1, sku="MUG-LATE", quantity=9)])
        assert late.outcome is Outcome.FAILED and late.category is FailureCategory.VALIDATION, late
        assert "did not apply it" in late.message and "could not be processed" in late.message
        operations = [r["operation"] for r in admin.requests("amazon") if r["operation"] != "token"]
        assert operations.count("patch_item") == 1, operations  # confirmed by reading, not re-sent
        listing = admin.listing("amazon", "MUG-LATE")
        assert listing is not None and listing["quantity"] == 5
    finally:
        adapter.close()
        admin.close()


def test_amazon_patch_applied_after_a_delay_is_confirmed(sandbox: RunningSandbox) -> None:
    """The sandbox shows an accepted quantity only `apply_delay_s` later, as the live API
    queues it: the first read-back (at once) sees the old value and waits again."""
    adapter, admin, clock = _amazon_rig(sandbox, {"sku": "MUG-SLOW", "quantity": 5, "apply_delay_s": 0.3})
    try:
        update = StockUpdate(listing_id=1, sku="MUG-SLOW", quantity=8)
        [held] = adapter.push([update])
        [still] = adapter.push([update])  # read back before the sandbox applied it
        assert held.awaiting_confirmation and still.awaiting_confirmation and "shows 5" in still.message
        time.sleep(0.4)
        [done] = adapter.push([update])
        assert done.outcome is Outcome.OK and done.applied_quantity == 8, done
    finally:
        adapter.close()
        admin.close()


def test_bol_offers_api_v11_is_a_config_change(sandbox: RunningSandbox) -> None:
    """Issue 17 item 10: the same channel with offers_api = v11 writes through the Offers
    API v11 PATCH (the sandbox refuses it with the v10 media type) and reads back in v11."""
    [case] = [c for c in CASES if c.marketplace == "bol"]
    admin = SandboxAdmin(sandbox.url)
    admin.reset(reseed=False)
    admin.add_account("bol", case.account)
    admin.add_listings("bol", [{"sku": case.sku, "external_id": case.external_id, "quantity": 5}])
    adapter = build_adapter("bol_test", "bol", {**sandbox.channel_urls("bol"), **case.settings, "offers_api": "v11"},
                            clock=ManualClock(start=time.time()))
    try:
        [result] = adapter.push([StockUpdate(listing_id=1, sku=case.sku, quantity=8, external_id=case.external_id)])
        assert result.outcome is Outcome.OK, result
        operations = [r["operation"] for r in admin.requests("bol") if r["operation"] != "token"]
        assert operations == ["patch_offer", "get_offer"], operations
        assert adapter.read([(case.sku, case.external_id)])[0].quantity == 8
    finally:
        adapter.close()
        admin.close()


def test_zalando_one_invalid_ean_does_not_fail_its_batch(sandbox: RunningSandbox) -> None:
    """Issue 17 item 9: the sandbox refuses a whole request holding an EAN that is not a
    GTIN-13 (spec: `format: gtin-13`); the adapter never sends it, so the other item lands."""
    [case] = [c for c in CASES if c.marketplace == "zalando"]
    admin = SandboxAdmin(sandbox.url)
    admin.reset(reseed=False)
    admin.add_account("zalando", case.account)
    admin.add_listings("zalando", [{"sku": case.sku, "quantity": 5, **case.listing_extra}])
    adapter = build_adapter("zalando_test", "zalando", {**sandbox.channel_urls("zalando"), **case.settings},
                            clock=ManualClock(start=time.time()))
    try:
        good, bad = adapter.push([StockUpdate(listing_id=1, sku=case.sku, quantity=8),
                                  StockUpdate(listing_id=2, sku="4006381333932", quantity=8)])
        assert good.outcome is Outcome.OK and bad.outcome is Outcome.FAILED, (good, bad)
        held = admin.listing("zalando", case.sku)
        assert held is not None and held["quantity"] == 8
    finally:
        adapter.close()
        admin.close()


def test_shopee_cross_border_shop_uses_the_global_product_stock(sandbox: RunningSandbox) -> None:
    """Issue 17 item 8: the sandbox refuses the local update_stock for a CNSC merchant's shop;
    with shop_type = cnsc the adapter writes the global stock, signed for the merchant."""
    [case] = [c for c in CASES if c.marketplace == "shopee"]
    admin = SandboxAdmin(sandbox.url)
    admin.reset(reseed=False)
    admin.add_account("shopee", {**case.account, "merchant_id": "777001"})
    admin.add_listings("shopee", [{"sku": "TEE-M", "external_id": "9000/7001", "quantity": 5}])
    urls = sandbox.channel_urls("shopee")
    local = build_adapter("shopee_test", "shopee", {**urls, **case.settings}, clock=ManualClock(start=time.time()))
    cnsc = build_adapter("shopee_test", "shopee", {**urls, **case.settings, "shop_type": "cnsc",
                                                   "merchant_id": "777001"}, clock=ManualClock(start=time.time()))
    try:
        [refused] = local.push([StockUpdate(listing_id=1, sku="TEE-M", quantity=8, external_id="9000/7001")])
        assert refused.outcome is Outcome.FAILED, refused
        [done] = cnsc.push([StockUpdate(listing_id=1, sku="TEE-M", quantity=8, external_id="9000/7001")])
        assert done.outcome is Outcome.OK, done
        held = admin.listing("shopee", "TEE-M")
        assert held is not None and held["quantity"] == 8
    finally:
        local.close()
        cnsc.close()
        admin.close()


def test_lazada_multi_warehouse_writes_and_reads_one_warehouse(sandbox: RunningSandbox) -> None:
    """Issue 17 item 5: a multi-warehouse seller's SKU (the sandbox refuses the bare form for
    it); with warehouse_code the channel sets and reads its own warehouse, the other keeps 40."""
    [case] = [c for c in CASES if c.marketplace == "lazada"]
    admin = SandboxAdmin(sandbox.url)
    admin.reset(reseed=False)
    admin.add_account("lazada", case.account)
    admin.add_listings("lazada", [{"sku": case.sku, "external_id": case.external_id, "quantity": 45,
                                   "warehouses": {"dropshipping": 5, "SG-WH-2": 40}}])
    urls = sandbox.channel_urls("lazada")
    bare = build_adapter("lazada_test", "lazada", {**urls, **case.settings}, clock=ManualClock(start=time.time()))
    mine = build_adapter("lazada_test", "lazada", {**urls, **case.settings, "warehouse_code": "dropshipping"},
                         clock=ManualClock(start=time.time()))
    try:
        [refused] = bare.push([StockUpdate(listing_id=1, sku=case.sku, quantity=9, external_id=case.external_id)])
        assert refused.outcome is not Outcome.OK, refused
        [done] = mine.push([StockUpdate(listing_id=1, sku=case.sku, quantity=9, external_id=case.external_id)])
        assert done.outcome is Outcome.OK, done
        held = admin.listing("lazada", case.sku)
        assert held is not None and held["extra"]["warehouses"] == {"dropshipping": 9, "SG-WH-2": 40}
        assert mine.read([(case.sku, case.external_id)])[0].quantity == 9
    finally:
        bare.close()
        mine.close()
        admin.close()
