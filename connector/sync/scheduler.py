"""The periodic jobs (APScheduler): safety-net full resync, drift audit, retry queue,
recomputes at peak-period edges, journal pruning. Each job runs at most once at a time
and late runs are merged.

- safety net (`full_resync_interval_s`, default 10 min): recompute every listing from a
  fresh ERP read; push what differs, and re-push listings whose transient retries ran out
  or whose accepted value is not the wanted one (a long marketplace outage heals here).
- drift audit (`drift_audit_interval_s`; default 3x the safety net, 30 min): reads back a
  rotating slice of each channel's listings within a per-marketplace budget
  (engine.AUDIT_READS) and re-pushes what the marketplace changed; live pushes go first.
- retry queue (`retry_interval_s`), journal pruning (daily).
- peak periods: one recompute of the channel at each configured period's start and end,
  so its extra buffer applies on time, not at the next stock change.

Usage::

    scheduler = start_scheduler(engine, config.bridge, peak_edges(config)); ...; scheduler.shutdown()
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from connector.config import BridgeConfig, BridgeSection
from connector.sync.engine import Engine

log = logging.getLogger(__name__)

DAY_S = 86400.0
PEAK_EDGE_DELAY = timedelta(seconds=1)  # run just after the edge: the period has begun / ended


def _safety_net(engine: Engine) -> None:
    report = engine.resync(trigger="safety_net", repair=True, wait_s=0)
    if report.changes or report.errors:
        log.warning(
            "safety-net resync: %d change(s), errors: %s",
            len(report.changes), "; ".join(report.errors) or "none",
        )
    else:
        log.info("safety-net resync: %d listing(s) checked, all equal", report.checked)


def _drift_audit(engine: Engine) -> None:
    report = engine.audit_drift()
    level = logging.WARNING if report.drifted or report.errors else logging.INFO
    log.log(level, "drift audit: %d listing(s) read back, %d drifted%s", report.checked,
            len(report.drifted), f", errors: {'; '.join(report.errors)}" if report.errors else "")


def _peak_edge(engine: Engine, channel: str) -> None:
    report = engine.resync(channels=[channel], trigger="peak_period", wait_s=0)
    log.info("peak period edge on %s: %d change(s)", channel, len(report.changes))


def peak_edges(config: BridgeConfig) -> list[tuple[str, datetime]]:
    """(channel code, edge time) of every configured peak period's start and end."""
    from connector.erp.records import aware

    edges: list[tuple[str, datetime]] = []
    for code, section in config.channels.items():
        for period in getattr(section, "peak_periods", None) or ():
            edges.extend((code, aware(when)) for when in (period.start, period.end) if when is not None)
    return edges


def _guard(name: str, job: Any, *args: Any) -> Any:
    def run() -> None:
        try:
            job(*args)
        except Exception as exc:  # a failed run is logged; the next interval tries again
            log.error("%s failed: %s", name, exc)

    return run


def start_scheduler(
    engine: Engine, bridge: BridgeSection, peaks: Iterable[tuple[str, datetime]] = (),
    extra: Iterable[tuple[str, Callable[[], Any], float]] = (),
) -> BackgroundScheduler:
    """Start the background scheduler with the bridge's periodic jobs."""
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone="UTC",
    )
    scheduler.add_job(
        _guard("safety-net resync", _safety_net, engine), "interval",
        seconds=bridge.full_resync_interval_s, id="safety_net",
    )
    scheduler.add_job(
        _guard("drift audit", _drift_audit, engine), "interval",
        seconds=bridge.audit_interval_s, id="drift_audit",
    )
    scheduler.add_job(
        _guard("retry queue", engine.retry_due), "interval",
        seconds=bridge.retry_interval_s, id="retry",
    )
    scheduler.add_job(
        _guard("journal pruning", engine.prune_journal, bridge.journal_retention_days), "interval",
        seconds=DAY_S, id="prune_journal",
    )
    for name, job, interval_s in extra:  # e.g. keeping Advised buffers (connector/risk)
        scheduler.add_job(_guard(name, job), "interval", seconds=interval_s,
                          id=name.replace(" ", "_"))
    now = datetime.now(UTC)
    for n, (code, edge) in enumerate(sorted(set(peaks), key=lambda e: e[1])):
        if edge + PEAK_EDGE_DELAY > now:
            scheduler.add_job(
                _guard(f"peak period edge of {code}", _peak_edge, engine, code), "date",
                run_date=edge + PEAK_EDGE_DELAY, id=f"peak_edge_{n}", misfire_grace_time=3600,
            )
    scheduler.start()
    return scheduler
