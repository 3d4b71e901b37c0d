"""A socket sends an account's events in sequence order, whatever order they arrive in."""

from __future__ import annotations

from parlour.realtime.events import Event
from parlour.realtime.order import InOrder


def ev(seq: int) -> Event:
    return Event(type="contact.deleted", account_id=1, seq=seq, data={"seq": seq})


def seqs(events: list[Event]) -> list[int]:
    return [e.seq for e in events]


def test_an_early_event_waits_for_the_ones_before_it() -> None:
    order = InOrder(after=10)
    assert seqs(order.push(ev(11))) == [11]
    assert seqs(order.push(ev(13))) == []
    assert order.gap == (12, 12)
    assert seqs(order.push(ev(12))) == [12, 13]
    assert order.gap is None


def test_repeats_and_events_already_replayed_are_dropped() -> None:
    order = InOrder(after=10)
    assert order.push(ev(9)) == [] and order.push(ev(10)) == []
    assert seqs(order.push(ev(11))) == [11]
    assert order.push(ev(11)) == []


def test_a_gap_is_filled_from_the_database_and_a_hole_skipped() -> None:
    order = InOrder(after=0)
    assert order.push(ev(5)) == []
    assert order.gap == (1, 4)
    # 3 is gone from the database (pruned, say): the socket moves past it.
    assert seqs(order.fill([ev(1), ev(2), ev(4)])) == [1, 2, 4, 5]
    assert order.gap is None
    assert seqs(order.push(ev(6))) == [6]


def test_unnumbered_events_pass_straight_through() -> None:
    order = InOrder(after=3)
    assert order.push(ev(6)) == []
    assert seqs(order.push(ev(0))) == [0]
