"""Explanations: what support staff read, what --json prints, and the fast builder."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from connector.stock.compute import compute_listings
from connector.stock.model import Allocation, AllocationMode, BufferPolicy, PushAction
from connector.stock.result import Explanation, ListingResult
from tests.stock.shop import (
    BIN_1,
    NOW,
    QUARANTINE,
    SHELF_A,
    SHELF_B,
    STOCK,
    WH2_STOCK,
    channel,
    listing,
    quant,
    snapshot,
)


def results() -> list[ListingResult]:
    snap = snapshot(
        [
            channel(1, "bol_nl", excluded_location_ids=(SHELF_B,), buffer=BufferPolicy(fixed=1)),
            channel(2, "amazon_de"),
        ],
        [listing(1, 1, max_qty=30, pack_size=2), listing(2, 2, external_id=None)],
        [
            quant(SHELF_A, 12, 2, lot_id=3),
            quant(SHELF_B, 5),
            quant(QUARANTINE, 2),
            quant(WH2_STOCK, 6),
            quant(BIN_1, 4, owner_id=555),
        ],
        [
            Allocation(7, 2, 1, AllocationMode.ALLOCATION, 3, NOW - timedelta(days=1)),
            Allocation(8, 1, 1, AllocationMode.RESERVATION, 2),
        ],
    )
    return compute_listings(snap, NOW)


def test_render_tells_the_whole_story() -> None:
    bol, amazon = results()
    text = bol.explanation.render()
    # free 16 = (12-2) + 6; held by amazon 3; pool 13; buffer 1; packs of 2: 6
    for expected in (
        "bol_nl (bol)  sku SKU-1  listing #1",
        "WH/Stock/Shelf B",
        "no: excluded",
        "no: not under a root",
        "no: consigned (owner #555)",
        "free stock                       16",
        "held by amazon_de                -3  allocation #7, ring-fenced",
        "own reservation                   2  reservation #8",
        "pool                             13",
        "buffer                           -1  channel fixed 1",
        "pack size                        /2",
        "cap                              30  listing",
        "published                         6",
        "action                          set",
    ):
        assert expected in text, f"{expected!r} missing from:\n{text}"
    assert "OVERSOLD" not in text
    amazon_text = amazon.explanation.render()
    assert "pool                              3  min(own allocation, free - held)" in amazon_text
    assert "buffer                            0  none" in amazon_text


def test_to_dict_is_json_ready_and_matches_the_numbers() -> None:
    bol, _ = results()
    data = json.loads(json.dumps(bol.explanation.to_dict()))
    assert data["free"] == 16 and data["pool"] == 13 and data["published"] == 6
    assert data["held"] == 3 and data["held_by_others"][0]["channel"] == "amazon_de"
    assert data["held_by_others"][0]["date_start"] == "2025-05-31T12:00:00+00:00"
    assert data["buffer"] == 1 and data["buffer_source"] == "channel fixed 1"
    assert (data["pack_size"], data["cap"], data["cap_source"]) == (2, 30, "listing")
    assert data["action"] == "set" and data["oversold"] is False
    assert {"id": 13, "name": "WH/Stock/Shelf B", "reason": "excluded"} in data[
        "locations_not_counted"
    ]
    assert {q["location"] for q in data["quants"] if q["counted"]} == {
        "WH/Stock/Shelf A",
        "WH2/Stock",
    }


def test_oversold_is_shouted() -> None:
    snap = snapshot([channel(1, "amazon_de")], [listing(1, 1)], [quant(STOCK, 1, 4)])
    (r,) = compute_listings(snap, NOW)
    assert "OVERSOLD" in r.explanation.render()
    assert r.explanation.to_dict()["oversold_on"] == ["amazon_de"]


def test_fast_builder_gives_the_same_records_as_the_constructors() -> None:
    for r in results():
        e = r.explanation
        slow_e = Explanation(**{f.name: getattr(e, f.name) for f in dataclasses.fields(e)})
        slow = ListingResult(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})
        assert slow_e == e and slow == r
        assert (r.sku, r.external_id, r.channel_code, r.marketplace) == (
            "SKU-1",
            None,
            e.channel.code,
            e.channel.marketplace,
        )
        assert r.quantity == e.published and r.action is e.action
        assert isinstance(r.action, PushAction)


def test_results_are_frozen() -> None:
    r = results()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.quantity = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.explanation.published = 5  # type: ignore[misc]
