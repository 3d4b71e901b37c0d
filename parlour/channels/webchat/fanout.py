"""Passing an account's events to its visitors' sockets, each only what is its own.

Visitors far outnumber agents: with every visitor socket subscribed to the account's
topic, one event (an agent's reply, a text on another channel) was put in the queue of
every visitor of the account, and each looked at it. Here a process subscribes to an
account's topic once, while it holds at least one visitor socket of that account, and
routes each event by what it concerns: a thread (messages, an agent typing), a visitor
(their first message, which starts the thread), a contact (deleted or merged away). An
event reaches the sockets it concerns and no other, at a cost that does not grow with the
number of visitors.

The sockets (parlour/channels/webchat/socket.py) still re-read and reshape each message
before sending it: routing only decides who looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from parlour.realtime.events import Event, account_topic
from parlour.realtime.hub import Hub

log = logging.getLogger(__name__)

# A visitor socket this far behind is ended (its widget reconnects and catches up from
# GET /widget/v1/messages) rather than letting memory grow.
QUEUE_LIMIT = 200
# How often a route checks that the hub has not dropped its subscription.
CHECK_SECONDS = 5.0

# What a listener's queue yields when it is ended: the socket closes, the widget reconnects.
ENDED = None


class Listener:
    """One visitor socket's view of the account's events."""

    def __init__(self, route: _Route, visitor_id: int) -> None:
        self._route = route
        self.visitor_id = visitor_id
        self.thread_id: int | None = None
        self.contact_id: int | None = None
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(QUEUE_LIMIT + 1)
        self.ended = False

    def follow(self, *, thread_id: int | None, contact_id: int | None) -> None:
        """What this visitor's socket now listens for: their thread and their contact."""
        self._route.unindex(self)
        self.thread_id, self.contact_id = thread_id, contact_id
        self._route.index(self)

    def put(self, event: Event) -> None:
        if self.ended:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.end()
            return
        self.queue.put_nowait(event)

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(ENDED)


class _Route:
    """One account's subscription on this process, and its listeners by what they hear."""

    def __init__(self, hub: Hub, account_id: int) -> None:
        self.hub = hub
        self.account_id = account_id
        self.listeners: set[Listener] = set()
        self.by_thread: defaultdict[int, set[Listener]] = defaultdict(set)
        self.by_contact: defaultdict[int, set[Listener]] = defaultdict(set)
        self.by_visitor: defaultdict[int, set[Listener]] = defaultdict(set)
        self.subscribed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def index(self, listener: Listener) -> None:
        self.by_visitor[listener.visitor_id].add(listener)
        if listener.thread_id is not None:
            self.by_thread[listener.thread_id].add(listener)
        if listener.contact_id is not None:
            self.by_contact[listener.contact_id].add(listener)

    def unindex(self, listener: Listener) -> None:
        for index, key in (
            (self.by_visitor, listener.visitor_id),
            (self.by_thread, listener.thread_id),
            (self.by_contact, listener.contact_id),
        ):
            if key is None:
                continue
            found = index.get(key)
            if found is not None:
                found.discard(listener)
                if not found:
                    del index[key]

    def concerned(self, event: Event) -> set[Listener]:
        data = event.data
        if event.type == "contact.deleted":
            return set(self.by_contact.get(_int(data.get("contact_id")), ()))
        if event.type == "typing":
            return set(self.by_thread.get(_int(data.get("conversation_id")), ()))
        message = data.get("message")
        if event.type not in ("message.created", "message.updated") or not isinstance(
            message, dict
        ):
            return set()
        found = set(self.by_thread.get(_int(message.get("conversation_id")), ()))
        if message.get("direction") == "in":
            # A visitor's first message starts their thread: they know no thread yet.
            found |= self.by_visitor.get(_int(message.get("recipient_id")), set())
        return found

    async def run(self) -> None:
        while True:
            async with self.hub.subscribe(account_topic(self.account_id)) as sub:
                self.subscribed.set()
                while not sub.overflowed:
                    # asyncio.timeout, not wait_for: cancelled just as the get completed,
                    # Python 3.11's wait_for returns the item and loses the cancellation,
                    # and this task would outlive its last visitor.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(CHECK_SECONDS):
                            item = await sub.queue.get()
                        if isinstance(item, Event):
                            for listener in self.concerned(item):
                                listener.put(item)
                        else:
                            # The hub was cut off from other processes: what they sent
                            # meanwhile reaches a widget only by its catch-up.
                            self._end_all()
            log.warning("visitor events of account %s fell behind", self.account_id)
            self._end_all()

    def _end_all(self) -> None:
        for listener in list(self.listeners):
            listener.end()


class VisitorFanout:
    """This process's routes, one per account with a visitor socket open."""

    def __init__(self) -> None:
        self._routes: dict[int, _Route] = {}

    def sockets(self, account_id: int) -> int:
        route = self._routes.get(account_id)
        return len(route.listeners) if route else 0

    @contextlib.asynccontextmanager
    async def listen(self, hub: Hub, account_id: int, visitor_id: int) -> AsyncIterator[Listener]:
        route = self._routes.get(account_id)
        if route is None:
            route = self._routes[account_id] = _Route(hub, account_id)
            route.task = asyncio.create_task(route.run(), name=f"visitor-fanout-{account_id}")
        listener = Listener(route, visitor_id)
        route.listeners.add(listener)
        route.index(listener)
        try:
            # Listening before the socket says hello: no event falls in between.
            await route.subscribed.wait()
            yield listener
        finally:
            route.unindex(listener)
            route.listeners.discard(listener)
            if not route.listeners and self._routes.get(account_id) is route:
                del self._routes[account_id]
                if route.task is not None:
                    route.task.cancel()
                    # A socket's task being cancelled itself (a server shutting down) ends
                    # here as a socket that closed: nothing after this needs running.
                    with contextlib.suppress(asyncio.CancelledError):
                        await route.task


def _int(value: Any) -> int:
    return value if isinstance(value, int) else -1
