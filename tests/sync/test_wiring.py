"""connector.sync.wiring: the outbox feed's event reasons and the marketplace caps handed
to the engine."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from connector.config import parse_config
from connector.erp.changes import StockEvent
from connector.marketplaces.bol import MAX_AMOUNT
from connector.sync import wiring
from connector.sync.wiring import OutboxChangeFeed, build_deps, marketplace_caps


class _Outbox:
    def __init__(self) -> None:
        self.rows: list[StockEvent] = []

    def read(self, after_id: int, limit: int = 1000) -> list[StockEvent]:
        return [e for e in self.rows if e.id > after_id][:limit]

    def read_ids(self, ids: list[int]) -> list[StockEvent]:
        return [e for e in self.rows if e.id in ids]

    def latest_id(self) -> int:
        return max((e.id for e in self.rows), default=0)


def test_the_outbox_feed_reports_the_reasons_of_the_events_it_read() -> None:
    outbox = _Outbox()
    feed = OutboxChangeFeed(outbox)
    assert feed.last_reasons == set()
    outbox.rows += [StockEvent(1, 11, "move_done", None), StockEvent(2, 12, "manual", None),
                    StockEvent(3, 0, "quant_update", None)]  # no product: still a reason read
    products, pos = feed.read(0)
    assert products == {11: [1], 12: [2]} and pos == 3
    assert feed.last_reasons == {"move_done", "manual", "quant_update"}
    outbox.rows.append(StockEvent(4, 11, "move_done", None))
    feed.read(pos)
    assert feed.last_reasons == {"move_done"}  # only this read's: no stale "manual"
    feed.read(4)
    assert feed.last_reasons == set()


def test_marketplace_caps_come_from_the_adapter_classes() -> None:
    caps = marketplace_caps()
    assert caps["bol"] == MAX_AMOUNT
    assert all(isinstance(v, int) and v > 0 for v in caps.values())


class _Client:
    def close(self) -> None:
        pass


class _Source:
    mode = "write_date"

    def __init__(self, client: Any, config: Any) -> None:
        pass

    def config_view(self) -> Any:
        return SimpleNamespace(channels={})


def test_build_deps_hands_the_engine_the_marketplace_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import connector.erp.client
    import connector.erp.source

    monkeypatch.setattr(connector.erp.client, "connect", lambda erp: _Client())
    monkeypatch.setattr(connector.erp.source, "StockSource", _Source)
    config = parse_config({"erp": {"url": "http://127.0.0.1:9", "database": "d", "password": "p"},
                           "bridge": {"state_path": str(tmp_path / "s.sqlite3")}}, environ={})
    deps, clients = build_deps(config)
    assert deps.marketplace_caps == wiring.marketplace_caps()
    assert deps.marketplace_caps and deps.marketplace_caps["bol"] == MAX_AMOUNT
    assert len(clients) == 2
