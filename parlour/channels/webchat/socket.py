"""The visitor's WebSocket, ``/widget/v1/ws?token=<visitor token>``.

It hears the events that concern the visitor (routed by parlour/channels/webchat/fanout.py:
their thread, their contact) and passes on only what is theirs, re-read and shaped as a
VisitorMessage (never the agents' shape, never another contact's message, never another
channel's). Missed
messages are not replayed here: after a reconnect the widget asks
``GET /widget/v1/messages?after=<last id seen>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from parlour.channels.webchat import chat
from parlour.channels.webchat.channel import NAME as WEBCHAT
from parlour.channels.webchat.fanout import ENDED, Listener
from parlour.channels.webchat.limits import Limiter
from parlour.channels.webchat.models import Visitor
from parlour.channels.webchat.widget_api import Caller, limits_of, load_caller
from parlour.db.tx import transaction
from parlour.errors import ParlourError
from parlour.realtime.events import Event
from parlour.runtime import Runtime, runtime_of

router = APIRouter(tags=["widget"])

CLOSE_BAD_TOKEN = 4401
CLOSE_REFUSED = 4403
CLOSE_FLOOD = 4429
CLOSE_MALFORMED = 1008
CLOSE_TRY_AGAIN = 1013
PING_SECONDS = 25.0
MAX_FRAME = 1024
_SEEN_KEPT = 1000


@router.websocket("/widget/v1/ws")
async def visitor_socket(ws: WebSocket, token: str = "") -> None:
    rt = runtime_of(ws)
    host = ws.client.host if ws.client else "unknown"
    # Accepted first, so the widget sees why it is turned away (a close before accepting
    # reaches a browser as a bare failed handshake).
    await ws.accept()
    if limits_of(rt).requests.wait_for(f"ip:{host}"):
        await ws.close(code=CLOSE_FLOOD)
        return
    try:
        async with transaction(rt.db, rt.hub, write=False) as tx:
            caller = await load_caller(tx, rt, token, ws.headers.get("origin"))
    except ParlourError as exc:
        code = CLOSE_BAD_TOKEN if exc.status == 401 else CLOSE_REFUSED
        await ws.close(code=code)
        return
    fanout = rt.visitor_fanout
    try:
        async with fanout.listen(rt.hub, caller.widget.account_id, caller.visitor.id) as heard:
            await _Pump(ws, rt, caller, limits_of(rt).frames, heard).run()
    except WebSocketDisconnect:
        return


class _Pump:
    def __init__(
        self, ws: WebSocket, rt: Runtime, caller: Caller, frames: Limiter, heard: Listener
    ) -> None:
        self.ws = ws
        self.heard = heard
        self.rt = rt
        self.caller = caller
        self.frames = frames
        self.thread_id: int | None = None
        self.contact_id: int | None = None
        self.sent: set[int] = set()
        s = rt.settings
        self.shaper = chat.Shaper(public_url=s.public_url, secret_key=s.secret_key)

    async def _thread(self) -> int | None:
        if self.thread_id is None:
            async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
                visitor = await tx.session.get(Visitor, self.caller.visitor.id)
                conv = await chat.thread_of(tx, visitor) if visitor else None
                self.thread_id = conv.id if conv else None
                self.contact_id = visitor.contact_id if visitor else None
            self.heard.follow(thread_id=self.thread_id, contact_id=self.contact_id)
        return self.thread_id

    async def run(self) -> None:
        thread = await self._thread()
        unread = 0
        if thread is not None:
            async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
                unread = await chat.unread(tx, thread)
        await self.ws.send_json({"type": "hello", "unread": unread})
        reader = asyncio.create_task(self._read())
        try:
            while not reader.done():
                getter = asyncio.ensure_future(self.heard.queue.get())
                done, _ = await asyncio.wait(
                    {getter, reader}, timeout=PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    item = getter.result()
                    if item is ENDED:
                        # Fell behind, or the hub lost other processes' events: the
                        # widget reconnects and catches up from GET /widget/v1/messages.
                        await self.ws.close(code=CLOSE_TRY_AGAIN)
                        return
                    await self._forward(item)
                else:
                    getter.cancel()
                    if reader not in done:
                        await self.ws.send_json({"type": "ping"})
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await reader

    async def _read(self) -> None:
        """The client may only say it is typing; anything else is malformed."""
        while True:
            text = await self.ws.receive_text()
            if self.frames.wait_for(f"visitor:{self.caller.visitor.id}"):
                await self.ws.close(code=CLOSE_FLOOD)
                return
            try:
                frame = json.loads(text) if len(text) <= MAX_FRAME else None
            except ValueError:
                frame = None
            if not isinstance(frame, dict) or frame.get("type") not in ("typing", "ping"):
                await self.ws.close(code=CLOSE_MALFORMED)
                return
            if frame["type"] == "typing":
                thread = await self._thread()
                if thread is not None:
                    await self.rt.hub.publish(
                        Event(
                            type="typing",
                            account_id=self.caller.widget.account_id,
                            data={
                                "conversation_id": thread,
                                "from": "visitor",
                                "channel": WEBCHAT,
                            },
                        )
                    )

    async def _still_valid(self) -> bool:
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            visitor = await tx.session.get(Visitor, self.caller.visitor.id)
        return (
            visitor is not None
            and visitor.revoked_at is None
            and visitor.nonce == self.caller.visitor.nonce
        )

    async def _forward(self, event: Event) -> None:
        data = event.data
        if event.type == "contact.deleted":
            if self.contact_id is None or data.get("contact_id") != self.contact_id:
                return
            # A merge (the visitor identified on another tab) or a deletion: the token
            # this socket opened with may be spent; if so the widget must start afresh.
            if not await self._still_valid():
                await self.ws.close(code=CLOSE_BAD_TOKEN)
                raise WebSocketDisconnect(CLOSE_BAD_TOKEN)
            self.thread_id = None
            self.heard.follow(thread_id=None, contact_id=None)
            return
        if event.type == "typing":
            if data.get("from") == "user" and data.get("conversation_id") == self.thread_id:
                await self.ws.send_json({"type": "typing", "name": str(data.get("name") or "")})
            return
        message = data.get("message")
        if event.type not in ("message.created", "message.updated") or not isinstance(
            message, dict
        ):
            return
        if message.get("channel") != WEBCHAT:
            return
        if self.thread_id is None and not (
            message.get("direction") == "in"
            and message.get("recipient_id") == self.caller.visitor.id
        ):
            # No thread yet: only this visitor's own first message can start one. Idle
            # visitors far outnumber agents; they must not each query on every message.
            return
        thread = await self._thread()
        if thread is None or message.get("conversation_id") != thread:
            return
        message_id = int(message["id"])
        if event.type == "message.updated":
            if message.get("status") == "read" and message.get("direction") == "out":
                await self.ws.send_json({"type": "read", "up_to": message_id})
            return
        if message_id in self.sent:
            return
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            visitor = await tx.session.get(Visitor, self.caller.visitor.id)
            shaped = (
                await chat.one_message(tx, visitor, self.shaper, message_id) if visitor else None
            )
        if shaped is None:
            return
        if len(self.sent) > _SEEN_KEPT:
            self.sent.clear()
        self.sent.add(message_id)
        await self.ws.send_json({"type": "message", "message": shaped.model_dump(mode="json")})
