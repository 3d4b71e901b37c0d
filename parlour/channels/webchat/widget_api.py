"""The visitor side of web chat, ``/widget/v1`` (contract: issue 19).

Nothing of the agents' API applies here: no session cookie, no CSRF token, no API
token. A visitor is known by the bearer token their widget keeps (see ``visitors``),
and every request is checked against its widget: it must exist, be enabled, and the
request's ``Origin`` must be one the widget allows. When ``allowed_origins`` is not
empty a request without an ``Origin`` is refused too: browsers always send one on these
cross-site requests, so a missing one is a script outside a browser, which the list is
there to keep out. CORS is answered here, route by route, not by a global middleware
that would open the agents' API to other sites.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, UploadFile
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from parlour.channels.webchat import chat, offline, visitors
from parlour.channels.webchat.channel import NAME as WEBCHAT
from parlour.channels.webchat.limits import WidgetLimits
from parlour.channels.webchat.models import Visitor, Widget
from parlour.contacts.schemas import RawEmail
from parlour.conversations.models import Attachment
from parlour.db.base import utcnow
from parlour.db.deps import TxDep
from parlour.db.tx import Tx
from parlour.errors import Forbidden, NotFound, ParlourError
from parlour.files.api import as_download, blob_response, read_upload
from parlour.openapi import answers
from parlour.realtime.events import Event
from parlour.runtime import Runtime, runtime_of

PREFIX = "/widget/v1"
MAX_BODY = 5000
ALLOW_HEADERS = "Content-Type, Authorization, Idempotency-Key"


class WidgetRoute(APIRoute):
    """Answers every request with CORS headers, its errors too (else the widget could
    not read why it was refused), unless its origin was the reason."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                response = await _render(request, exc)
            _cors(request, response)
            return response

        return route


async def _render(request: Request, exc: Exception) -> Response:
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = (
        request.app.exception_handlers
    )
    for cls in type(exc).__mro__:
        if cls in handlers:
            return await handlers[cls](request, exc)
    raise exc


def _cors(request: Request, response: Response) -> None:
    response.headers["Vary"] = "Origin"
    origin = request.headers.get("origin")
    if origin and not getattr(request.state, "origin_refused", False):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"


router = APIRouter(prefix=PREFIX, tags=["widget"], route_class=WidgetRoute)
# What a header's value can be (visible ASCII and spaces): said in the OpenAPI document, so
# that a client, or a fuzzer, knows; anything else is refused as malformed.
HEADER_TEXT = r"^[ -~]*$"


def origin_allowed(widget: Widget, origin: str | None) -> bool:
    allowed = [o.rstrip("/").lower() for o in widget.allowed_origins or []]
    if not allowed:
        return True
    return origin is not None and origin.rstrip("/").lower() in allowed


def check_widget(widget: Widget, origin: str | None) -> None:
    """Raises what the widget's settings say about this request (see module doc)."""
    if not origin_allowed(widget, origin):
        raise Forbidden("This website may not use this chat widget.", code="origin_not_allowed")
    if not widget.enabled:
        raise Forbidden("This chat widget is switched off.", code="widget_disabled")


def limits_of(rt: Runtime) -> WidgetLimits:
    return rt.widget_limits


@answers({429: "`rate_limited`: too many requests from this address; wait `Retry-After` seconds."})
async def _by_ip(request: Request) -> None:
    # A coroutine, so the limiter's counts change on the event loop only (FastAPI would
    # run a plain function in a worker thread). Behind a proxy every visitor shares its
    # address: set the proxy's forwarded headers (uvicorn --forwarded-allow-ips) so
    # request.client is the visitor.
    host = request.client.host if request.client else "unknown"
    limits_of(runtime_of(request)).requests.take(f"ip:{host}")


router.dependencies.append(Depends(_by_ip))


def _guard(request: Request, widget: Widget) -> None:
    try:
        check_widget(widget, request.headers.get("origin"))
    except ParlourError as exc:
        if exc.code == "origin_not_allowed":
            request.state.origin_refused = True
        raise


@answers({403: "`origin_not_allowed`: this website may not use the widget; `widget_disabled`."})
async def public_widget(public_token: str, request: Request, tx: TxDep) -> Widget:
    widget = await tx.session.scalar(select(Widget).where(Widget.public_token == public_token))
    if widget is None:
        raise NotFound("No such chat widget.", code="unknown_widget")
    _guard(request, widget)
    return widget


@dataclass
class Caller:
    widget: Widget
    visitor: Visitor


async def load_caller(tx: Tx, rt: Runtime, token: str, origin: str | None) -> Caller:
    """The visitor behind a token, checked against their widget (see module doc)."""
    claims = visitors.decode_token(rt.settings.secret_key, token)
    widget = await tx.session.get(Widget, claims.widget_id)
    if widget is None:
        raise visitors.TokenInvalid()
    check_widget(widget, origin)
    visitor = await visitors.visitor_of_token(tx, claims, widget=widget)
    return Caller(widget=widget, visitor=visitor)


@answers(
    {401: "`visitor_token_invalid`: no visitor token, or an invalid or expired one."},
    {403: "`origin_not_allowed`: this website may not use the widget; `widget_disabled`."},
)
async def current_visitor(
    request: Request,
    tx: TxDep,
    authorization: Annotated[str | None, Header(pattern=HEADER_TEXT)] = None,
) -> Caller:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise visitors.TokenInvalid()
    try:
        return await load_caller(
            tx, runtime_of(request), token.strip(), request.headers.get("origin")
        )
    except ParlourError as exc:
        if exc.code == "origin_not_allowed":
            request.state.origin_refused = True
        raise


CallerDep = Annotated[Caller, Depends(current_visitor)]
PublicWidget = Annotated[Widget, Depends(public_widget)]


def _shaper(request: Request) -> chat.Shaper:
    s = runtime_of(request).settings
    return chat.Shaper(public_url=s.public_url, secret_key=s.secret_key)


@router.options("/{rest:path}", include_in_schema=False)
async def preflight(rest: str) -> Response:
    """The actual request is checked; a preflight only says what it may carry."""
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
        },
    )


class WidgetConfigOut(BaseModel):
    name: str
    greeting: str
    color: str
    online: bool
    ask_email: bool
    max_attachment_bytes: int


@router.get("/{public_token}/config")
async def config(widget: PublicWidget, request: Request) -> WidgetConfigOut:
    rt = runtime_of(request)
    online = await offline.is_online(widget, rt)
    return WidgetConfigOut(
        name=widget.name,
        greeting=widget.greeting,
        color=widget.color,
        online=online,
        ask_email=not online,
        max_attachment_bytes=rt.settings.max_upload_bytes,
    )


Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class VisitorIdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identifier: Identifier
    name: ShortName | None = None
    email: RawEmail | None = None
    timestamp: int
    hash: Annotated[str, StringConstraints(max_length=128)]


class VisitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visitor_token: Annotated[str, StringConstraints(max_length=300)] | None = None
    identity: VisitorIdentityIn | None = None


class VisitorOut(BaseModel):
    visitor_token: str
    visitor_id: int
    expires_at: str
    name: str


@router.post("/{public_token}/visitors")
async def start_visitor(
    body: VisitorIn, widget: PublicWidget, request: Request, tx: TxDep
) -> VisitorOut:
    """The visitor this browser is: the one its token names (refreshed), the one the
    website vouches for, or a new anonymous one."""
    rt = runtime_of(request)
    secret = rt.settings.secret_key
    current: Visitor | None = None
    if body.visitor_token:
        try:
            claims = visitors.decode_token(secret, body.visitor_token)
            current = await visitors.visitor_of_token(tx, claims, widget=widget)
        except visitors.TokenInvalid:
            current = None  # a stale token: start afresh rather than refuse the widget
    if body.identity is not None:
        ident = visitors.Identity(**body.identity.model_dump())
        visitors.check_identity(widget, ident)
        visitor = await visitors.identify(tx, widget, current, ident)
    elif current is not None:
        visitor = current
        visitor.last_seen_at = utcnow()
    else:
        visitor = visitors.new_visitor(widget)
        tx.session.add(visitor)
    await tx.session.flush()
    name = visitors.default_name(visitor.id)
    if visitor.contact_id is not None:
        contact = await visitors.contact_of(tx, visitor)
        name = contact.name
    await tx.commit()
    claims = visitors.claims_for(visitor)
    return VisitorOut(
        visitor_token=visitors.encode_token(secret, claims),
        visitor_id=visitor.id,
        expires_at=claims.expires_at.isoformat(),
        name=name,
    )


class VisitorMessagesOut(BaseModel):
    items: list[chat.VisitorMessage]
    unread: int


@router.get("/messages")
async def list_messages(
    caller: CallerDep,
    request: Request,
    tx: TxDep,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> VisitorMessagesOut:
    items, unread = await chat.list_messages(
        tx, caller.visitor, _shaper(request), after=after, limit=limit
    )
    return VisitorMessagesOut(items=items, unread=unread)


class VisitorMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[str, StringConstraints(max_length=MAX_BODY)] = ""
    client_id: Annotated[str, StringConstraints(max_length=100)] | None = None
    attachment_ids: list[int] = Field(default_factory=list, max_length=chat.MAX_PER_MESSAGE)


@router.post("/messages", status_code=201)
async def send_message(
    body: VisitorMessageIn,
    caller: CallerDep,
    request: Request,
    tx: TxDep,
    idempotency_key: Annotated[str | None, Header(max_length=200, pattern=HEADER_TEXT)] = None,
) -> chat.VisitorMessage:
    limits_of(runtime_of(request)).messages.take(f"visitor:{caller.visitor.id}")
    message_id = await chat.send(
        tx,
        caller.widget,
        caller.visitor,
        body=body.body,
        client_id=body.client_id,
        key=idempotency_key,
        attachment_ids=body.attachment_ids,
    )
    caller.visitor.last_seen_at = utcnow()
    await tx.commit()
    shaped = await chat.one_message(tx, caller.visitor, _shaper(request), message_id)
    assert shaped is not None
    return shaped


class VisitorReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    up_to: int = Field(ge=0)


@router.post("/read", status_code=204, response_class=Response, response_model=None)
async def mark_read(body: VisitorReadIn, caller: CallerDep, tx: TxDep) -> None:
    await chat.mark_read(tx, caller.visitor, up_to=body.up_to)
    await tx.commit()


class VisitorEmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: RawEmail


@router.post("/email", status_code=204, response_class=Response, response_model=None)
async def leave_email(body: VisitorEmailIn, caller: CallerDep, tx: TxDep) -> None:
    contact = await visitors.contact_of(tx, caller.visitor)
    await visitors.add_email(tx, contact, body.email)
    await tx.commit()


@router.post("/typing", status_code=204, response_class=Response, response_model=None)
async def visitor_typing(caller: CallerDep, request: Request, tx: TxDep) -> None:
    conv = await chat.thread_of(tx, caller.visitor)
    if conv is None:
        return  # nothing written yet: no thread for agents to see it on
    # Not stored: a typing indicator missed is not worth replaying.
    await runtime_of(request).hub.publish(
        Event(
            type="typing",
            account_id=caller.widget.account_id,
            data={"conversation_id": conv.id, "from": "visitor", "channel": WEBCHAT},
        )
    )


@router.post("/attachments", status_code=201)
@answers(415)
async def upload(
    file: UploadFile, caller: CallerDep, request: Request, tx: TxDep
) -> chat.VisitorAttachment:
    settings = runtime_of(request).settings
    limits_of(runtime_of(request)).messages.take(f"visitor:{caller.visitor.id}")
    data = await read_upload(file, limit=settings.max_upload_bytes)
    att = await chat.store_upload(
        tx,
        caller.visitor,
        filename=file.filename or "file",
        content_type=file.content_type or "",
        data=data,
    )
    await tx.commit()
    return chat.attachment_out(att, public_url=settings.public_url, secret_key=settings.secret_key)


@router.get("/files/{attachment_id}/{signature}", response_class=Response, include_in_schema=False)
async def download(attachment_id: int, signature: str, request: Request, tx: TxDep) -> Response:
    """A file of a visitor's thread, by the signed address only they were given."""
    secret = runtime_of(request).settings.secret_key
    if not hmac.compare_digest(signature, chat.file_signature(secret, attachment_id)):
        raise NotFound("No such file.")
    att = await tx.session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("No such file.")
    blob = await blob_response(tx, account_id=att.account_id, blob_id=att.blob_id)
    return as_download(blob, att.filename)
