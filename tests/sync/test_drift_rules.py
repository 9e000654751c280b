"""When the drift audit says a marketplace changed a listing behind our back (pure rule)."""

from __future__ import annotations

import pytest

from connector.stock.model import PushAction
from connector.sync.audit import AuditItem, drifted


def item(qty: int, action: PushAction) -> AuditItem:
    return AuditItem(1, 9, "MUG-1", None, qty, action)


@pytest.mark.parametrize(
    ("pushed", "found", "active", "quantity", "drift"),
    [
        (item(5, PushAction.SET), True, True, 5, False),
        (item(5, PushAction.SET), True, True, 4, True),
        (item(5, PushAction.SET), True, None, None, False),  # no number read: no verdict
        (item(5, PushAction.SET), False, None, 0, False),  # not found there: not drift
        (item(0, PushAction.DEACTIVATE), True, False, 3, False),  # off with a number: still off
        (item(0, PushAction.DEACTIVATE), True, True, 3, True),  # switched back on and sellable
        (item(0, PushAction.END), True, True, 0, False),  # on but nothing to sell
        (item(4, PushAction.REACTIVATE), True, True, 4, False),
    ],
)
def test_drifted(pushed: AuditItem, found: bool, active: bool | None, quantity: int | None, drift: bool) -> None:
    assert drifted(pushed, found, active, quantity) is drift
