"""The last pushed number and action per listing as three arrays, and the vectorised compare
of a ResultTable against it: which results changed. Pure; the engine (connector.sync)
decides what else makes a listing due (forced, unsettled, repair) and ANDs its own masks.

The rule is the engine's: unchanged = same quantity and same action, or the baseline's
action was a switch back on (REACTIVATE / RELIST) and the new one is SET with the same
number. A listing without a baseline row has changed (it was never pushed).

Usage::

    base = Baseline.of(previous_table)          # or Baseline(ids, qty, action codes) from state
    due = changed_rows(table, base)             # result indexes, ascending
    for i in due.tolist(): push(table[i])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from connector.stock.columns import Int64s, ids_array
from connector.stock.model import PushAction
from connector.stock.table import ACTION_CODE, ACTIONS, ResultTable

_SET = ACTION_CODE[PushAction.SET]
_SWITCHED_BACK_ON = np.array(
    [ACTION_CODE[PushAction.REACTIVATE], ACTION_CODE[PushAction.RELIST]], dtype=np.int8
)


@dataclass(slots=True, eq=False)
class Baseline:
    """listing_id[i] was last pushed as quantity[i] with action code action[i] (ACTIONS).
    Treat as read-only: the sorted index is made once, on first use."""

    listing_id: Int64s
    quantity: Int64s
    action: np.ndarray  # int8 codes into connector.stock.table.ACTIONS
    _index: tuple[Int64s, Int64s] | None = field(default=None, init=False, repr=False)

    def index(self) -> tuple[Int64s, Int64s]:
        """(order, listing ids in that order): sorted by id, for searchsorted."""
        if self._index is None:
            order = np.argsort(self.listing_id, kind="stable")
            self._index = (order, self.listing_id[order])
        return self._index

    def rows_of(self, ids: Int64s) -> tuple[Int64s, np.ndarray]:
        """(row in the baseline, found) for each id; row is meaningless where not found."""
        order, sorted_ids = self.index()
        if len(sorted_ids) == 0:
            return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        pos = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
        return order[pos], sorted_ids[pos] == ids

    @classmethod
    def of(cls, table: ResultTable) -> Baseline:
        return cls(table.listing_ids, table.quantity.copy(), table.actions.copy())

    @classmethod
    def of_actions(cls, actions: dict[int, PushAction]) -> Baseline:
        """A baseline of actions only (quantities unknown: -1), e.g. for previous_actions."""
        ids = np.fromiter(actions, dtype=np.int64, count=len(actions))
        codes = np.fromiter((ACTION_CODE[PushAction(a)] for a in actions.values()), dtype=np.int8)
        return cls(ids, np.full(len(ids), -1, dtype=np.int64), codes)

    @property
    def nbytes(self) -> int:
        return self.listing_id.nbytes + self.quantity.nbytes + self.action.nbytes

    def ids_with(self, action: PushAction) -> Int64s:
        """Sorted ids of the listings whose last action was `action`."""
        return ids_array(self.listing_id[self.action == ACTION_CODE[action]])

    def actions_of(self, ids: Iterable[int]) -> dict[int, PushAction]:
        """listing id -> last action, for those of `ids` that have a baseline row."""
        wanted = ids_array(ids)
        at, found = self.rows_of(wanted)
        return {
            int(i): ACTIONS[int(self.action[r])]
            for i, r in zip(wanted[found].tolist(), at[found].tolist())
        }


def changed_rows(table: ResultTable, baseline: Baseline) -> Int64s:
    """Indexes of the results whose number or action differs from the baseline's."""
    ids = table.listing_ids
    if len(baseline.listing_id) == 0:
        return np.arange(len(ids), dtype=np.int64)
    at, known = baseline.rows_of(ids)
    old_qty, old_action = baseline.quantity[at], baseline.action[at]
    same_qty = known & (old_qty == table.quantity)
    same = same_qty & (
        (old_action == table.actions)
        | (np.isin(old_action, _SWITCHED_BACK_ON) & (table.actions == _SET))
    )
    return np.flatnonzero(~same).astype(np.int64)
