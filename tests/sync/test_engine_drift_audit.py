"""The scheduled drift audit: budgeted, rotating, correcting drift, leaving busy channels."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.sync.fakes import Rig

pytestmark = pytest.mark.timeout(30)


def test_the_drift_audit_rotates_within_its_budget_and_corrects_drift(rig: Rig) -> None:
    rig.engine.start()
    amazon = rig.adapters["amazon_de"]
    reads: list[list[str]] = []
    real_read = amazon.read

    def read(skus: Any) -> Any:
        reads.append([s for s, _ in skus])
        return real_read(skus)

    amazon.read = read  # type: ignore[method-assign]
    amazon.remote[rig.sku("amazon_de", "TEA")] = (99, True)  # changed behind our back
    budget = {"*": 0, "amazon": 2}
    first = rig.engine.audit_drift(budget)
    second = rig.engine.audit_drift(budget)
    assert [len(r) for r in reads] == [2, 2]
    assert set(reads[0]) | set(reads[1]) == {rig.sku("amazon_de", s) for s in ("MUG", "LAMP", "TEA")}
    assert rig.engine.wait_idle(5)
    assert rig.lid("amazon_de", "TEA") in first.drifted + second.drifted
    assert amazon.remote[rig.sku("amazon_de", "TEA")] == (10, True)


def test_the_drift_audit_leaves_a_busy_channel_for_the_next_run(rig: Rig) -> None:
    rig.engine.start()
    amazon = rig.adapters["amazon_de"]
    amazon.gate = threading.Event()
    amazon.started.clear()
    rig.source.set("MUG", 1)
    rig.engine.wake([rig.source.pid("MUG")])
    assert amazon.started.wait(5)
    report = rig.engine.audit_drift({"*": 0, "etsy": 0, "amazon": 10})
    assert report.checked == 0  # pushes first
    amazon.gate.set()
    assert rig.engine.wait_idle(5)
