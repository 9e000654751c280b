# Copyright 2025 Marketplace Stock Sync contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

# Quants in these locations are the stock a channel can be offered.
STOCK_USAGES = ("internal", "transit")

# Context key set while one of the flows below runs: they record their own, more telling
# reason, so the quant-level hooks (stock_quant.py) stay silent inside them.
FLOW_CONTEXT = "marketplace_stock_flow"


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        done = super(StockMove, self._marketplace_flow())._action_done(
            cancel_backorder=cancel_backorder
        ).with_env(self.env)
        moves = done.filtered(lambda m: m.state == "done")._marketplace_relevant()
        self.env["marketplace.stock.event"]._record(
            (move.product_id.id, move._marketplace_done_reason(), move.id) for move in moves
        )
        return done

    def _action_assign(self, force_qty=False):
        before = {move.id: (move.state, move.quantity) for move in self}
        res = super(StockMove, self._marketplace_flow())._action_assign(force_qty=force_qty)
        # Only moves whose reservation really changed: _action_assign is called often
        # (scheduler, every picking open) and usually finds nothing new to reserve.
        changed = self.exists().filtered(
            lambda m: before.get(m.id) != (m.state, m.quantity)
            and m.location_id.usage in STOCK_USAGES
        )
        self._marketplace_queue(changed._marketplace_relevant(), "reservation")
        return res

    def _do_unreserve(self):
        moves = self.filtered(
            lambda m: m.state not in ("done", "cancel") and m.location_id.usage in STOCK_USAGES
        )._marketplace_relevant()
        res = super(StockMove, self._marketplace_flow())._do_unreserve()
        self._marketplace_queue(moves, "reservation")
        return res

    def _action_cancel(self):
        moves = self.filtered(lambda m: m.state not in ("done", "cancel"))
        res = super(StockMove, self._marketplace_flow())._action_cancel()
        cancelled = moves.exists().filtered(lambda m: m.state == "cancel")
        self._marketplace_queue(cancelled._marketplace_relevant(), "cancel")
        return res

    def _marketplace_flow(self):
        """These moves in a context where quant-level hooks leave the recording to us."""
        return self.with_context(**{FLOW_CONTEXT: True})

    def _marketplace_relevant(self):
        """Moves of storable products that touch stock a channel may count."""
        return self.filtered(
            lambda m: m.product_id.is_storable
            and (
                m.location_id.usage in STOCK_USAGES or m.location_dest_id.usage in STOCK_USAGES
            )
        )

    def _marketplace_done_reason(self):
        self.ensure_one()
        if self.is_inventory:
            return "adjustment"
        if self.origin_returned_move_id:
            return "return"
        if (
            self.location_id.usage not in STOCK_USAGES
            and self.location_dest_id.usage in STOCK_USAGES
        ):
            return "receipt"
        return "move_done"

    def _marketplace_queue(self, moves, reason):
        if moves:
            self.env["marketplace.stock.event"]._record(
                (move.product_id.id, reason, move.id) for move in moves
            )
