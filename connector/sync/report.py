"""What a flush or a resync decided, in a shape the CLI prints and `--json` dumps.

Usage::

    report = engine.resync(dry_run=True)
    for change in report.changes: print(change.channel_code, change.old_qty, "->", change.new_qty)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Change:
    """One listing whose published value differs from what its marketplace last got."""

    listing_id: int
    channel_code: str
    marketplace: str
    sku: str
    channel_sku: str
    old_qty: int | None
    old_action: str | None
    new_qty: int
    action: str
    reason: str  # first / changed / forced / retry / drift
    oversold: bool = False
    result: str | None = None  # after the push: synced / deactivated / error / locked / pending
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ResyncReport:
    """The outcome of one resync (or of the first full sync at start-up)."""

    dry_run: bool = False
    forced: bool = False
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    products: int = 0
    checked: int = 0  # listings computed
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)
    drifted: list[int] = field(default_factory=list)  # listing ids corrected by the drift audit
    oversold: list[str] = field(default_factory=list)  # SKUs with negative free stock
    unknown_skus: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    complete: bool = True  # False when outcomes were still pending at the wait deadline

    @property
    def ok(self) -> bool:
        return not self.errors and not self.unknown_skus and self.complete

    def failed_changes(self) -> list[Change]:
        return [c for c in self.changes if c.result in ("error", "locked")]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResyncReport:
        """The inverse of `to_dict` (a report that came over HTTP from a running bridge)."""
        return cls(
            dry_run=bool(data.get("dry_run")),
            forced=bool(data.get("forced")),
            started_at=float(data.get("started_at") or 0.0),
            finished_at=data.get("finished_at"),
            products=int(data.get("products") or 0),
            checked=int(data.get("checked") or 0),
            unchanged=int(data.get("unchanged") or 0),
            changes=[Change(**c) for c in data.get("changes") or []],
            drifted=list(data.get("drifted") or []),
            oversold=list(data.get("oversold") or []),
            unknown_skus=list(data.get("unknown_skus") or []),
            errors=list(data.get("errors") or []),
            complete=bool(data.get("complete", True)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "forced": self.forced,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "products": self.products,
            "checked": self.checked,
            "unchanged": self.unchanged,
            "changed": len(self.changes),
            "changes": [c.to_dict() for c in self.changes],
            "drifted": self.drifted,
            "oversold": self.oversold,
            "unknown_skus": self.unknown_skus,
            "errors": self.errors,
            "complete": self.complete,
            "ok": self.ok,
        }
