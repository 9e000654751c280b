"""Domain engine: every operator, prefix logic, dotted paths, child_of/parent_of, empties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.mock_erp.database import MockDatabase
from connector.mock_erp.domain import like_regex, normalize

DB = MockDatabase(version="19.0")


def ids(model: str, domain: list[Any], **ctx: Any) -> list[int]:
    return sorted(DB.execute(2, model, "search", [domain], {"context": ctx} if ctx else {}))


def codes(domain: list[Any]) -> set[str]:
    rows = DB.execute(2, "product.product", "search_read", [domain], {"fields": ["default_code"]})
    return {r["default_code"] for r in rows}


def loc(name: str) -> int:
    [rid] = DB.execute(2, "stock.location", "search", [[("complete_name", "=", name)]], {})
    return rid


def test_comparisons_on_char_and_numbers() -> None:
    assert codes([("default_code", "=", "PEN-GEL-BLK")]) == {"PEN-GEL-BLK"}
    assert "PEN-GEL-BLK" not in codes([("default_code", "!=", "PEN-GEL-BLK")])
    assert "PEN-GEL-BLK" in codes([("default_code", "<>", "MUG-CER-350")])
    listings = DB.execute(2, "marketplace.listing", "search_read", [[("pack_size", ">", 1)]], {"fields": ["channel_sku"]})
    assert [r["channel_sku"] for r in listings] == ["MUG-CER-350-6PK"]
    assert len(ids("marketplace.listing", [("pack_size", ">=", 6)])) == 1
    assert len(ids("marketplace.listing", [("pack_size", "<", 6)])) == len(ids("marketplace.listing", [])) - 1
    assert ids("marketplace.listing", [("max_qty", "<=", 0)]) != []
    assert codes([("default_code", ">", "Z")]) == set()


def test_like_family_and_case() -> None:
    assert codes([("default_code", "like", "TSHIRT")]) == {"TSHIRT-BLK-S", "TSHIRT-BLK-M", "TSHIRT-BLK-L"}
    assert codes([("default_code", "like", "tshirt")]) == set()  # like is case-sensitive
    assert len(codes([("default_code", "ilike", "tshirt")])) == 3
    assert codes([("default_code", "=like", "TSHIRT-BLK-_")]) == {"TSHIRT-BLK-S", "TSHIRT-BLK-M", "TSHIRT-BLK-L"}
    assert codes([("default_code", "=like", "BLK")]) == set()  # =like is anchored, no implicit %
    assert codes([("default_code", "=ilike", "pen-gel-%")]) == {"PEN-GEL-BLK"}
    assert not codes([("default_code", "not like", "-")]) - {False}  # only codeless products lack "-"
    assert "PEN-GEL-BLK" not in codes([("default_code", "not ilike", "pen")])


def test_in_not_in_and_false() -> None:
    assert codes([("default_code", "in", ["PEN-GEL-BLK", "MUG-CER-350"])]) == {"PEN-GEL-BLK", "MUG-CER-350"}
    assert codes([("default_code", "not in", ["PEN-GEL-BLK"])]).isdisjoint({"PEN-GEL-BLK"})
    # the service product has no barcode: = False matches unset, != False matches set
    unset = DB.execute(2, "product.product", "search_read", [[("barcode", "=", False)]], {"fields": ["default_code"]})
    assert [r["default_code"] for r in unset] == ["SRV-GIFTWRAP"]
    assert len(ids("product.product", [("barcode", "!=", False)])) == 20
    assert ids("product.product", [("barcode", "in", [False])]) == ids("product.product", [("barcode", "=", False)])
    # not in also matches unset values (SQL "OR col IS NULL")
    assert "SRV-GIFTWRAP" in codes([("barcode", "not in", ["x"])])
    assert ids("marketplace.allocation", [("date_end", "=", False)]) == [1, 2]
    assert ids("marketplace.allocation", [("date_start", "=", False)]) == [2]
    assert ids("marketplace.allocation", [("date_start", "<", "2026-01-01")]) == [1]  # unset never compares


def test_equal_if_set() -> None:
    assert ids("product.product", [("default_code", "=?", False)]) == ids("product.product", [])
    assert codes([("default_code", "=?", "PEN-GEL-BLK")]) == {"PEN-GEL-BLK"}


def test_prefix_operators_and_implicit_and() -> None:
    both = [("default_code", "ilike", "tshirt"), ("default_code", "ilike", "-S")]
    assert codes(both) == {"TSHIRT-BLK-S"}
    assert codes(["&", *both]) == {"TSHIRT-BLK-S"}
    assert codes(["|", ("default_code", "=", "PEN-GEL-BLK"), ("default_code", "=", "MUG-CER-350")]) == {
        "PEN-GEL-BLK", "MUG-CER-350"}
    assert codes(["!", ("default_code", "ilike", "-")]) == set()
    nested = ["|", "&", ("default_code", "ilike", "tshirt"), ("default_code", "ilike", "-L"),
              "!", ("barcode", "!=", False)]
    assert codes(nested) == {"TSHIRT-BLK-L", "SRV-GIFTWRAP"}
    assert normalize([("a", "=", 1), ("b", "=", 2), ("c", "=", 3)]) == [
        "&", "&", ("a", "=", 1), ("b", "=", 2), ("c", "=", 3)]
    assert codes([(1, "=", 1)]) == codes([])
    assert codes([(0, "=", 1)]) == set()


def test_child_of_over_location_tree() -> None:
    wh_stock = loc("WH/Stock")
    under = DB.execute(2, "stock.location", "search_read", [[("id", "child_of", wh_stock)]], {"fields": ["complete_name"]})
    assert {r["complete_name"] for r in under} == {
        "WH/Stock", "WH/Stock/Shelf A", "WH/Stock/Shelf B", "WH/Stock/Backroom"}
    quants = DB.execute(2, "stock.quant", "search_read", [[("location_id", "child_of", [wh_stock, loc("WH2/Stock")])]],
                        {"fields": ["location_id"]})
    names = {q["location_id"][1] for q in quants}
    assert "WH/Quarantine" not in names and "WH/Output" not in names and "OC/Stock" not in names
    assert "WH2/Stock/Bin 1" in names and "WH/Stock/Backroom" in names
    # child_of by name, as Odoo resolves a string through name_search
    assert ids("stock.location", [("id", "child_of", "WH2/Stock")]) == sorted([loc("WH2/Stock"), loc("WH2/Stock/Bin 1")])


def test_parent_of() -> None:
    shelf = loc("WH/Stock/Shelf A")
    parents = DB.execute(2, "stock.location", "search_read", [[("id", "parent_of", shelf)]], {"fields": ["complete_name"]})
    assert {r["complete_name"] for r in parents} == {"Physical Locations", "WH", "WH/Stock", "WH/Stock/Shelf A"}


def test_dotted_paths_and_any() -> None:
    internal = ids("stock.quant", [("location_id.usage", "=", "internal")])
    assert internal and internal == ids("stock.quant", [("location_id", "any", [("usage", "=", "internal")])])
    assert ids("stock.quant", [("location_id", "not any", [("usage", "=", "internal")])]) == []
    lamp = DB.execute(2, "stock.quant", "search_read", [[("product_id.default_code", "=", "LAMP-DESK-01")]],
                      {"fields": ["quantity"]})
    assert [q["quantity"] for q in lamp] == [1.0]
    kaufland = ids("marketplace.channel", [("warehouse_ids.code", "=", "BACK")])
    assert len(kaufland) == 1
    assert ids("marketplace.channel", [("excluded_location_ids", "!=", False)]) == ids(
        "marketplace.channel", [("code", "=", "bol_nl")])
    # a many2one compared with a string goes through name_search
    assert ids("stock.quant", [("product_id", "ilike", "LAMP-DESK")]) == [q["id"] for q in lamp]


def test_active_test() -> None:
    users = ids("res.users", [])
    assert 1 not in users  # OdooBot is archived
    assert 1 in ids("res.users", [], active_test=False)
    assert ids("res.users", [("active", "=", False)]) == [1]


def test_search_options() -> None:
    all_ids = ids("product.product", [])
    first = DB.execute(2, "product.product", "search", [[]], {"order": "default_code desc", "limit": 2, "offset": 1})
    codes_desc = sorted((c for c in codes([]) if c), reverse=True)
    got = DB.execute(2, "product.product", "read", [first], {"fields": ["default_code"]})
    assert [r["default_code"] for r in got] == codes_desc[1:3]
    assert DB.execute(2, "product.product", "search_count", [[]], {}) == len(all_ids)


@pytest.mark.parametrize("leaf", [("default_code", "~", "x"), ("nope", "=", 1), ("default_code", "=")])
def test_invalid_leaves_raise_value_error(leaf: Any) -> None:
    with pytest.raises(ValueError):
        ids("product.product", [leaf])


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab%_", max_size=5), st.text(alphabet="ab", max_size=6))
def test_like_regex_matches_sql_semantics(pattern: str, value: str) -> None:
    # reference: a tiny recursive SQL LIKE matcher
    def like(p: str, v: str) -> bool:
        if not p:
            return not v
        if p[0] == "%":
            return any(like(p[1:], v[i:]) for i in range(len(v) + 1))
        if not v:
            return False
        return (p[0] == "_" or p[0] == v[0]) and like(p[1:], v[1:])

    assert (like_regex(pattern, False).match(value) is not None) == like(pattern, value)


# -- `id <op> n` narrows the scan to an id range: same answers as a full scan ----------------------
RANGE_DB = MockDatabase(version="19.0")
for _ in range(3):
    RANGE_DB.execute(2, "product.product", "action_marketplace_resync", [[1, 2, 3, 4, 5, 6, 7]])
_EVENTS = sorted(RANGE_DB.store.table("marketplace.stock.event"))
RANGE_DB.store.delete("marketplace.stock.event", _EVENTS[3])  # a hole, as a deleted row leaves


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([">", ">=", "<", "<="]), st.integers(-3, len(_EVENTS) + 3),
       st.sampled_from([None, [("product_id", "in", [2, 5])], [("product_id", "=", 4)]]),
       st.sampled_from([None, 3]))
def test_id_ranges_match_a_full_scan(op: str, value: int, extra: list[Any] | None, limit: int | None) -> None:
    table = RANGE_DB.store.table("marketplace.stock.event")
    test = {">": value.__lt__, ">=": value.__le__, "<": value.__gt__, "<=": value.__ge__}[op]
    expected = [rid for rid in sorted(table) if test(rid) and (
        extra is None or table[rid]["product_id"] in (extra[0][2] if extra[0][1] == "in" else [extra[0][2]]))]
    domain: list[Any] = [("id", op, value), *(extra or [])]
    kwargs: dict[str, Any] = {"order": "id desc"} | ({"limit": limit} if limit else {})
    found = RANGE_DB.execute(2, "marketplace.stock.event", "search", [domain], kwargs)
    assert found == sorted(expected, reverse=True)[:limit]


def test_id_compared_with_a_float_or_string_still_answers_like_before() -> None:
    events = sorted(RANGE_DB.store.table("marketplace.stock.event"))
    assert RANGE_DB.execute(2, "marketplace.stock.event", "search", [[("id", ">", 2.5)]], {"order": "id"}) == \
        [rid for rid in events if rid > 2.5]
    assert RANGE_DB.execute(2, "marketplace.stock.event", "search", [[("id", ">", "5")]], {}) == []
