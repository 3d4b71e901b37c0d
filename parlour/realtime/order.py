"""Putting an account's live events back in sequence order for one socket.

Events are numbered in commit order, but they reach a socket in the order they were
published: two transactions committing at once can publish the later number first, and on
Redis events of several processes interleave. The web app ignores an event numbered at or
below one it has applied (a replay after reconnecting repeats some), so an event overtaken
this way would be lost until the next refresh. Each socket therefore holds back an event
that arrives early until the ones before it arrive; if they have not come soon after, they
are read from the events table, where a published event has always been committed.
"""

from __future__ import annotations

from parlour.realtime.events import Event


class InOrder:
    """Releases events with consecutive numbers, starting after ``after``."""

    def __init__(self, after: int) -> None:
        self.next_seq = after + 1
        self._held: dict[int, Event] = {}

    def push(self, event: Event) -> list[Event]:
        """The events now ready to send, in order (none while a gap precedes ``event``)."""
        if not event.seq:
            return [event]  # not numbered (see parlour.realtime.log): nothing to order it by
        if event.seq < self.next_seq:
            return []  # sent already, from the replay or twice published
        self._held[event.seq] = event
        return self._release()

    @property
    def gap(self) -> tuple[int, int] | None:
        """The missing numbers (first, last) before the earliest held event, if any."""
        if not self._held:
            return None
        return self.next_seq, min(self._held) - 1

    def fill(self, events: list[Event]) -> list[Event]:
        """Takes the gap's events as read from the database, and gives up on any number
        still missing (an event pruned or never stored), so a socket never stalls."""
        gap = self.gap
        if gap is None:
            return []
        for event in events:
            if gap[0] <= event.seq <= gap[1]:
                self._held.setdefault(event.seq, event)
        ready = self._release()
        if self._held and self.next_seq < min(self._held):
            self.next_seq = min(self._held)
            ready += self._release()
        return ready

    def _release(self) -> list[Event]:
        ready = []
        while self.next_seq in self._held:
            ready.append(self._held.pop(self.next_seq))
            self.next_seq += 1
        return ready
