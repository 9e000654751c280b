"""CatalogCache: bounded, and a read that raced a clear() cannot put stale rows back."""

from __future__ import annotations

from connector.erp.catalog import CatalogCache, CatalogEntry
from connector.stock.model import Product


def entry(pid: int) -> CatalogEntry:
    return CatalogEntry(Product(id=pid, default_code=f"P{pid}", barcode=None, name="", company_id=1), (), ())


def test_rows_read_before_a_clear_are_not_stored() -> None:
    cache = CatalogCache()
    generation = cache.generation
    cache.clear()  # a "manual" event arrived while the rows were being read
    assert cache.store(generation, {1: entry(1)}) is False
    assert cache.get([1]) == ({}, [1])
    assert cache.store(cache.generation, {1: entry(1)}) is True
    assert cache.get([1, 2]) == ({1: entry(1)}, [2])


def test_the_least_recently_used_products_go_first_past_the_bound() -> None:
    cache = CatalogCache(max_products=2)
    cache.store(cache.generation, {1: entry(1), 2: entry(2)})
    cache.get([1])  # 1 is now the most recent
    cache.store(cache.generation, {3: entry(3)})
    assert len(cache) == 2
    assert sorted(cache.get([1, 2, 3])[0]) == [1, 3]
