"""The agents' WebSocket: live events for the user's account, with catch-up on reconnect.

Protocol: the server first sends ``{"type": "hello", "seq": N}`` (the account's latest
event), then, if the client passed ``?since=S``, every stored event with S < seq <= N, then
live events as they are committed. ``{"type": "resync"}`` means the client was away too
long for a replay and should refetch what it shows. ``{"type": "ping"}`` keeps proxies
from closing an idle connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select

from parlour.accounts.deps import SESSION_COOKIE, authenticate
from parlour.accounts.models import Account
from parlour.db.tx import transaction
from parlour.errors import Unauthorized
from parlour.realtime.events import account_topic
from parlour.realtime.hub import Subscription
from parlour.realtime.models import EventRecord
from parlour.runtime import runtime_of

router = APIRouter(tags=["realtime"])

REPLAY_LIMIT = 500
PING_SECONDS = 25.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_FELL_BEHIND = 4000


def _origin_ok(ws: WebSocket, public_url: str) -> bool:
    """Cookie-authenticated sockets must come from our own pages (no cross-site hijack)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser
    host = urlsplit(origin).netloc
    return host in {ws.headers.get("host", ""), urlsplit(public_url).netloc}


@router.websocket("/ws")
async def events_socket(ws: WebSocket, since: int | None = None, token: str | None = None) -> None:
    rt = runtime_of(ws)
    cookie = ws.cookies.get(SESSION_COOKIE)
    async with transaction(rt.db, rt.hub, write=False) as tx:
        try:
            user, _ = await authenticate(
                tx, authorization=f"Bearer {token}" if token else None, cookie=cookie
            )
        except Unauthorized:
            await ws.close(code=CLOSE_UNAUTHORIZED)
            return
        account_id = user.account_id
    if not token and not _origin_ok(ws, rt.settings.public_url):
        await ws.close(code=CLOSE_UNAUTHORIZED)
        return
    await ws.accept()
    # Subscribe before reading the backlog, so no event can fall between the two.
    async with rt.hub.subscribe(account_topic(account_id)) as sub:
        async with transaction(rt.db, rt.hub, write=False) as tx:
            latest = int(
                await tx.session.scalar(select(Account.event_seq).where(Account.id == account_id))
                or 0
            )
            backlog: list[EventRecord] = []
            resync = False
            if since is not None and since > latest:
                resync = True  # the client knows a future: the database was replaced
            elif since is not None and since < latest:
                backlog = list(
                    await tx.session.scalars(
                        select(EventRecord)
                        .where(
                            EventRecord.account_id == account_id,
                            EventRecord.seq > since,
                            EventRecord.seq <= latest,
                        )
                        .order_by(EventRecord.seq)
                        .limit(REPLAY_LIMIT + 1)
                    )
                )
                resync = len(backlog) > REPLAY_LIMIT or (
                    bool(backlog) and backlog[0].seq != since + 1
                )
        try:
            await ws.send_json({"type": "hello", "seq": latest})
            if resync:
                await ws.send_json({"type": "resync", "seq": latest})
            else:
                for rec in backlog:
                    await ws.send_text(
                        json.dumps(
                            {
                                "type": rec.type,
                                "account_id": rec.account_id,
                                "seq": rec.seq,
                                "data": rec.data,
                            }
                        )
                    )
            await _pump(ws, sub, replayed_up_to=latest)
        except WebSocketDisconnect:
            return


async def _pump(ws: WebSocket, sub: Subscription, *, replayed_up_to: int) -> None:
    async def drain_client() -> None:
        # The client says nothing we need; reading notices when it goes away.
        while True:
            await ws.receive_text()

    reader = asyncio.create_task(drain_client())
    try:
        while not reader.done():
            getter = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait(
                {getter, reader}, timeout=PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                if reader in done:
                    break
                if sub.overflowed:
                    await ws.close(code=CLOSE_FELL_BEHIND)
                    return
                await ws.send_json({"type": "ping"})
                continue
            event = getter.result()
            if event.seq and event.seq <= replayed_up_to:
                continue  # already sent from the backlog
            await ws.send_text(event.model_dump_json())
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
            await reader
