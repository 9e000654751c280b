"""What the engine passes to and asks of the ERP read: the marketplaces' caps reach the
computation, and manual (config) events reload the ERP config before the snapshot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from connector.sync.engine import Engine
from tests.sync.fakes import Rig

pytestmark = pytest.mark.timeout(30)


def test_marketplace_caps_reach_the_computation(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.engine = Engine(dataclasses.replace(rig.engine.deps, marketplace_caps={"amazon": 3}), rig.settings, rig.store)
    try:
        rig.engine.start()
        assert rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "MUG")] == (3, True)  # 5 capped
        assert rig.adapters["etsy_shop"].remote[rig.sku("etsy_shop", "MUG")] == (5, True)
    finally:
        rig.engine.stop()


def test_manual_events_reload_the_erp_config_before_the_snapshot(rig: Rig) -> None:
    rig.engine.start()
    reloads: list[int] = []
    rig.source.refresh_config = lambda: reloads.append(1)  # type: ignore[method-assign]
    rig.feed.last_reasons = {"move_done"}  # type: ignore[attr-defined]
    rig.feed.emit(rig.source.pid("MUG"))
    rig.engine.wake()
    assert rig.engine.wait_idle(5)
    assert reloads == []
    rig.feed.last_reasons = {"manual"}  # type: ignore[attr-defined]
    rig.feed.emit(rig.source.pid("MUG"))
    rig.engine.wake()
    assert rig.engine.wait_idle(5)
    assert reloads == [1]
