"""The per-product catalog rows (product, listings, allocations) kept between live flushes.

Stock moves change quants, not catalog rows, so a live flush needs only the quants of its
products once their catalog rows are known: one RPC call instead of four. The rows change
only through edits that the addon turns into "manual" outbox events (listing, allocation,
channel and product hooks); the engine clears the cache when it reads one, and the source
also probes the models' newest write_date and row count after `erp.cache_ttl_s`, for edits
made around the addon. Full resyncs (the safety net), explain and the drift audit read
everything fresh, so a stale row can never outlive the next safety-net run.

A read that started before a `clear()` must not put its rows back: `store` takes the
generation seen before the read and drops rows from an older one.

Usage::

    cache = CatalogCache(max_products=20_000)
    found, missing = cache.get([7, 8])
    generation = cache.generation
    rows = read_catalog(missing)                # the ERP read, outside any lock
    cache.store(generation, rows)
    cache.clear()                               # a "manual" event arrived
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connector.stock.model import Allocation, Listing, Product

DEFAULT_MAX_PRODUCTS = 20_000  # a few KB each: bounded memory whatever the catalogue size


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What the ERP holds for one product besides its stock."""

    product: Product | None  # None: no such product (deleted), listings may still name it
    listings: tuple[Listing, ...]
    allocations: tuple[Allocation, ...]


class CatalogCache:
    """A bounded, thread-safe LRU of `CatalogEntry` by product id."""

    def __init__(self, max_products: int = DEFAULT_MAX_PRODUCTS) -> None:
        self._max = max(0, max_products)
        self._entries: OrderedDict[int, CatalogEntry] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        self.hits = 0
        self.misses = 0

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def get(self, product_ids: Iterable[int]) -> tuple[dict[int, CatalogEntry], list[int]]:
        """(entries found, ids missing), in the order asked."""
        found: dict[int, CatalogEntry] = {}
        missing: list[int] = []
        with self._lock:
            for pid in product_ids:
                entry = self._entries.get(pid)
                if entry is None:
                    missing.append(pid)
                else:
                    self._entries.move_to_end(pid)
                    found[pid] = entry
            self.hits += len(found)
            self.misses += len(missing)
        return found, missing

    def store(self, generation: int, entries: Mapping[int, CatalogEntry]) -> bool:
        """Keep `entries` unless the cache was cleared since `generation`; True if kept."""
        with self._lock:
            if generation != self._generation or self._max == 0:
                return False
            for pid, entry in entries.items():
                self._entries[pid] = entry
                self._entries.move_to_end(pid)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
            return True

    def refresh(self, generation: int, entries: Mapping[int, CatalogEntry]) -> None:
        """Replace the entries already kept with fresher rows (a full read), adding none."""
        with self._lock:
            if generation != self._generation:
                return
            for pid, entry in entries.items():
                if pid in self._entries:
                    self._entries[pid] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
