"""WriteDatePoller (no addon): write_date is the transaction's START time, so a row can show
up with a stamp older than the watermark; the overlap window catches it, the seen-set keeps
it from being reported twice, and memory stays bounded."""

from __future__ import annotations

from typing import Any

from connector.erp.changes import WriteDatePoller
from tests.erp.fakes import FakeOdoo


def stamp(seconds: int) -> str:
    return f"2025-01-01 {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Shop:
    """Quants and moves whose rows "commit" when the test appends or rewrites them."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {"stock.quant": [], "stock.move": []}
        self.fake = FakeOdoo(self.tables)

    def quant(self, qid: int, product: int, at: int, quantity: float = 1.0) -> None:
        rows = self.tables["stock.quant"]
        row = next((r for r in rows if r["id"] == qid), None)
        if row is None:
            row = {"id": qid}
            rows.append(row)
        row.update(product_id=product, write_date=stamp(at), quantity=quantity,
                   reserved_quantity=0.0)

    def move(self, mid: int, product: int, at: int, state: str = "done") -> None:
        self.tables["stock.move"].append({"id": mid, "product_id": product,
                                          "write_date": stamp(at), "state": state,
                                          "product_uom_qty": 1.0})


def test_long_transaction_committed_after_the_watermark_moved_is_reported() -> None:
    shop = Shop()
    shop.quant(1, product=1, at=0)
    poller = WriteDatePoller(shop.fake)  # default overlap: 120 s
    changed, mark = poller.poll(None)
    assert (changed, mark) == (set(), stamp(0))

    # short transactions move the watermark to t=90
    shop.quant(2, product=2, at=60)
    shop.move(1, product=3, at=90)
    changed, mark = poller.poll(mark)
    assert (changed, mark) == ({2, 3}, stamp(90))

    # a transaction that started at t=10 commits now: its stamp is 80 s behind the mark
    shop.quant(3, product=4, at=10)
    changed, mark = poller.poll(mark)
    assert (changed, mark) == ({4}, stamp(90))


def test_a_two_second_overlap_would_lose_it() -> None:
    # the same story with the old 2 s overlap: the late row is never reported
    shop = Shop()
    shop.quant(1, product=1, at=0)
    poller = WriteDatePoller(shop.fake, overlap_s=2)
    _, mark = poller.poll(None)
    shop.quant(2, product=2, at=90)
    _, mark = poller.poll(mark)
    shop.quant(3, product=4, at=10)
    assert poller.poll(mark) == (set(), stamp(90))


def test_rows_inside_the_window_are_reported_once() -> None:
    shop = Shop()
    poller = WriteDatePoller(shop.fake, overlap_s=120)
    _, mark = poller.poll(None)
    assert mark == "1970-01-01 00:00:00"
    shop.quant(1, product=1, at=5)
    shop.move(1, product=2, at=6)
    changed, mark = poller.poll(mark)
    assert changed == {1, 2}
    for later in range(10, 120, 20):  # the watermark moves on; rows 1 stay in the window
        shop.quant(100 + later, product=9, at=later)
        changed, mark = poller.poll(mark)
        assert changed == {9}, later
    assert poller.poll(mark) == (set(), mark)


def test_same_second_rewrite_by_another_transaction_is_reported() -> None:
    # transaction B started in the same second as A and rewrote the quant after A's commit
    shop = Shop()
    poller = WriteDatePoller(shop.fake)
    _, mark = poller.poll(None)
    shop.quant(1, product=1, at=30, quantity=5.0)
    assert poller.poll(mark)[0] == {1}
    shop.quant(1, product=1, at=30, quantity=3.0)
    assert poller.poll(mark)[0] == {1}
    assert poller.poll(mark)[0] == set()


def test_memory_is_bounded_by_the_window_and_the_cap() -> None:
    shop = Shop()
    poller = WriteDatePoller(shop.fake, overlap_s=120, max_seen=50)
    _, mark = poller.poll(None)
    for i in range(40):
        shop.quant(i + 1, product=i + 1, at=10 + i)
    changed, mark = poller.poll(mark)
    assert len(changed) == 40 and poller.remembered == 40
    # 40 more rows: over the cap, the oldest are forgotten (at worst a repeat, never a loss)
    for i in range(40, 80):
        shop.quant(i + 1, product=i + 1, at=10 + i)
    changed, mark = poller.poll(mark)
    assert changed == set(range(41, 81)) and poller.remembered == 50
    # the watermark moves far past the window: the old rows fall out of memory
    shop.quant(999, product=999, at=3600)
    changed, mark = poller.poll(mark)
    assert 999 in changed and changed <= set(range(1, 31)) | {999}  # repeats of forgotten rows
    assert mark == stamp(3600)
    assert poller.poll(mark) == (set(), mark) and poller.remembered == 1
