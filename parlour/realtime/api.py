"""The agents' WebSocket: live events for the user's account, with catch-up on reconnect.

Protocol: the server first sends ``{"type": "hello", "seq": N}`` (the account's latest
event), then, if the client passed ``?since=S``, every stored event with S < seq <= N, then
live events as they are committed, in sequence order. ``{"type": "resync"}`` means the
client was away too long for a replay and should refetch what it shows.
``{"type": "ping"}`` keeps proxies from closing an idle connection. A socket whose login
has ended is closed with 4401; one opened with a ``since`` that is no event number (a
whole number from 0) with 4400.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from parlour.accounts.deps import SESSION_COOKIE, authenticate
from parlour.db.tx import transaction
from parlour.errors import Unauthorized
from parlour.realtime import service
from parlour.realtime.events import Event, account_topic
from parlour.realtime.hub import CatchUp, Subscription
from parlour.realtime.order import InOrder
from parlour.runtime import runtime_of

router = APIRouter(tags=["realtime"])

REPLAY_LIMIT = 500
PING_SECONDS = 25.0
# How long an event that arrived ahead of its predecessors waits for them before they are
# read from the database (see parlour.realtime.order): publications overtake each other by
# milliseconds.
GAP_WAIT_SECONDS = 0.25
MAX_SEQ = 2**62
# How often an open socket checks that its login still holds: a session ended (a password
# changed elsewhere, a logout), a token revoked or a user deactivated closes it within this.
RECHECK_SECONDS = 30.0
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FELL_BEHIND = 4000


def _origin_ok(ws: WebSocket, public_url: str) -> bool:
    """Cookie-authenticated sockets must come from our own pages (no cross-site hijack)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser
    host = urlsplit(origin).netloc
    return host in {ws.headers.get("host", ""), urlsplit(public_url).netloc}


def _event_number(value: str | None) -> int | None:
    """``since`` as an event number; ValueError for anything else."""
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) > MAX_SEQ:
        raise ValueError(value)
    return int(value)


@router.websocket("/ws")
async def events_socket(ws: WebSocket, since: str | None = None, token: str | None = None) -> None:
    # Read here rather than typed as an int: FastAPI would drop a socket whose parameter it
    # cannot read before accepting it, and the client would learn nothing of why.
    try:
        since_seq = _event_number(since)
    except ValueError:
        await ws.accept()
        await ws.close(code=CLOSE_BAD_REQUEST, reason="since: an event number, from 0")
        return
    rt = runtime_of(ws)
    cookie = ws.cookies.get(SESSION_COOKIE)
    authorization = f"Bearer {token}" if token else None
    async with transaction(rt.db, rt.hub, write=False) as tx:
        try:
            user, _ = await authenticate(tx, authorization=authorization, cookie=cookie)
        except Unauthorized:
            await ws.close(code=CLOSE_UNAUTHORIZED)
            return
        account_id = user.account_id

    async def still_logged_in() -> bool:
        try:
            async with transaction(rt.db, rt.hub, write=False) as tx:
                await authenticate(tx, authorization=authorization, cookie=cookie)
        except Unauthorized:
            return False
        except Exception:
            return True  # the database away: not a reason to drop a socket
        return True

    if not token and not _origin_ok(ws, rt.settings.public_url):
        await ws.close(code=CLOSE_UNAUTHORIZED)
        return
    await ws.accept()
    # Subscribe before reading the backlog, so no event can fall between the two.
    async with rt.presence.agent(account_id), rt.hub.subscribe(account_topic(account_id)) as sub:
        async with transaction(rt.db, rt.hub, write=False) as tx:
            latest = await service.latest_seq(tx, account_id=account_id)
            backlog: list[Event] = []
            resync = False
            if since_seq is not None and since_seq > latest:
                resync = True  # the client knows a future: the database was replaced
            elif since_seq is not None and since_seq < latest:
                backlog = await service.events_between(
                    tx,
                    account_id=account_id,
                    first=since_seq + 1,
                    last=latest,
                    limit=REPLAY_LIMIT + 1,
                )
                resync = len(backlog) > REPLAY_LIMIT or (
                    bool(backlog) and backlog[0].seq != since_seq + 1
                )

        async def read_gap(first: int, last: int) -> list[Event]:
            async with transaction(rt.db, rt.hub, write=False) as tx:
                return await service.events_between(
                    tx, account_id=account_id, first=first, last=last, limit=REPLAY_LIMIT
                )

        try:
            await ws.send_json({"type": "hello", "seq": latest})
            if resync:
                await ws.send_json({"type": "resync", "seq": latest})
            else:
                for event in backlog:
                    await ws.send_text(event.model_dump_json())
            await _pump(ws, sub, InOrder(after=latest), read_gap, still_logged_in)
        except WebSocketDisconnect:
            return


async def _pump(
    ws: WebSocket,
    sub: Subscription,
    order: InOrder,
    read_gap: Callable[[int, int], Awaitable[list[Event]]],
    still_logged_in: Callable[[], Awaitable[bool]],
) -> None:
    async def drain_client() -> None:
        # The client says nothing we need; reading notices when it goes away.
        while True:
            await ws.receive_text()

    reader = asyncio.create_task(drain_client())
    loop = asyncio.get_running_loop()
    gap_deadline: float | None = None
    recheck_at = loop.time() + RECHECK_SECONDS
    try:
        while not reader.done():
            if loop.time() >= recheck_at:
                if not await still_logged_in():
                    await ws.close(code=CLOSE_UNAUTHORIZED)
                    return
                recheck_at = loop.time() + RECHECK_SECONDS
            timeout = min(PING_SECONDS, max(0.0, recheck_at - loop.time()))
            if gap_deadline is not None:
                timeout = min(timeout, max(0.0, gap_deadline - loop.time()))
            getter = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait(
                {getter, reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if getter in done:
                item = getter.result()
                if isinstance(item, CatchUp):
                    # The hub was cut off from other processes: what they committed
                    # meanwhile is in the events table, and only there.
                    missed = await read_gap(order.next_seq, MAX_SEQ)
                    if len(missed) >= REPLAY_LIMIT:
                        await ws.close(code=CLOSE_FELL_BEHIND)
                        return
                    ready = [e for event in missed for e in order.push(event)]
                else:
                    ready = order.push(item)
            else:
                getter.cancel()
                if reader in done:
                    break
                if sub.overflowed:
                    await ws.close(code=CLOSE_FELL_BEHIND)
                    return
                gap = order.gap
                if gap is None:
                    await ws.send_json({"type": "ping"})
                    continue
                # The events before the one held back were committed before it: they are
                # in the database even if their publication went astray.
                first, last = gap
                if last - first >= REPLAY_LIMIT:
                    # Too many to send: the client reconnects and refetches what it shows.
                    await ws.close(code=CLOSE_FELL_BEHIND)
                    return
                ready = order.fill(await read_gap(first, last))
            for event in ready:
                await ws.send_text(event.model_dump_json())
            if order.gap is None:
                gap_deadline = None
            elif gap_deadline is None:
                gap_deadline = loop.time() + GAP_WAIT_SECONDS
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
            await reader
