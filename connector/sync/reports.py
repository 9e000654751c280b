"""Read-only reports from the state file alone: `status`, `timeline`, stored `explain`.

They work while `run` is running in another process (WAL readers never block the writer)
and while the ERP or a marketplace is down, because they touch nothing but the file.

Usage::

    store = StateStore.open(path, read_only=True)   # connector.state.sqlite
    print(render_status(status_report(store)))
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

from connector.marketplaces.base import ACCEPTED_NOT_APPLIED, HELD_UNTIL
from connector.state.rows import iso_time
from connector.state.store import Store

STATE_COLUMNS = ("synced", "deactivated", "pending", "error", "locked")


def status_report(store: Store, now: float | None = None,
                  key_warn_days: float = 14.0) -> dict[str, Any]:
    """Per channel: listings per state, last push, retry backlog; cursor lag; open alerts;
    the ERP API key's expiry as the running bridge last read it (connector.sync.key_expiry)."""
    from connector.sync.delay_recorder import delay_report
    from connector.sync.key_expiry import stored_key_report

    stamp = time.time() if now is None else now
    channels: dict[str, Any] = {}
    for code, entry in sorted(store.channel_summary().items()):
        states = entry["states"]
        channels[code] = {
            "listings": sum(states.values()),
            **{state: states.get(state, 0) for state in STATE_COLUMNS},
            "last_push_at": iso_time(entry["last_push_at"]),
            "retry_backlog": entry["retry_backlog"],
            "next_retry_at": iso_time(entry.get("next_retry_at")),
        }
    cursors = store.cursors()
    cursor: dict[str, Any] = {}
    for name in ("outbox", "write_date"):
        if name in cursors:
            position, updated = cursors[name]
            seen = cursors.get(f"{name}:seen", (None, 0.0))[0]
            cursor = {
                "feed": name,
                "position": _plain(position),
                "updated_at": iso_time(updated),
                "age_s": round(max(0.0, stamp - updated), 1),
                "read_up_to": _plain(seen),
                "lag_events": max(0, seen - position)
                if isinstance(seen, int) and isinstance(position, int)
                else None,
            }
    # Writes the marketplace accepted (queued) but has not been seen applying (issue 17).
    awaiting: dict[str, int] = {}
    for row in store.listings():
        if row.state == "pending" and (row.last_error or "").startswith(ACCEPTED_NOT_APPLIED):
            awaiting[row.channel_code] = awaiting.get(row.channel_code, 0) + 1
    delays = delay_report(store, stamp)
    for code, entry in channels.items():
        entry["accepted_not_applied"] = awaiting.get(code, 0)
        # ERP wake-up (or the bridge's decision) -> the marketplace accepted (issue 13 item 1)
        entry["delay"] = delays.get(code)
    problems = [
        {
            "channel": row.channel_code,
            "sku": row.sku,
            "channel_sku": row.channel_sku,
            "state": row.state,
            "wanted_qty": row.wanted_qty,
            "message": row.last_error,
            "since": iso_time(row.updated_at),
        }
        for row in store.listings()
        if row.state in ("error", "locked")
        # a push held for a marketplace quota, with the time it may go (issue 17)
        or (row.state == "pending" and (row.last_error or "").startswith(HELD_UNTIL))
    ]
    alerts = [
        {"kind": a.kind, "sku": a.sku, "message": a.message, "since": iso_time(a.opened_at)}
        for a in store.alerts()
    ]
    return {
        "state_path": str(store.path),
        "channels": channels,
        "cursor": cursor or None,
        "problems": problems,
        "alerts": alerts,
        "erp_key": stored_key_report(store, key_warn_days),
    }


def _delay_cell(delay: dict[str, Any] | None) -> str:
    """p50/p99 of the last hour in ms, else of the last day (marked 24h), else '-'."""
    if not delay:
        return "-"
    for window, mark in (("hour", ""), ("day", " 24h")):
        w = delay.get(window) or {}
        if w.get("count"):
            return f"{_fmt_ms(w['p50_ms'])}/{_fmt_ms(w['p99_ms'])} ms{mark}"
    return "-"


def _fmt_ms(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def render_status(report: dict[str, Any]) -> str:
    header = (f"{'channel':<14}{'listings':>9}{'ok':>6}{'deact':>7}{'pend':>6}{'error':>7}{'locked':>8}"
              f"{'retry':>7}{'delay p50/p99 1h':>19}  last push")
    lines = [header]
    for code, c in report["channels"].items():
        lines.append(
            f"{code:<14}{c['listings']:>9}{c['synced']:>6}{c['deactivated']:>7}{c['pending']:>6}"
            f"{c['error']:>7}{c['locked']:>8}{c['retry_backlog']:>7}{_delay_cell(c.get('delay')):>19}"
            f"  {c['last_push_at'] or '-'}"
        )
    if not report["channels"]:
        lines.append("(nothing synced yet)")
    awaiting = {c: n for c, e in report["channels"].items() if (n := e.get("accepted_not_applied"))}
    if awaiting:
        lines.append("accepted, not yet applied: " + ", ".join(f"{c} {n}" for c, n in awaiting.items()))
    cursor = report.get("cursor")
    if cursor:
        lag = f", {cursor['lag_events']} event(s) behind" if cursor.get("lag_events") else ""
        lines.append(
            f"cursor: {cursor['feed']} at {cursor['position']} (stored {cursor['age_s']}s ago{lag})"
        )
    for alert in report["alerts"]:
        lines.append(f"ALERT {alert['kind']}: {alert['message']} (since {alert['since']})")
    key = report.get("erp_key")
    if key:
        if key.get("refused_since"):
            lines.append(f"ERROR   Odoo refuses the bridge's credentials since {key['refused_since']}: "
                         "make a new API key and restart the bridge")
        elif key.get("warning"):
            lines.append(f"WARNING {key['warning']}")
        else:
            lines.append(f"erp key: {key['summary']} (checked {key.get('checked_at') or '-'})")
    for p in report["problems"]:
        state = "HELD" if (p["message"] or "").startswith(HELD_UNTIL) else p["state"].upper()
        lines.append(f"{state:<7} {p['channel']} {p['sku']} ({p['channel_sku']}): {p['message']}")
    return "\n".join(lines)


def timeline_report(store: Store, sku: str, since: float | None = None) -> list[dict[str, Any]]:
    """Every journaled push of `sku` (ERP SKU or channel SKU), oldest first."""
    return [row.to_dict() for row in store.journal(sku=sku, since=since, limit=10_000)]


def render_timeline(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no pushes journaled for this SKU)"
    lines = []
    for r in rows:
        old = "-" if r["old"] is None else r["old"]
        events = f" events {','.join(map(str, r['events'][:5]))}" if r["events"] else ""
        message = f"  {r['message']}" if r["message"] and r["result"] != "ok" else ""
        lines.append(
            f"{r['at']}  {r['channel']:<12} {r['channel_sku']:<22} {old:>4} -> {r['new']:<4} "
            f"{r['action']:<10} {r['result']:<7} {r['trigger']}{events} ({r['duration_ms']} ms){message}"
        )
    return "\n".join(lines)


def stored_explanations(store: Store, sku: str, channel: str | None = None) -> list[dict[str, Any]]:
    """The explanations kept with the last pushes (for `explain` when the ERP is down)."""
    out = []
    for row in store.listings(sku=sku, channel=channel):
        explanation = row.explanation or {}
        out.append(
            {
                "source": f"stored (as of {iso_time(row.updated_at)})",
                "channel": row.channel_code,
                "marketplace": row.marketplace,
                "listing_id": row.listing_id,
                "sku": row.sku,
                "channel_sku": row.channel_sku,
                "quantity": row.wanted_qty,
                "action": row.wanted_action,
                "oversold": False,
                "text": explanation.get("text") or "(no explanation stored)",
                "explanation": explanation or None,
                "last_pushed_qty": row.pushed_qty,
                "state": row.state,
                "last_error": row.last_error,
            }
        )
    return out


def render_explanations(items: list[dict[str, Any]]) -> str:
    blocks = []
    for item in items:
        # accepted vs applied (issue 17): a queued write is not the listing's error
        queued = item["state"] == "pending" and str(item.get("last_error") or "").startswith(ACCEPTED_NOT_APPLIED)
        state = "accepted, not yet applied" if queued else (item["state"] or "new")
        head = (
            f"{item['channel']} {item['channel_sku']} (listing {item['listing_id']}): "
            f"publish {item['quantity']} [{item['action']}]  state {state}, "
            f"last pushed {item['last_pushed_qty'] if item['last_pushed_qty'] is not None else '-'}"
            f"  [{item['source']}]"
        )
        body = "\n".join("  " + line for line in str(item["text"]).splitlines())
        label = "marketplace" if queued else "last error"
        error = f"\n  {label}: {item['last_error']}" if item.get("last_error") else ""
        blocks.append(f"{head}\n{body}{error}")
    return "\n\n".join(blocks)


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")


def parse_since(text: str, now: float | None = None) -> float:
    """'30m', '2h', '1d', '45s' ago, or an ISO date/datetime (local time if no zone)."""
    stamp = time.time() if now is None else now
    found = _RELATIVE.match(text.strip())
    if found:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[found.group(2)]
        return stamp - float(found.group(1)) * unit
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since: expected e.g. 30m, 2h, 1d or 2025-01-31T12:00, got {text!r}") from None
    return parsed.timestamp()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value
