"""bridge.drift_audit_interval_s: its default, its validation, and the scheduler's use of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from connector.config import BridgeSection
from connector.sync.scheduler import start_scheduler


class _Engine:
    """Just the bound methods start_scheduler hands to its jobs (none run in these tests)."""

    def retry_due(self) -> int:
        return 0

    def prune_journal(self, retention_days: float) -> int:
        return 0


def _audit_interval(bridge: BridgeSection) -> timedelta:
    scheduler = start_scheduler(_Engine(), bridge)  # type: ignore[arg-type]
    try:
        trigger: Any = scheduler.get_job("drift_audit").trigger
        return trigger.interval
    finally:
        scheduler.shutdown(wait=False)


def test_the_drift_audit_defaults_to_three_safety_nets() -> None:
    bridge = BridgeSection(full_resync_interval_s=100)
    assert bridge.drift_audit_interval_s is None
    assert bridge.audit_interval_s == 300
    assert _audit_interval(bridge) == timedelta(seconds=300)


def test_a_configured_drift_audit_interval_is_the_one_scheduled() -> None:
    bridge = BridgeSection(full_resync_interval_s=100, drift_audit_interval_s=45)
    assert _audit_interval(bridge) == timedelta(seconds=45)


def test_a_non_positive_drift_audit_interval_is_refused() -> None:
    with pytest.raises(ValidationError, match="drift_audit_interval_s"):
        BridgeSection(drift_audit_interval_s=0)
