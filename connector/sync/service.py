"""`Bridge`: the whole service in one object — state file, engine, webhook listener, scheduler.

This is the public API the CLI, the demo and the end-to-end tests drive.

Usage::

    bridge = Bridge(load_config(path))
    first = bridge.start()                  # ResyncReport of the first full sync
    print(bridge.listener_url)              # POST {listener_url}/v1/triggers, /v1/resync
    requests.get(f"{bridge.listener_url}/v1/health").json()["status"]   # starting/ready/degraded
    bridge.wait_idle(10)                    # tests: every trigger processed, nothing in flight
    report = bridge.resync(skus=["MUG-1"], force=True)
    print(bridge.explain("MUG-1"), bridge.status(), bridge.timeline("MUG-1"))
    bridge.stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from connector.config import BridgeConfig
from connector.sync.engine import Engine, EngineDeps, EngineSettings
from connector.sync import redaction
from connector.sync.health import Health
from connector.sync.key_expiry import KeyWatch
from connector.sync.report import ResyncReport
from connector.sync.reports import status_report, stored_explanations, timeline_report
from connector.state.rows import PushRecord
from connector.state.sqlite import StateStore
from connector.sync.webhook import ResyncRequest, Trigger, WebhookListener
from connector.sync.wiring import build_deps, settings_from_config

log = logging.getLogger(__name__)

STATUS_FLUSH_S = 15.0  # one-shot resync: how long to wait for the status write-back
# Odoo's automation rules post "Send Webhook Notification" from inside the transaction that
# made the change (ir.actions.server._run_action_webhook runs before COMMIT), so a read at
# once can still see the old stock: the woken products are looked at again this much later.
AUTOMATION_RECHECK_S = 1.0


class Bridge:
    """Keeps every marketplace equal to the ERP. See the module docstring.

    `deps`/`settings` replace the real ERP/adapters (tests); `listen=False` runs without the
    HTTP listener (one-shot CLI commands); `schedule=False` without the periodic jobs.
    """

    def __init__(
        self,
        config: BridgeConfig,
        *,
        deps: EngineDeps | None = None,
        settings: EngineSettings | None = None,
        listen: bool = True,
        schedule: bool = True,
    ) -> None:
        self.config = config
        self._deps = deps
        self._settings = settings or settings_from_config(config)
        self._listen = listen
        self._schedule = schedule
        self._clients: list[Any] = []
        self._listener: WebhookListener | None = None
        self._scheduler: Any = None
        self.store: StateStore | None = None
        self.engine: Engine | None = None
        self.first_sync: ResyncReport | None = None
        self.health = Health()
        self.key_watch: KeyWatch | None = None
        self._synced = False
        self._live = False
        self._recheck_lock = threading.Lock()
        self._recheck_products: set[int] = set()
        self._recheck_timer: threading.Timer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, initial_sync: bool = True, live: bool = True) -> ResyncReport | None:
        """Open the state, connect, listen, run the first full sync, go live; returns its report.

        `live=False` only opens and connects (no listener, feed polling or scheduler): for
        one-shot commands such as `resync` and `explain`. Raises
        connector.erp.errors.ErpError when the ERP cannot be reached at all.
        """
        redaction.install()  # before the first request: credentials in URLs stay out of logs
        self.store = StateStore.open(self.config.bridge.state_path)
        try:
            own_erp = self._deps is None
            if self._deps is None:
                self._deps, self._clients = build_deps(self.config, self.store)
            # The API key's expiry and a key refused while running (one line, not a loop).
            self.key_watch = self.health.key_watch = KeyWatch(self.config, self.store)
            deps = self.health.watch(self.key_watch.guard(self._deps))
            self.engine = Engine(deps, self._settings, self.store)
            if own_erp and live:
                self.key_watch.start()
            self.engine.add_listener(self.health.on_outcome)
            self._live = live
            if not live:
                return None
            if self._listen:
                self._listener = WebhookListener(
                    self.config.bridge.listen_host,
                    self.config.bridge.listen_port,
                    self.config.webhook_secret(),
                    on_trigger=self._on_trigger,
                    max_body_bytes=self.config.bridge.max_body_bytes,
                    health=self._health,
                    on_resync=self._on_resync,
                    automation_token=self.config.automation_token(),
                )
                self._listener.start()
            self.first_sync = self.engine.start(initial_sync=initial_sync)
            self._synced = not initial_sync or (self.first_sync is not None and not self.first_sync.errors)
            if self._schedule:
                from connector.sync.scheduler import peak_edges, start_scheduler

                self._scheduler = start_scheduler(self.engine, self.config.bridge, peak_edges(self.config),
                                                  extra=self._risk_jobs())
        except BaseException:
            self.stop()
            raise
        return self.first_sync

    def _risk_jobs(self) -> list[tuple[str, Callable[[], Any], float]]:
        interval = self.config.risk.keep_advised_interval_s
        if interval <= 0:
            return []
        from connector.risk.commands import keep_advised_buffers

        config = self.config

        def keep() -> None:
            result = keep_advised_buffers(config)
            log.info("advised buffers: %s", "; ".join(result.get("lines", [])))

        return [("advised buffers", keep, interval)]

    def stop(self) -> None:
        if self.key_watch is not None:
            self.key_watch.stop()
        with self._recheck_lock:
            timer, self._recheck_timer = self._recheck_timer, None
        if timer is not None:
            timer.cancel()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self.engine is not None:
            self.engine.stop()
        for client in self._clients:
            try:
                client.close()
            except Exception:  # closing is best effort
                log.debug("closing ERP client failed", exc_info=True)
        self._clients = []
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> Bridge:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def listener_url(self) -> str | None:
        """http://host:port of the webhook listener (the real port when configured with 0)."""
        return self._listener.url if self._listener is not None else None

    @property
    def trigger_url(self) -> str | None:
        return f"{self.listener_url}/v1/triggers" if self._listener is not None else None

    def _on_trigger(self, trigger: Trigger) -> None:
        # The payload says which products to read now (Rule 1); the outbox stays the record.
        assert self.engine is not None
        self.engine.wake(trigger.product_ids, trigger.events)
        if trigger.model is not None:  # an automation rule's webhook: sent before its commit
            self._recheck_later(trigger.product_ids)

    def _recheck_later(self, product_ids: frozenset[int]) -> None:
        """Wake the engine again AUTOMATION_RECHECK_S from now for these products (one
        timer at a time, whatever the number of wake-ups meanwhile)."""
        with self._recheck_lock:
            self._recheck_products |= product_ids
            if self._recheck_timer is not None:
                return
            timer = threading.Timer(AUTOMATION_RECHECK_S, self._recheck_now)
            timer.daemon = True
            self._recheck_timer = timer
        timer.start()

    def _recheck_now(self) -> None:
        with self._recheck_lock:
            if self._recheck_timer is None:  # stopped meanwhile
                return
            products, self._recheck_products = self._recheck_products, set()
            self._recheck_timer = None
        engine = self.engine
        if engine is not None:
            engine.wake(products)

    def _ready(self) -> bool:
        """The first full sync has finished (at start-up, or later by the engine's retries)."""
        return self._synced or (self.engine is not None and self.engine.ready)

    def _health(self) -> dict[str, Any]:
        """GET /v1/health: starting / ready / degraded (connector.sync.health)."""
        engine = self.engine
        doc = self.health.snapshot(ready=engine is not None and self._ready())
        doc["ready"] = doc["status"] != "starting"
        doc["backlog"] = sum(w.backlog() for w in engine.workers().values()) if engine else 0
        return doc

    def _on_resync(self, request: ResyncRequest, progress: Callable[[int, int], None]) -> dict[str, Any]:
        """POST /v1/resync: `stock-bridge resync` run inside this process (one state writer)."""
        report = self.resync(
            skus=request.skus, channels=request.channels, force=request.force,
            dry_run=request.dry_run, progress=progress,
        )
        return report.to_dict()

    # -- operations ------------------------------------------------------------------------

    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("bridge not started: call start() first")
        return self.engine

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once all triggers so far are processed and no push is queued or in flight."""
        return self._engine().wait_idle(timeout)

    def wake(self, product_ids: Sequence[int] = ()) -> None:
        """Look at the change feed now (and at these products)."""
        self._engine().wake(product_ids)

    def resync(
        self,
        skus: Sequence[str] | None = None,
        channels: Sequence[str] | None = None,
        force: bool = False,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
        audit: bool = False,
        wait_s: float | None = None,
    ) -> ResyncReport:
        """Recompute (all listings, or `skus`) and push what differs; see Engine.resync.

        Without the live loop (a one-shot CLI resync) the sync statuses are written to the
        ERP before this returns: nobody else would write them."""
        engine = self._engine()
        report = engine.resync(
            skus, channels, force=force, dry_run=dry_run, progress=progress, audit=audit, wait_s=wait_s
        )
        if not self._live and not dry_run and not engine.flush_status(STATUS_FLUSH_S):
            report.errors.append("sync status not written to the ERP (unreachable); the next run writes it")
        return report

    def retry_now(self) -> int:
        """Run the retry queue's due entries now (the scheduler does it every retry_interval_s)."""
        return self._engine().retry_due()

    def explain(self, sku: str, channel: str | None = None) -> list[dict[str, Any]]:
        """How each listing of `sku` gets its number: live from the ERP, else the stored one."""
        try:
            items = self._engine().explain(sku, channel)
        except Exception as exc:
            log.warning("explain %s: ERP unreachable (%s); showing the stored explanation", sku, exc)
            items = []
        assert self.store is not None
        return items or stored_explanations(self.store, sku, channel)

    def status(self) -> dict[str, Any]:
        assert self.store is not None, "bridge not started"
        report = status_report(self.store, key_warn_days=self.config.erp.key_expiry_warn_days)
        if self.key_watch is not None:
            report["erp_key"] = self.key_watch.report()
        if self.engine is not None:
            for code, worker in self.engine.workers().items():
                if code in report["channels"]:
                    report["channels"][code]["in_flight"] = worker.backlog()
        return report

    def timeline(self, sku: str, since: float | None = None) -> list[dict[str, Any]]:
        assert self.store is not None, "bridge not started"
        return timeline_report(self.store, sku, since)

    def add_listener(self, listener: Callable[[PushRecord], None]) -> None:
        """Call `listener(outcome)` after every durable push outcome (live output, demo)."""
        self._engine().add_listener(listener)
