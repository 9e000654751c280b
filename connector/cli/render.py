"""How the CLI prints a resync report, a live push line and a progress bar."""

from __future__ import annotations

import time
from typing import TextIO

from connector.state.rows import PushRecord
from connector.sync.report import ResyncReport


def render_report(report: ResyncReport) -> str:
    """The changes of a resync as a table, then one summary line."""
    lines = []
    if report.changes:
        lines.append(
            f"{'channel':<13} {'sku':<18} {'channel sku':<24} {'old':>5}    {'new':<5} {'action':<10} result"
        )
        for c in report.changes:
            old = "-" if c.old_qty is None else str(c.old_qty)
            result = c.result or ("would push" if report.dry_run else "-")
            message = f"  {c.message}" if c.message else ""
            lines.append(
                f"{c.channel_code:<13} {c.sku[:18]:<18} {c.channel_sku[:24]:<24} {old:>5} -> "
                f"{c.new_qty:<5} {c.action:<10} {result}{message}"
            )
    verb = "would change" if report.dry_run else "changed"
    summary = f"{report.checked} listing(s) checked, {len(report.changes)} {verb}, {report.unchanged} unchanged"
    if report.drifted:
        summary += f", {len(report.drifted)} drifted on the marketplace and corrected"
    lines.append(summary)
    for sku in report.oversold:
        lines.append(f"ALERT: {sku} is oversold in the ERP (negative free stock): 0 published everywhere")
    for sku in report.unknown_skus:
        lines.append(f"unknown SKU: {sku}")
    lines.extend(f"error: {e}" for e in report.errors)
    if not report.complete:
        lines.append("some pushes were still in flight when this report was made (see `status`)")
    return "\n".join(lines)


def live_line(o: PushRecord) -> str:
    old = "-" if o.old_qty is None else str(o.old_qty)
    state = "" if o.result == "ok" else f"  [{o.state}] {o.message}"
    return (
        f"{time.strftime('%H:%M:%S')}  {o.meta.channel_code:<12} {o.meta.sku:<18} "
        f"{old:>4} -> {o.quantity:<4} {o.action}{state}"
    )


class Progress:
    """A one-line progress bar on stderr, shown only when a resync takes a while."""

    def __init__(self, out: TextIO, after_s: float = 1.5) -> None:
        self.out = out
        self.started = time.monotonic()
        self.after_s = after_s
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.shown and time.monotonic() - self.started < self.after_s:
            return  # short runs stay quiet
        self.shown = True
        width = 30
        filled = int(width * done / total) if total else width
        self.out.write(f"\rresync [{'#' * filled}{'.' * (width - filled)}] {done}/{total} products")
        if done >= total:
            self.out.write("\n")
        self.out.flush()

