"""Write fixtures/demo/50_sales.json: four weeks of done deliveries for the demo shop.

Seeded, so the file is reproducible: `python scripts/gen_demo_sales.py`. One move per
listing and week (the week's units; origin `<channel prefix>W<week>`), plus about a
tenth of each product's units from orders without a channel (origin `S0…`, shared by
the configured shares). Dates are relative ("now-3d"), so the history is always recent.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from connector.defaults import DEMO_ORDER_PREFIXES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "demo"

# units per day over all channels (a small shop; the pen sells best, the lamp hardly)
PRODUCT_RATE = {
    "prod_pen": 12, "prod_mug": 8, "prod_tea": 6, "prod_notebook": 5, "prod_coffee": 4,
    "prod_bottle": 4, "prod_charger": 3, "prod_tshirt_m": 3, "prod_tshirt_s": 2,
    "prod_tshirt_l": 1.5, "prod_tote": 2, "prod_candle": 2, "prod_socks": 2,
    "prod_headphones": 2, "prod_cap": 1, "prod_scarf": 1, "prod_pot": 1, "prod_board": 1,
    "prod_yogamat": 0.5, "prod_lamp": 0.3,
}
# how much each marketplace sells, relative
CHANNEL_WEIGHT = {
    "amazon_de": 3.0, "bol_nl": 1.5, "zalando_de": 1.5, "kaufland_de": 1.0, "ebay_de": 1.0,
    "shopify_eu": 2.0, "etsy_shop": 0.7, "woo_shop": 1.0, "lazada_sg": 0.8, "shopee_sg": 0.8,
}
PREFIX = DEMO_ORDER_PREFIXES
UNATTRIBUTED = 0.1
WEEKS = 4


def poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def main() -> None:
    listings = json.loads((FIXTURES / "40_marketplace.json").read_text())["marketplace.listing"]
    channels = json.loads((FIXTURES / "40_marketplace.json").read_text())["marketplace.channel"]
    code_of = {key: value["code"] for key, value in channels.items()}
    by_product: dict[str, list[str]] = {}
    for listing in listings.values():
        by_product.setdefault(listing["product_id"], []).append(code_of[listing["channel_id"]])
    rng = random.Random(13)
    moves: dict[str, dict[str, object]] = {}
    order = 0
    for product, rate in PRODUCT_RATE.items():
        codes = by_product.get(product, [])
        if not codes:
            continue
        weight = sum(CHANNEL_WEIGHT[c] for c in codes)
        for week in range(WEEKS):
            date = f"now-{3 + 7 * week}d"
            for code in codes:
                units = poisson(rng, rate * (1 - UNATTRIBUTED) * CHANNEL_WEIGHT[code] / weight * 7)
                if units:
                    moves[f"move_sale_{product[5:]}_{code}_w{week}"] = _move(
                        product, units, f"{PREFIX[code]}W{week}", date)
            units = poisson(rng, rate * UNATTRIBUTED * 7)
            if units:
                order += 1
                moves[f"move_sale_{product[5:]}_other_w{week}"] = _move(product, units, f"S{order:05d}", date)
    out = FIXTURES / "50_sales.json"
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in moves.items()]
    # one record per line, like the other fixture files
    out.write_text('{\n "stock.move": {\n' + ",\n".join(lines) + "\n }\n}\n")
    print(f"{out}: {len(moves)} done deliveries")


def _move(product: str, units: int, origin: str, date: str) -> dict[str, object]:
    return {"name": f"Sale {origin}", "product_id": product, "product_uom_qty": units, "quantity": units,
            "location_id": "loc_wh_stock", "location_dest_id": "loc_customers", "state": "done",
            "origin": origin, "date": date, "company_id": "company_main"}


if __name__ == "__main__":
    main()
