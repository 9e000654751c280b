"""Rule 2 in its own unit: a ticket is done once sealed and every listing settled, and the
cursor tracker stores a position only when it and every earlier ticket are done."""

from __future__ import annotations

import threading

from connector.sync.tickets import CursorTracker, Ticket


def test_a_ticket_is_done_only_sealed_and_settled() -> None:
    done: list[Ticket] = []
    ticket = Ticket(5, on_done=done.append)
    ticket.add(2)
    ticket.settle()
    ticket.settle()
    assert not ticket.done  # not sealed: more listings may come
    ticket.seal()
    assert ticket.done and done == [ticket]
    ticket.settle()  # a late settle does not call back twice
    assert done == [ticket]


def test_an_empty_ticket_is_done_when_sealed() -> None:
    ticket = Ticket()
    assert not ticket.wait(0.01)
    ticket.seal()
    assert ticket.wait(0.01)


def test_the_cursor_waits_for_every_earlier_ticket() -> None:
    stored: list[int] = []
    tracker = CursorTracker(stored.append)
    first, second, third = tracker.open(1), tracker.open(2), tracker.open(3)
    for t in (first, second, third):
        t.add()
        t.seal()
    second.settle()
    third.settle()
    assert stored == [] and tracker.pending() == 3  # the oldest is still out
    first.settle()
    assert stored == [3] and tracker.stored == 3 and tracker.pending() == 0  # one write, the newest


def test_a_discarded_ticket_does_not_hold_the_cursor_nor_move_it() -> None:
    stored: list[int] = []
    tracker = CursorTracker(stored.append)
    failed, later = tracker.open(1), tracker.open(2)
    later.seal()
    assert stored == []
    tracker.discard(failed)  # its flush failed: the same entries are read again
    assert stored == [2] and tracker.pending() == 0
    tracker.discard(failed)  # twice is harmless
    assert stored == [2]


def test_tickets_without_position_move_nothing() -> None:
    stored: list[object] = []
    tracker = CursorTracker(stored.append)
    tracker.open(None).seal()
    assert stored == [] and tracker.pending() == 0


def test_settles_from_many_threads_store_positions_in_order() -> None:
    stored: list[int] = []
    tracker = CursorTracker(stored.append)
    tickets = [tracker.open(i) for i in range(50)]
    for t in tickets:
        t.add(4)
        t.seal()
    threads = [threading.Thread(target=lambda t=t: [t.settle() for _ in range(4)]) for t in reversed(tickets)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(5)
    assert stored == sorted(stored) and stored[-1] == 49 and tracker.pending() == 0
