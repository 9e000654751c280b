"""Finding out which products changed: the addon's outbox, or write_date polling without it.

`OutboxFeed` reads `marketplace.stock.event` rows with `id > cursor` in id order: ids only
grow, so a cursor never skips an event. `WriteDatePoller` (no addon) reads the products
of `stock.quant` and `stock.move` rows written since a watermark; write_date has one-second
resolution and is the transaction's start time (it commits later), so it asks with `>=` and
an overlap window of 120 s, remembering what it reported inside the window; it may report a
product twice, never zero times for transactions shorter than the window (pushes are
absolute values, so a repeat is harmless).

Usage::

    events = OutboxFeed(client).read(after_id=cursor)
    changed, watermark = WriteDatePoller(client).poll(watermark)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from connector.erp.client import OdooClient
from connector.erp.records import m2o_id, odoo_datetime, text, to_odoo_datetime

EVENT_MODEL = "marketplace.stock.event"
POLLED_MODELS = ("stock.quant", "stock.move")


@dataclass(frozen=True, slots=True)
class StockEvent:
    id: int
    product_id: int
    reason: str
    create_date: str | None


class OutboxFeed:
    """The addon's outbox, read in id order. Usage: ``OutboxFeed(client).read(41)``"""

    def __init__(self, client: OdooClient) -> None:
        self.client = client

    def read(self, after_id: int, limit: int = 1000) -> list[StockEvent]:
        """Events with id > after_id, oldest first, at most `limit`."""
        rows = self.client.call(EVENT_MODEL, "search_read", [("id", ">", int(after_id))],
                                ["product_id", "reason", "create_date"], order="id asc",
                                limit=limit)
        return [StockEvent(id=int(r["id"]), product_id=m2o_id(r.get("product_id")) or 0,
                           reason=str(r.get("reason") or "manual"),
                           create_date=text(r.get("create_date")))
                for r in rows]

    def read_ids(self, ids: list[int]) -> list[StockEvent]:
        """The events among `ids` that exist now (a late-committing transaction's row)."""
        if not ids:
            return []
        rows = self.client.call(EVENT_MODEL, "search_read", [("id", "in", [int(i) for i in ids])],
                                ["product_id", "reason", "create_date"], order="id asc")
        return [StockEvent(id=int(r["id"]), product_id=m2o_id(r.get("product_id")) or 0,
                           reason=str(r.get("reason") or "manual"),
                           create_date=text(r.get("create_date")))
                for r in rows]

    def latest_id(self) -> int:
        """The newest event id (0 when the outbox is empty)."""
        rows = self.client.call(EVENT_MODEL, "search_read", [], ["id"], order="id desc", limit=1)
        return int(rows[0]["id"]) if rows else 0


class WriteDatePoller:
    """Changed products by `write_date` of quants and moves (no addon).

    Why an overlap window: Odoo stamps `write_date` with the transaction's *start* time, so a
    row can become visible long after rows with later stamps moved the watermark on. Every
    scan re-reads rows with ``write_date >= watermark - overlap_s`` (default 120 s, longer
    than any stock transaction should take); rows already reported inside the window are
    remembered by (model, id, write_date, stock values) and not reported again. A
    transaction that commits more than `overlap_s` after it started is still missed: the
    periodic full resync covers it.

    Memory is bounded: the remembered keys are rebuilt from each scan (only rows inside the
    window) and capped at `max_seen` (the oldest are forgotten first, which at worst
    reports a product twice: pushes are absolute values, so a repeat is harmless).

    `poll(None)` only sets the watermark to the newest write_date (the first full resync
    covers what came before). Usage: ``changed, mark = WriteDatePoller(client).poll(mark)``
    """

    # besides write_date, the stock values of a row: a second transaction that started in
    # the same second and rewrote the row must not look "already reported"
    FINGERPRINT: dict[str, tuple[str, ...]] = {
        "stock.quant": ("quantity", "reserved_quantity"),
        "stock.move": ("state", "product_uom_qty"),
    }

    def __init__(self, client: OdooClient, overlap_s: float = 120.0, page_size: int = 5000,
                 max_seen: int = 200_000) -> None:
        self.client = client
        self.overlap = timedelta(seconds=overlap_s)
        self.page_size = page_size
        self.max_seen = max_seen
        # rows already reported inside the overlap window: (model, id, write_date, values)
        self._seen: set[tuple[str, int, str, str]] = set()

    @property
    def remembered(self) -> int:
        """How many rows are remembered as reported (for tests and metrics)."""
        return len(self._seen)

    def poll(self, since: str | None) -> tuple[set[int], str]:
        if since is None:
            newest = [self._newest(model) for model in POLLED_MODELS]
            mark = max((n for n in newest if n), default="1970-01-01 00:00:00")
            self._scan(mark)  # rows inside the first overlap window count as seen
            return set(), mark
        return self._scan(since)

    def _scan(self, since: str) -> tuple[set[int], str]:
        start = odoo_datetime(since)
        assert start is not None
        floor = to_odoo_datetime(start - self.overlap)
        changed: set[int] = set()
        watermark = since
        seen: set[tuple[str, int, str, str]] = set()
        for model in POLLED_MODELS:
            values = self.FINGERPRINT.get(model, ())
            offset = 0
            while True:
                rows = self.client.call(model, "search_read", [("write_date", ">=", floor)],
                                        ["product_id", "write_date", *values],
                                        order="write_date asc, id asc",
                                        offset=offset, limit=self.page_size)
                for row in rows:
                    stamp = str(row.get("write_date") or "")[:19]
                    key = (model, int(row["id"]), stamp,
                           repr(tuple(row.get(name) for name in values)))
                    seen.add(key)
                    product_id = m2o_id(row.get("product_id"))
                    if product_id and key not in self._seen:
                        changed.add(product_id)
                    watermark = max(watermark, stamp)
                if len(rows) < self.page_size:
                    break
                offset += len(rows)
        if len(seen) > self.max_seen:
            seen = set(sorted(seen, key=lambda k: k[2])[-self.max_seen:])
        self._seen = seen
        return changed, watermark

    def _newest(self, model: str) -> str | None:
        rows = self.client.call(model, "search_read", [], ["write_date"],
                                order="write_date desc", limit=1)
        return str(rows[0]["write_date"])[:19] if rows and rows[0].get("write_date") else None
