"""Issue 6 "Must show": the seed scenarios, end to end over real HTTP.

Each test gets a fresh mock ERP (fixtures/demo) + sandbox + bridge (tests/e2e/harness.py),
changes stock only through Odoo RPC calls and reads what each marketplace shows from the
sandbox. The numbers are worked out by hand from fixtures/demo and DESIGN.md's formula;
the comment above each expectation shows the arithmetic. Scenario 14 (crash) lives in
test_crash.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import requests

from connector.defaults import DEMO_WEBHOOK_SECRET
from tests.e2e.harness import Shown, Stack

pytestmark = pytest.mark.timeout(60)



def stock_requests(stack: Stack, marketplace: str, since: float) -> list[dict[str, object]]:
    """Requests a marketplace received since `since`, token calls left out."""
    return stack.requests_since(marketplace, since)


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connector.cli", *args, "--config", str(stack.config_path)],
        capture_output=True, text=True, timeout=30, check=False,
    )


def sign(body: bytes, secret: str = DEMO_WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- 1. the last unit sells -------------------------------------------------------------------------


def test_01_last_unit_sells_every_channel_shows_zero_after_one_flush(stack: Stack) -> None:
    # LAMP-DESK-01: 1 unit on WH/Stock/Shelf A. Channel buffers: amazon 2, bol 1, ebay 1,
    # etsy 1, lazada 2, shopee 2 -> 0 already; kaufland and shopify (buffer 0) show the 1.
    # Etsy has no active listing at 0 (zero_stock_action deactivate): offline, holding the
    # placeholder 1 (Etsy refuses all-zero offerings; never the old real number, issue 17).
    before = stack.shown("LAMP-DESK-01")
    assert {c: s.visible for c, s in before.items()} == {
        "amazon_de": 0, "bol_nl": 0, "kaufland_de": 1, "ebay_de": 0, "shopify_eu": 1,
        "etsy_shop": 0, "lazada_sg": 0, "shopee_sg": 0,
    }
    assert before["etsy_shop"] == Shown(1, False)
    assert before["kaufland_de"].active and before["shopify_eu"].active

    engine = stack.bridge.engine  # type: ignore[union-attr]
    assert engine is not None
    flushes = engine.flushes
    # The Amazon order is confirmed and reserved: free stock 1 - 1 reserved = 0.
    picking = stack.rpc.order("LAMP-DESK-01", 1)
    stack.settle()
    assert engine.flushes - flushes == 1, "one reservation event, one flush"
    after = stack.shown("LAMP-DESK-01")
    assert {c: s.visible for c, s in after.items()} == dict.fromkeys(before, 0)
    # zero-stock behaviour per marketplace: bol/eBay/Kaufland keep the offer and show 0
    # (eBay's out-of-stock control), Etsy stays deactivated, Shopify sets available 0.
    assert after["etsy_shop"] == Shown(1, False)
    assert after["bol_nl"].active and after["ebay_de"].active and after["kaufland_de"].active

    # Validating the delivery changes nothing more on any marketplace (Rule 5).
    since = time.time()
    stack.rpc.validate(picking)
    stack.settle()
    assert stack.shown("LAMP-DESK-01") == after
    for marketplace in ("amazon", "bol", "kaufland", "ebay", "shopify", "etsy", "lazada", "shopee"):
        assert stock_requests(stack, marketplace, since) == [], marketplace


def test_01b_last_size_sells_zalando_suppresses_that_size_only(stack: Stack) -> None:
    # TSHIRT-BLK-L: 3 on WH/Stock/Shelf B (+2 in WH/Quarantine, which never counts).
    # zalando/etsy buffer 1 -> 2; shopify/woo -> 3. S is 8 + 4 = 12 -> zalando 11.
    assert stack.qty("TSHIRT-BLK-L") == {"zalando_de": 2, "shopify_eu": 3, "etsy_shop": 2, "woo_shop": 3}
    stack.rpc.deliver("TSHIRT-BLK-L", 3)
    stack.settle()
    shown = stack.shown("TSHIRT-BLK-L")
    assert {c: s.qty for c, s in shown.items()} == {"zalando_de": 0, "shopify_eu": 0, "etsy_shop": 0, "woo_shop": 0}
    # Etsy: L is one offering of the T-shirt listing; S and M still sell, so the listing
    # stays active and only L's quantity goes to 0.
    assert shown["etsy_shop"].active and stack.qty("TSHIRT-BLK-M")["etsy_shop"] == 22
    assert stack.qty("TSHIRT-BLK-S")["zalando_de"] == 11  # the other sizes are untouched


# -- 2. a receipt brings stock back ------------------------------------------------------------------


def test_02_receipt_restocks_every_channel_and_reactivates_etsy(stack: Stack) -> None:
    stack.rpc.deliver("LAMP-DESK-01", 1)
    stack.settle()
    assert set(stack.qty("LAMP-DESK-01").values()) == {0}
    # 5 received into WH/Stock: 5 - channel buffer.
    stack.rpc.receive("LAMP-DESK-01", 5)
    stack.settle()
    shown = stack.shown("LAMP-DESK-01")
    assert {c: s.qty for c, s in shown.items()} == {
        "amazon_de": 3, "bol_nl": 4, "kaufland_de": 5, "ebay_de": 4, "shopify_eu": 5,
        "etsy_shop": 4, "lazada_sg": 3, "shopee_sg": 3,
    }
    assert all(s.active for s in shown.values()), shown
    # and it goes away again when they sell: Etsy deactivated once more (the inactive
    # listing may keep its old quantity; nobody can buy it)
    stack.rpc.deliver("LAMP-DESK-01", 5)
    stack.settle()
    assert stack.shown("LAMP-DESK-01")["etsy_shop"].active is False
    assert set(stack.qty("LAMP-DESK-01").values()) == {0}


# -- 3. a return lands in quarantine ----------------------------------------------------------------


def test_03_return_to_quarantine_changes_nothing_until_moved_to_stock(stack: Stack) -> None:
    # MUG-CER-350: 60 on WH/Stock + 24 on WH2/Stock/Bin 1 = 84.
    delivery = stack.rpc.deliver("MUG-CER-350", 4)
    stack.settle()
    # 80: shopify/kaufland/woo 80, amazon 78 (buffer 2), 6-pack floor(78/6) = 13, bol/etsy 79.
    expected = {"amazon_de": 78, "amazon_de/MUG-CER-350-6PK": 13, "bol_nl": 79, "kaufland_de": 80,
                "shopify_eu": 80, "etsy_shop": 79, "woo_shop": 80}
    assert stack.qty("MUG-CER-350") == expected
    since = time.time()
    stack.rpc.return_to(delivery, "WH/Quarantine")
    stack.settle()
    assert stack.rpc.quants("MUG-CER-350")["WH/Quarantine"] == (4.0, 0.0)
    assert stack.qty("MUG-CER-350") == expected
    for marketplace in ("amazon", "bol", "kaufland", "shopify", "etsy", "woocommerce"):
        assert stock_requests(stack, marketplace, since) == [], marketplace
    # Inspected and put back on the shelf: 84 again.
    stack.rpc.transfer("MUG-CER-350", 4, "WH/Quarantine", "WH/Stock")
    stack.settle()
    assert stack.qty("MUG-CER-350") == {"amazon_de": 82, "amazon_de/MUG-CER-350-6PK": 13, "bol_nl": 83,
                                         "kaufland_de": 84, "shopify_eu": 84, "etsy_shop": 83, "woo_shop": 84}


# -- 4. a cancelled order --------------------------------------------------------------------------


def test_04_cancelled_order_releases_its_reservation(stack: Stack) -> None:
    picking = stack.rpc.order("MUG-CER-350", 10)
    stack.settle()
    # 84 - 10 reserved = 74
    assert stack.qty("MUG-CER-350")["shopify_eu"] == 74
    assert stack.qty("MUG-CER-350")["amazon_de/MUG-CER-350-6PK"] == 12  # floor(72 / 6)
    stack.rpc.cancel(picking)
    stack.settle()
    assert stack.qty("MUG-CER-350") == {"amazon_de": 82, "amazon_de/MUG-CER-350-6PK": 13, "bol_nl": 83,
                                         "kaufland_de": 84, "shopify_eu": 84, "etsy_shop": 83, "woo_shop": 84}


# -- 5. buffers ---------------------------------------------------------------------------------------


def test_05_buffers_listing_channel_and_velocity(make_stack: Callable[..., Stack]) -> None:
    # Velocity class A (config: velocity_classes) adds 4 on shopify_eu only.
    stack = make_stack(velocity_classes={"CHARGER-USB-C": "A"},
                       channels={"shopify_eu": {"buffer_by_velocity": {"A": 4}}})
    # COFFEE-BEANS-1K 25 + 10 = 35: shopify listing buffer 3 -> 32; woo (channel 0) 35;
    # amazon channel 2 -> 33; kaufland 0 -> 35.
    assert stack.qty("COFFEE-BEANS-1K") == {"amazon_de": 33, "kaufland_de": 35, "shopify_eu": 32, "woo_shop": 35}
    # TEA-GREEN-100 80 + 40 = 120: the amazon listing's buffer 0 overrides the channel's 2.
    assert stack.qty("TEA-GREEN-100")["amazon_de"] == 120
    # CANDLE-SOY-L 10 (Backroom) + 6 = 16: etsy listing buffer 2 -> 14 (not the channel's 1).
    assert stack.qty("CANDLE-SOY-L")["etsy_shop"] == 14
    # CHARGER-USB-C 35: shopify 35 - velocity A 4 = 31; ebay (channel 1) 34; amazon 33.
    assert stack.qty("CHARGER-USB-C") == {"amazon_de": 33, "bol_nl": 34, "ebay_de": 34, "shopify_eu": 31,
                                          "lazada_sg": 33, "shopee_sg": 33}
    # published = free - buffer after a sale of 5 (free 30)
    stack.rpc.deliver("CHARGER-USB-C", 5)
    stack.rpc.deliver("COFFEE-BEANS-1K", 5)
    stack.settle()
    assert stack.qty("CHARGER-USB-C") == {"amazon_de": 28, "bol_nl": 29, "ebay_de": 29, "shopify_eu": 26,
                                          "lazada_sg": 28, "shopee_sg": 28}
    assert stack.qty("COFFEE-BEANS-1K") == {"amazon_de": 28, "kaufland_de": 30, "shopify_eu": 27, "woo_shop": 30}
    [explained] = stack.bridge.explain("CHARGER-USB-C", "shopify_eu")  # type: ignore[union-attr]
    assert explained["quantity"] == 26 and "velocity" in explained["text"]


# -- 6. overlapping warehouses, excluded locations ---------------------------------------------------


def test_06_overlap_counts_once_and_excluded_location_never_counts(stack: Stack) -> None:
    # CANDLE-SOY-L: 10 on WH/Stock/Backroom (under WH and BACK's own stock) + 6 on WH2/Stock.
    # kaufland_de has WH + BACK + WH2: 16, not 26.
    assert stack.qty("CANDLE-SOY-L")["kaufland_de"] == 16
    # SCARF-MER-GRY: 7 on Shelf B (bol_nl excludes it) + 2 on Backroom.
    # bol 2 - 1 = 1; kaufland 9; shopify 9; zalando 9 - 1 = 8.
    assert stack.qty("SCARF-MER-GRY") == {"bol_nl": 1, "zalando_de": 8, "kaufland_de": 9, "shopify_eu": 9}
    since = time.time()
    stack.rpc.set_quantity("SCARF-MER-GRY", "WH/Stock/Shelf B", 20)  # +13 where bol does not look
    stack.settle()
    assert stack.qty("SCARF-MER-GRY") == {"bol_nl": 1, "zalando_de": 21, "kaufland_de": 22, "shopify_eu": 22}
    assert stock_requests(stack, "bol", since) == []
    stack.rpc.set_quantity("SCARF-MER-GRY", "WH/Stock/Backroom", 5)  # +3 in the overlap
    stack.rpc.set_quantity("CANDLE-SOY-L", "WH/Stock/Backroom", 13)  # +3 in the overlap
    stack.settle()
    assert stack.qty("SCARF-MER-GRY") == {"bol_nl": 4, "zalando_de": 24, "kaufland_de": 25, "shopify_eu": 25}
    assert stack.qty("CANDLE-SOY-L")["kaufland_de"] == 19


# -- 7. flash sale: allocation vs reservation ---------------------------------------------------------


def test_07_flash_sale_allocation_and_reservation(stack: Stack) -> None:
    # BOTTLE-STEEL-750 free 40 + 15 = 55; amazon_de holds an allocation of 10:
    # amazon min(10, 55) - 2 = 8; the others see 55 - 10 = 45 minus their buffer.
    assert stack.qty("BOTTLE-STEEL-750") == {"amazon_de": 8, "bol_nl": 44, "kaufland_de": 45, "ebay_de": 44,
                                             "shopify_eu": 45, "lazada_sg": 43, "shopee_sg": 43}
    # HEADPH-BT-01 free 20 + 5 = 25; bol_nl holds a reservation of 5: bol still sees the whole
    # pool (25 - 1 = 24); the others 20 minus buffer; eBay capped at 5.
    assert stack.qty("HEADPH-BT-01") == {"amazon_de": 18, "bol_nl": 24, "ebay_de": 5, "shopify_eu": 20,
                                         "lazada_sg": 18, "shopee_sg": 18}
    # A Shopee campaign reserves 20 bottles; the admin presses "resync" on the product
    # (allocations write no stock event: see the report).
    stack.rpc.allocate("shopee_sg", "BOTTLE-STEEL-750", "reservation", 20)
    stack.rpc("product.product", "action_marketplace_resync", [stack.rpc.product("BOTTLE-STEEL-750")])
    stack.settle()
    # shopee sees 55 - 10 (amazon's allocation) - 2 = 43; others 55 - 10 - 20 = 25 minus buffer;
    # amazon min(10, 55 - 20) - 2 = 8.
    assert stack.qty("BOTTLE-STEEL-750") == {"amazon_de": 8, "bol_nl": 24, "kaufland_de": 25, "ebay_de": 24,
                                             "shopify_eu": 25, "lazada_sg": 23, "shopee_sg": 43}
    # A big B2B delivery of 40 leaves 15: amazon min(10, 15 - 20) < 0 -> 0; shopee 15 - 10 - 2 = 3;
    # the rest 15 - 30 < 0 -> 0. Allocations never promise the same unit twice.
    stack.rpc.deliver("BOTTLE-STEEL-750", 40)
    stack.settle()
    assert stack.qty("BOTTLE-STEEL-750") == {"amazon_de": 0, "bol_nl": 0, "kaufland_de": 0, "ebay_de": 0,
                                             "shopify_eu": 0, "lazada_sg": 0, "shopee_sg": 3}


# -- 8. Lazada campaign lock ---------------------------------------------------------------------------


def test_08_lazada_campaign_lock_is_locked_visible_and_not_retried(stack: Stack) -> None:
    stack.admin.set_faults("lazada", lock={"sku": "HEADPH-BT-01", "floor": 15})
    # 10 sold from Shelf A: free 15; others 15 - 5 (bol's reservation) = 10 minus buffer.
    stack.rpc.deliver("HEADPH-BT-01", 10, src="WH/Stock/Shelf A")
    stack.settle()
    assert stack.qty("HEADPH-BT-01") == {"amazon_de": 8, "bol_nl": 14, "ebay_de": 5, "shopify_eu": 10,
                                         "lazada_sg": 18, "shopee_sg": 8}
    # Lazada refused 8 (< the campaign's 15): the listing is locked, not retried forever.
    result = cli(stack, "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["channels"]["lazada_sg"]["locked"] == 1
    assert status["channels"]["lazada_sg"]["retry_backlog"] == 0
    assert status["channels"]["shopify_eu"]["locked"] == 0
    since = time.time()
    time.sleep(1.5)  # three retry-queue rounds (retry_interval_s 0.5)
    stack.settle()
    assert stock_requests(stack, "lazada", since) == []
    problem = next(p for p in status["problems"] if p["channel"] == "lazada_sg")
    assert problem["state"] == "locked" and problem["message"]


# -- 9. Shopee drift, corrected by the safety net ---------------------------------------------------


def test_09_shopee_promotion_end_drift_is_corrected_by_the_safety_net(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(bridge={"full_resync_interval_s": 1.0})
    assert stack.qty("SOCKS-WOOL-M")["shopee_sg"] == 16  # 18 on Shelf A - 2
    # The promotion ends and Shopee puts its 7 unsold promotion units back into normal stock.
    stack.admin.set_faults("shopee", promotion_end={"sku": "SOCKS-WOOL-M", "returned_qty": 7})
    assert stack.qty("SOCKS-WOOL-M")["shopee_sg"] == 23
    stack.wait_for(lambda: stack.qty("SOCKS-WOOL-M")["shopee_sg"] == 16, timeout=15,
                   what="the safety-net resync to correct Shopee's drift")
    rows = stack.bridge.timeline("SOCKS-WOOL-M")  # type: ignore[union-attr]
    assert any(r.get("trigger") == "drift" for r in rows), rows


# -- 10. 429 storm on one channel ------------------------------------------------------------------


def test_10_429_storm_on_one_channel_latest_wins_others_not_slowed(stack: Stack) -> None:
    stack.admin.set_faults("bol", storm_429={"seconds": 1.5, "retry_after": 1})
    start = time.time()
    for qty in (50, 45, 40):  # NOTEBOOK-A5-DOT on Shelf A: 55 -> 50 -> 45 -> 40
        stack.rpc.set_quantity("NOTEBOOK-A5-DOT", "WH/Stock/Shelf A", qty)
    stack.wait_for(lambda: stack.qty("NOTEBOOK-A5-DOT")["shopify_eu"] == 40, timeout=5, what="shopify")
    stack.wait_for(lambda: stack.qty("NOTEBOOK-A5-DOT")["bol_nl"] == 39, timeout=15, what="bol after the storm")
    stack.settle()
    assert stack.qty("NOTEBOOK-A5-DOT") == {"amazon_de": 38, "bol_nl": 39, "ebay_de": 39, "shopify_eu": 40,
                                            "woo_shop": 40}
    bol = [r for r in stock_requests(stack, "bol", start) if str(r["path"]).endswith("/stock")]
    throttled = [r for r in bol if r["status"] == 429]
    assert throttled, "the storm was not hit"
    # Retry-After 1 s honoured: no two stock calls inside the storm less than ~1 s apart.
    times = sorted(float(r["time"]) for r in throttled)  # type: ignore[arg-type]
    assert all(b - a >= 0.9 for a, b in zip(times, times[1:])), times
    assert stack.qty("NOTEBOOK-A5-DOT")["bol_nl"] == 39  # the latest value won
    # Others not slowed, by the sandbox's own clock: shopify had its last value before the
    # storm on bol was over (bol's first accepted stock call).
    accepted = [float(r["time"]) for r in bol if r["status"] != 429]  # type: ignore[arg-type]
    shopify = [float(r["time"]) for r in stock_requests(stack, "shopify", start)]  # type: ignore[arg-type]
    assert shopify and accepted and max(shopify) < min(t for t in accepted if t > times[0]), (shopify, accepted)
    # The pace of sends to the storming channel stays within the adapter's budget.
    from connector.marketplaces.bol import BolAdapter
    sends = sorted(float(r["time"]) for r in bol)  # type: ignore[arg-type]
    limit = BolAdapter.rate_per_s + BolAdapter.burst
    assert all(sum(1 for t in sends if s <= t < s + 1.0) <= limit for s in sends), sends


# -- 11. unmapped / rejected SKU ---------------------------------------------------------------------


def test_11_unmapped_sku_errors_on_that_listing_only(stack: Stack) -> None:
    # A new WooCommerce listing whose product id does not exist in the shop.
    stack.rpc("marketplace.listing", "create", {
        "channel_id": stack.rpc.channel("woo_shop"), "product_id": stack.rpc.product("CAP-BASE-NVY"),
        "channel_sku": "CAP-BASE-NVY", "external_id": "99999", "pack_size": 1,
    })
    stack.rpc("product.product", "action_marketplace_resync", [stack.rpc.product("CAP-BASE-NVY")])
    stack.rpc.deliver("CAP-BASE-NVY", 2, src="WH2/Stock", warehouse="WH2")
    stack.rpc.deliver("PEN-GEL-BLK", 10)
    stack.settle()
    # the others flow: CAP 9 - 2 = 7 (shopify), 6 (zalando); PEN 370 - 10 = 360 on woo too.
    assert stack.qty("CAP-BASE-NVY") == {"zalando_de": 6, "shopify_eu": 7}
    assert stack.qty("PEN-GEL-BLK")["woo_shop"] == 360
    status = stack.bridge.status()  # type: ignore[union-attr]
    assert status["channels"]["woo_shop"]["error"] == 1
    problem = next(p for p in status["problems"] if p["channel"] == "woo_shop")
    assert problem["sku"] == "CAP-BASE-NVY" and problem["message"]
    # ... and the ERP user sees it on the listing (sync_state/last_error written back)
    rows = stack.rpc("marketplace.listing", "search_read", [["channel_sku", "=", "CAP-BASE-NVY"],
                                                             ["channel_id", "=", stack.rpc.channel("woo_shop")]],
                     ["sync_state", "last_error"])
    stack.wait_for(lambda: stack.rpc("marketplace.listing", "read", [rows[0]["id"]], ["sync_state"])[0]
                   ["sync_state"] == "error", timeout=5, what="sync_state written back")


# -- 12. two orders take the last unit -------------------------------------------------------------


def test_12_oversell_pushes_zero_everywhere_and_alerts(stack: Stack) -> None:
    stack.rpc.receive("LAMP-DESK-01", 2)  # 3 units: kaufland/shopify 3
    stack.settle()
    assert stack.qty("LAMP-DESK-01")["shopify_eu"] == 3
    # Amazon's order reserves all 3; a bol order for 1 is shipped by hand at the same time.
    stack.rpc.order("LAMP-DESK-01", 3)
    stack.rpc.force_deliver("LAMP-DESK-01", 1)
    stack.settle()
    free = sum(q - r for q, r in stack.rpc.quants("LAMP-DESK-01").values())
    assert free < 0, "the ERP should now be oversold"
    assert set(stack.qty("LAMP-DESK-01").values()) == {0}
    status = stack.bridge.status()  # type: ignore[union-attr]
    assert any("LAMP-DESK-01" in json.dumps(a) for a in status.get("alerts", [])), status.get("alerts")


# -- 13. no-addon mode and the Odoo automation payload ----------------------------------------------


def test_13_no_addon_mode_write_date_polling_and_automation_payload(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(with_bridge=False)
    data = stack.config_data
    data["erp"]["mode"] = "no_addon"
    data["bridge"]["poll_interval_s"] = 3.0  # slow on purpose: the automation wake-up must beat it
    keep = {"shopify_eu", "woo_shop"}
    data["channels"] = {code: section for code, section in data["channels"].items() if code in keep}
    data["channels"]["shopify_eu"].update({
        "warehouses": ["WH", "WH2"], "buffer_qty": 0,
        "listings": [{"sku": "MUG-CER-350", "external_id": "gid://shopify/InventoryItem/43100000028"},
                     {"sku": "PEN-GEL-BLK", "external_id": "gid://shopify/InventoryItem/43100000070"}],
    })
    data["channels"]["woo_shop"].update({
        "warehouses": ["WH"], "buffer_qty": 5,
        "listings": [{"sku": "MUG-CER-350", "external_id": "206"}],
    })
    stack.start_bridge()
    # shopify WH + WH2: 84; woo only WH (60) minus its buffer 5 = 55.
    assert stack.qty("MUG-CER-350")["shopify_eu"] == 84
    assert stack.qty("MUG-CER-350")["woo_shop"] == 55
    # An Odoo without the addon sends no outbox webhook: write_date polling finds the change.
    stack.erp.set_webhook(None, None)
    stack.rpc.deliver("MUG-CER-350", 4)
    stack.wait_for(lambda: stack.qty("MUG-CER-350").get("shopify_eu") == 80, timeout=10, what="write_date poll")
    assert stack.qty("MUG-CER-350")["woo_shop"] == 51
    # Odoo 17+ automation "Send Webhook Notification" on stock.quant wakes the bridge at once.
    stack.rpc.deliver("PEN-GEL-BLK", 6)
    body = json.dumps({"_model": "stock.quant", "_id": 42, "_name": "WH/Stock - Pen"}).encode()
    bridge = stack.bridge
    assert bridge is not None and bridge.trigger_url
    assert bridge.engine is not None
    woken = bridge.engine.woken_flushes
    reply = requests.post(bridge.trigger_url, data=body, timeout=5,
                          headers={"Content-Type": "application/json", "X-Signature-256": sign(body)})
    assert reply.status_code in (200, 202, 204), reply.text
    stack.wait_for(lambda: stack.qty("PEN-GEL-BLK")["shopify_eu"] == 364, timeout=5, what="the woken bridge")
    # Counted only when a flush right after a wake-up found the change: a poll that found it
    # (the automation payload ignored) leaves the counter where it was.
    assert bridge.engine.woken_flushes > woken, "found by the poll, not by the automation wake-up"


# -- 15. bad webhook signature -------------------------------------------------------------------


def test_15_bad_webhook_signature_is_401_and_changes_nothing(stack: Stack) -> None:
    bridge = stack.bridge
    assert bridge is not None and bridge.trigger_url and bridge.engine is not None
    stack.settle()
    flushes = bridge.engine.flushes
    body = json.dumps({"events": [{"id": 10**9, "product_id": 5, "reason": "move_done"}]}).encode()
    for headers in ({}, {"X-Signature-256": sign(body, "wrong-secret")}, {"X-Signature-256": "sha256=zz"}):
        reply = requests.post(bridge.trigger_url, data=body, timeout=5,
                              headers={"Content-Type": "application/json", **headers})
        assert reply.status_code == 401, (headers, reply.status_code)
    time.sleep(0.3)  # longer than the coalesce window and a poll round
    assert bridge.engine.flushes == flushes
    ok = requests.post(bridge.trigger_url, data=b'{"events": []}', timeout=5,
                       headers={"Content-Type": "application/json", "X-Signature-256": sign(b'{"events": []}')})
    assert ok.status_code in (200, 202, 204)
