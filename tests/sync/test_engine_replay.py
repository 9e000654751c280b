"""Rule 2 and 8 after a restart: the change feed is replayed from the stored cursor as
events before the start-up full sync, so the pushes are journaled with their events."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.sync.engine import Engine, EngineDeps, EngineSettings
from connector.state.sqlite import StateStore
from tests.sync.fakes import FakeAdapter, FakeFeed, FakeSource, fake_compute

pytestmark = pytest.mark.timeout(30)

CHANNELS = [("amazon_de", "amazon"), ("bol_nl", "bol")]


def test_restart_replays_the_feed_from_the_cursor_before_the_full_sync(tmp_path: Path) -> None:
    source = FakeSource(CHANNELS, {"MUG": 5, "TEA": 10})
    feed = FakeFeed()
    adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
    now = [1_750_000_000.0]

    def engine() -> Engine:
        deps = EngineDeps(source=source, compute=fake_compute, adapter_factory=lambda code, mp: adapters[code],
                          feed=feed, clock=lambda: now[0])
        return Engine(deps, EngineSettings(poll_interval_s=5.0), StateStore.open(tmp_path / "state.sqlite3"))

    first = engine()
    first.start()
    assert first.wait_idle(5)
    first.stop()
    cursor = first.store.get_cursor("outbox")
    first.store.close()
    # While the bridge is down the ERP keeps changing stock: MUG twice, TEA once.
    source.set("MUG", 3)
    mug_events = [feed.emit(source.pid("MUG"))]
    source.set("MUG", 2)
    mug_events.append(feed.emit(source.pid("MUG")))
    source.set("TEA", 7)
    tea_event = feed.emit(source.pid("TEA"))
    now[0] += 60

    second = engine()
    try:
        report = second.start()
        assert report is not None and report.ok
        assert second.wait_idle(5)
        rows = second.store.journal(since=now[0])
        by_sku = {(r.channel_code, r.sku): r for r in rows}
        assert len(rows) == 4, rows  # MUG and TEA on both channels, once each
        for code, _mp in CHANNELS:
            mug, tea = by_sku[(code, "MUG")], by_sku[(code, "TEA")]
            assert (mug.trigger, mug.new_qty, mug.events) == ("event", 2, mug_events)
            assert (tea.trigger, tea.new_qty, tea.events) == ("event", 7, [tea_event])
        assert all(e > cursor for r in rows for e in r.events)
        assert report.changes == []  # the full sync found every value already on its way or done
        assert second.store.get_cursor("outbox") == tea_event
    finally:
        second.stop()
