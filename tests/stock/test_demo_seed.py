"""The demo catalog's seed cases (fixtures/demo), with numbers worked out by hand.

Stock (units): MUG 60 WH/Stock + 24 WH2/Stock/Bin 1; LAMP 1; BOTTLE 40 + 15 with a flash-sale
allocation of 10 for amazon_de; HEADPHONES 20 + 5 with a reservation of 5 for bol_nl;
TOTE 30 in Shelf B + 4 in WH/Output; CANDLE 10 in Backroom + 6 WH2; NOTEBOOK 55 + 100 at
Other Co; SOCKS 18 + 3 in Quarantine; SCARF 7 Shelf B + 2 Backroom; BOARD 11 Shelf B + 50
at Other Co; T-shirt L 3 Shelf B + 2 Quarantine. Channel buffers: amazon 2, bol/zalando/
ebay/etsy 1, lazada/shopee 2 (cap 100), the others 0.
"""

from __future__ import annotations

import pytest

from connector.stock.compute import compute_listings
from connector.stock.model import PushAction
from connector.stock.result import ListingResult
from tests.stock.demo import load_demo
from tests.stock.shop import NOW


@pytest.fixture(scope="module")
def demo() -> dict[str, ListingResult]:
    snap, ids = load_demo(NOW)
    by_id = {r.listing_id: r for r in compute_listings(snap, NOW)}
    listing_keys = {key for key in ids if key.startswith("listing_")}
    return {key: by_id[ids[key]] for key in listing_keys}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("listing_amazon_de_mug", 82),  # 84 - 2
        ("listing_amazon_de_mug_6pk", 13),  # floor(82 / 6)
        ("listing_amazon_de_lamp", 0),  # 1 unit, buffer 2
        ("listing_amazon_de_bottle", 8),  # min(10, 55) - 2: the flash sale's remainder
        ("listing_amazon_de_tote", 28),  # WH/Output's 4 do not count
        ("listing_amazon_de_tea", 120),  # listing buffer 0 overrides the channel's 2
        ("listing_amazon_de_notebook", 53),  # Other Co's 100 never count
        ("listing_amazon_de_headphones", 18),  # 25 - 5 reserved for bol - 2
        ("listing_bol_nl_tote", 0),  # Shelf B is excluded for bol
        ("listing_bol_nl_board", 0),  # Shelf B excluded, Other Co foreign
        ("listing_bol_nl_scarf", 1),  # Backroom 2 - 1
        ("listing_bol_nl_bottle", 44),  # 55 - 10 allocated to amazon - 1
        ("listing_bol_nl_headphones", 24),  # own reservation: sees all 25, - 1
        ("listing_kaufland_de_candle", 16),  # Backroom counted once: 10 + 6
        ("listing_kaufland_de_scarf", 9),
        ("listing_ebay_de_headphones", 5),  # 25 - 5 - 1 = 19, capped at 5
        ("listing_shopify_eu_coffee", 32),  # 35 - listing buffer 3
        ("listing_shopify_eu_tshirt_l", 3),  # Quarantine's 2 do not count
        ("listing_shopify_eu_lamp", 1),  # the last unit
        ("listing_shopify_eu_yogamat", 0),
        ("listing_etsy_shop_candle", 14),  # 16 - listing buffer 2
        ("listing_etsy_shop_lamp", 0),
        ("listing_zalando_de_tshirt_m", 22),  # 12 + 5 + 6 - 1
        ("listing_lazada_sg_charger", 33),
        ("listing_shopee_sg_socks", 16),  # 18 - 2, Quarantine's 3 do not count
        ("listing_shopee_sg_bottle", 43),  # 55 - 10 - 2
    ],
)
def test_demo_numbers(demo: dict[str, ListingResult], key: str, expected: int) -> None:
    assert demo[key].quantity == expected, demo[key].explanation.render()


def test_demo_zero_stock_actions(demo: dict[str, ListingResult]) -> None:
    assert demo["listing_etsy_shop_lamp"].action is PushAction.DEACTIVATE
    assert demo["listing_amazon_de_lamp"].action is PushAction.SET
    assert demo["listing_ebay_de_yogamat"].action is PushAction.SET
    assert not any(r.oversold for r in demo.values())


def test_demo_explanation_names_the_quarantine_and_the_excluded_shelf(
    demo: dict[str, ListingResult],
) -> None:
    text = demo["listing_bol_nl_tote"].explanation.render()
    assert "WH/Stock/Shelf B" in text and "excluded" in text
    assert "WH/Output" in text and "not under a root" in text
    quants = demo["listing_shopee_sg_socks"].explanation.to_dict()["quants"]
    assert isinstance(quants, list)
    assert {(q["location"], q["reason"]) for q in quants} == {
        ("WH/Stock/Shelf A", None),
        ("WH/Quarantine", "not under a root"),
    }
