"""The hand-over: one snapshot computed, planned and given to the channels' workers.

Reads the previous actions (worker first, then the ledger), computes, keeps the oversold
alerts, takes each listing's baseline (the workers' queued values, then the ledger in one
read), asks the pure plan what to push and acts on it: a ticket attached to a value
already on its way, a job submitted for a changed one, the report and the audit queue
filled. The caller holds the engine's flush lock, so values reach the workers in the
order they were read (Rule 3).

Usage::

    handed = HandOver(compute, ledger, alerts, workers, disabled)
    handled = handed.apply(snapshot, PlanMode(trigger=Trigger.EVENT), ticket=ticket)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Protocol

from connector.marketplaces.base import StockUpdate
from connector.stock.model import Listing, PushAction, StockSnapshot
from connector.sync.alerts import OversoldAlerts
from connector.sync.audit import AuditItem, AuditQueue
from connector.sync.dispatch import Job
from connector.sync.explain import explanation_dict
from connector.sync.ledger import ListingLedger
from connector.sync.plan import Compute, Decision, PlanMode, baseline, listing_meta, plan, previous_actions, scoped
from connector.sync.report import Change, ResyncReport
from connector.sync.tickets import Ticket
from connector.sync.tracing import Span
from connector.sync.workers import ChannelWorkers

MAX_JOB_EVENTS = 50  # event ids a job (and its journal row) keeps


class Apply(Protocol):
    """`HandOver.apply`, as the feed cycle and a resync call it (caller holds the flush lock)."""

    def __call__(
        self,
        snapshot: StockSnapshot,
        mode: PlanMode,
        *,
        events: Mapping[int, list[int]] | None = None,
        ticket: Ticket | None = None,
        report: ResyncReport | None = None,
        audit: AuditQueue | None = None,
        erp_spans: tuple[Span, ...] = (),
        origin_at: float | None = None,
    ) -> set[int]: ...


class HandOver:
    """Compute, plan and hand over; see the module docstring."""

    def __init__(
        self,
        compute: Compute,
        ledger: ListingLedger,
        alerts: OversoldAlerts,
        workers: ChannelWorkers,
        disabled: frozenset[str] = frozenset(),
    ) -> None:
        self.compute = compute
        self._ledger = ledger
        self._alerts = alerts
        self._workers = workers
        self._disabled = disabled

    def previous_action(self, channel_code: str, listing_id: int) -> PushAction | None:
        """The action the marketplace has or is about to get: the scheduled one, else the
        last one it accepted (not merely wanted: a refused REACTIVATE left it off)."""
        scheduled = self._workers.scheduled(channel_code, listing_id)
        if scheduled is not None:
            return scheduled[1]
        known = self._ledger.get(listing_id)
        return known.previous_action if known is not None else None

    def apply(
        self,
        snapshot: StockSnapshot,
        mode: PlanMode,
        *,
        events: Mapping[int, list[int]] | None = None,
        ticket: Ticket | None = None,
        report: ResyncReport | None = None,
        audit: AuditQueue | None = None,
        erp_spans: tuple[Span, ...] = (),
        origin_at: float | None = None,
    ) -> set[int]:
        """Returns the ids of the listings that got a result (a live listing on an enabled
        channel in the mode's scope)."""
        mode = replace(mode, disabled=mode.disabled | self._disabled)
        results = self.compute(snapshot, previous_actions(snapshot, self.previous_action))
        self._alerts.update(snapshot, results, report)
        in_scope = scoped(results, mode)
        # The workers' queued values first, then the ledger in one read: an outcome recorded
        # in between is in the ledger before its job leaves the worker, so none is missed.
        queued = {r.listing_id: self._workers.scheduled(r.channel_code, r.listing_id) for r in in_scope}
        known = self._ledger.entries(queued)
        baselines = {lid: baseline(known.get(lid), scheduled) for lid, scheduled in queued.items()}
        listings = {listing.id: listing for listing in snapshot.listings}
        handled: set[int] = set()
        for decision in plan(in_scope, baselines, mode):
            handled.add(decision.result.listing_id)
            if report is not None:
                report.checked += 1
            if decision.push:
                self._push(decision, snapshot, listings, mode, events, ticket, report, erp_spans,
                           origin_at)
            else:
                self._unchanged(decision, listings, mode, ticket, report, audit)
        return handled

    def _unchanged(
        self,
        decision: Decision,
        listings: Mapping[int, Listing],
        mode: PlanMode,
        ticket: Ticket | None,
        report: ResyncReport | None,
        audit: AuditQueue | None,
    ) -> None:
        result = decision.result
        if decision.scheduled is not None and ticket is not None and not mode.dry_run:
            # The value is on its way already: this flush's cursor waits for it too.
            worker = self._workers.ensure(result.channel_code, result.marketplace)
            worker.attach(result.listing_id, ticket, decision.scheduled)
        if report is not None:
            report.unchanged += 1
        if audit is not None and decision.old_qty is not None and decision.old_action is not None:
            listing = listings.get(result.listing_id)
            sku = listing.channel_sku if listing is not None else result.sku
            audit.add(result.channel_code, AuditItem(
                result.listing_id, result.product_id, sku, result.external_id,
                decision.old_qty, decision.old_action,
            ))

    def _push(
        self,
        decision: Decision,
        snapshot: StockSnapshot,
        listings: Mapping[int, Listing],
        mode: PlanMode,
        events: Mapping[int, list[int]] | None,
        ticket: Ticket | None,
        report: ResyncReport | None,
        erp_spans: tuple[Span, ...],
        origin_at: float | None = None,
    ) -> None:
        result = decision.result
        meta = listing_meta(result, snapshot, listings)
        if report is not None:
            report.changes.append(
                Change(
                    listing_id=result.listing_id,
                    channel_code=result.channel_code,
                    marketplace=result.marketplace,
                    sku=meta.sku,
                    channel_sku=meta.channel_sku,
                    old_qty=decision.old_qty,
                    old_action=str(decision.old_action) if decision.old_action else None,
                    new_qty=result.quantity,
                    action=str(result.action),
                    reason=str(decision.reason),
                    oversold=result.oversold,
                )
            )
        if mode.dry_run:
            return
        job = Job(
            update=StockUpdate(
                listing_id=result.listing_id,
                sku=meta.channel_sku,
                quantity=result.quantity,
                action=result.action,
                external_id=meta.external_id,
            ),
            meta=meta,
            trigger=str(mode.trigger),
            events=list((events or {}).get(result.product_id, []))[-MAX_JOB_EVENTS:],
            explanation=partial(explanation_dict, result),
            tickets=[ticket] if ticket is not None else [],
            erp_spans=erp_spans,
            origin_at=origin_at,
        )
        if ticket is not None:
            ticket.add()
        self._workers.ensure(result.channel_code, result.marketplace).submit(job)
