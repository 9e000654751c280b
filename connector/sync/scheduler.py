"""The periodic jobs (APScheduler): safety-net full resync with drift audit, retry queue,
journal pruning. Each job runs at most once at a time and late runs are merged.

Usage::

    scheduler = start_scheduler(engine, config.bridge); ...; scheduler.shutdown()
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from connector.config import BridgeSection
from connector.sync.engine import Engine

log = logging.getLogger(__name__)

DAY_S = 86400.0


def _safety_net(engine: Engine) -> None:
    report = engine.resync(trigger="safety_net", audit=True, wait_s=0)
    if report.changes or report.drifted or report.errors:
        log.warning(
            "safety-net resync: %d change(s), %d drifted, errors: %s",
            len(report.changes), len(report.drifted), "; ".join(report.errors) or "none",
        )
    else:
        log.info("safety-net resync: %d listing(s) checked, all equal", report.checked)


def _guard(name: str, job: Any, *args: Any) -> Any:
    def run() -> None:
        try:
            job(*args)
        except Exception as exc:  # a failed run is logged; the next interval tries again
            log.error("%s failed: %s", name, exc)

    return run


def start_scheduler(engine: Engine, bridge: BridgeSection) -> BackgroundScheduler:
    """Start the background scheduler with the bridge's three periodic jobs."""
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone="UTC",
    )
    scheduler.add_job(
        _guard("safety-net resync", _safety_net, engine), "interval",
        seconds=bridge.full_resync_interval_s, id="safety_net",
    )
    scheduler.add_job(
        _guard("retry queue", engine.retry_due), "interval",
        seconds=bridge.retry_interval_s, id="retry",
    )
    scheduler.add_job(
        _guard("journal pruning", engine.prune_journal, bridge.journal_retention_days), "interval",
        seconds=DAY_S, id="prune_journal",
    )
    scheduler.start()
    return scheduler
