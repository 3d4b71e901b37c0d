"""Provider webhooks: verify, dedupe, store, acknowledge.

Every request is checked against the credentials of the account it claims to be for (found
by the company number, or by our message id in a status-callback URL) before anything is
written; a bad or missing signature gets 403 and stores nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from twilio.twiml.messaging_response import MessagingResponse

from parlour.channels.sms import connections, inbound, media, telnyx, twilio
from parlour.channels.sms.inbound import InboundSms, MediaRef, SidMismatch, StatusUpdate
from parlour.channels.sms.keywords import from_twilio_opt_out_type
from parlour.channels.sms.provider import SmsCredentials
from parlour.conversations.models import Message
from parlour.db.deps import TxDep
from parlour.db.tx import Tx, transaction
from parlour.errors import ChannelUnavailable, Conflict, Forbidden, InvalidInput, NotFound
from parlour.runtime import Runtime, runtime_of
from parlour.types import MAX_ID

T = TypeVar("T")

router = APIRouter(prefix="/webhooks", tags=["webhooks"], include_in_schema=False)

EMPTY_TWIML = str(MessagingResponse())
_TWILIO_MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
MAX_MEDIA = 10
MAX_FIELDS = 200  # Twilio sends about 20, plus two per media item


def _bad(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_webhook", details={"field": field})


async def _form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        raise InvalidInput(
            "Twilio webhooks are form-encoded.", code="invalid_webhook", details=None
        )
    # The standard library's parser, not Starlette's form parser: it is ten times faster,
    # and every inbound text pays for it. Form bodies are ASCII; fields decode as UTF-8.
    try:
        items = parse_qsl(
            (await request.body()).decode("ascii"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise _bad("The body is not valid form encoding.", "body") from exc
    params: dict[str, str] = {}
    for key, value in items:
        if key in params:
            # Twilio never repeats a field; a repeated one could hide a second value from
            # the signature check, so it is refused outright.
            raise _bad(f"The field {key} is repeated.", key)
        params[key] = value
    return params


def _signed_url(rt: Runtime, request: Request) -> str:
    """The URL Twilio was given: PARLOUR_PUBLIC_URL, not what a proxy turned it into."""
    query = request.url.query
    return rt.settings.public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


async def _twilio_creds(tx: Tx, rt: Runtime, account_id: int) -> SmsCredentials:
    creds = await connections.credentials_for(
        tx, account_id=account_id, provider="twilio", secret_key=rt.settings.secret_key
    )
    return _twilio_connected(creds)


def _twilio_connected(creds: SmsCredentials | None) -> SmsCredentials:
    if creds is None or not creds.auth_token:
        raise Forbidden(
            "Twilio is not connected for this number's account.", code="twilio_not_connected"
        )
    return creds


def _check_twilio_signature(
    request: Request, rt: Runtime, creds: SmsCredentials, params: dict[str, str]
) -> None:
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise Forbidden("The X-Twilio-Signature header is missing.", code="missing_signature")
    if not twilio.signature_valid(
        auth_token=creds.auth_token,
        url=_signed_url(rt, request),
        params=params,
        signature=signature,
    ):
        raise Forbidden("The webhook signature does not match.", code="invalid_signature")
    if params.get("AccountSid") != creds.account_sid:
        raise Forbidden("This webhook is for another Twilio account.", code="wrong_account")


async def _route(
    rt: Runtime, raw: str, field: str, provider: str, conn: AsyncConnection | None = None
) -> tuple[inbound.NumberRef, SmsCredentials | None]:
    """The company number a webhook names, and its account's credentials: on ``conn``, or
    on a connection of its own outside any write transaction."""
    e164 = inbound.e164_or_none(raw, region=rt.settings.default_region) if raw else None
    found = None
    if e164:
        secret = rt.settings.secret_key
        if conn is not None:
            found = await inbound.route(conn, e164=e164, provider=provider, secret_key=secret)
        else:
            async with rt.db.lookups() as own:
                found = await inbound.route(own, e164=e164, provider=provider, secret_key=secret)
    if found is None:
        raise NotFound(
            f"No company number {raw or '(none)'} is set up in Parlour.",
            code="unknown_number",
            details={"field": field},
        )
    return found


def _twilio_inbound(params: dict[str, str]) -> InboundSms:
    for key, value in params.items():
        # PostgreSQL refuses NUL in text; only the body may carry one, and loses it.
        if key != "Body" and "\x00" in value:
            raise _bad(f"{key} contains a NUL character.", key)
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or ""
    if not _TWILIO_MESSAGE_SID.match(sid):
        raise _bad("MessageSid is missing or malformed.", "MessageSid")
    if not params.get("From"):
        raise _bad("From is missing.", "From")
    raw_count = params.get("NumMedia", "0") or "0"
    if not raw_count.isdigit() or int(raw_count) > MAX_MEDIA:
        raise _bad("NumMedia must be a number from 0 to 10.", "NumMedia")
    refs = []
    for i in range(int(raw_count)):
        url = params.get(f"MediaUrl{i}", "")
        if not url.startswith(("https://", "http://")):
            raise _bad(f"MediaUrl{i} is missing or not a URL.", f"MediaUrl{i}")
        ctype = params.get(f"MediaContentType{i}") or "application/octet-stream"
        refs.append(MediaRef(url=url, content_type=ctype))
    return InboundSms(
        provider_message_id=sid,
        from_number=params["From"],
        to_number=params.get("To", ""),
        body=params.get("Body", "").replace("\x00", ""),
        media=tuple(refs),
        keyword=from_twilio_opt_out_type(params.get("OptOutType")),
    )


async def _write(rt: Runtime, work: Callable[[Tx], Awaitable[T]]) -> T:
    """Runs ``work`` in a transaction and commits, retrying when a concurrent webhook wrote
    the same row first (two texts from a new contact at once both create the contact).
    Providers do not resend a webhook that got an error, so a 409 would lose a message."""
    for attempt in range(3):
        try:
            async with transaction(rt.db, rt.hub) as tx:
                result = await work(tx)
                await tx.commit()
                return result
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@router.post("/twilio/sms")
async def twilio_inbound(request: Request) -> Response:
    """Twilio's "A message comes in" webhook."""
    rt = runtime_of(request)
    params = await _form(request)

    async def verify(conn: AsyncConnection | None) -> tuple[inbound.NumberRef, InboundSms]:
        number, creds = await _route(rt, params.get("To", ""), "To", "twilio", conn)
        _check_twilio_signature(request, rt, _twilio_connected(creds), params)
        if not number.sms_enabled:
            raise ChannelUnavailable(
                f"SMS is not enabled on {number.e164}.", code="sms_not_enabled"
            )
        return number, _twilio_inbound(params)

    # SQLite: verified before the write transaction, so that forged requests never take
    # the write lock. PostgreSQL: inside it, which saves a second connection (and its ping)
    # for every text; a forged request there only reads, and rolls back.
    checked = await verify(None) if rt.db.dialect == "sqlite" else None

    async def work(tx: Tx) -> tuple[int, inbound.Received | None]:
        number, sms = checked or await verify(await tx.session.connection())
        # receive() only needs the number's id, account and e164 (a number removed
        # meanwhile fails the message's foreign key and nothing is stored).
        received = await inbound.receive(
            tx, number=number, sms=sms, region=rt.settings.default_region
        )
        return number.account_id, received

    account_id, received = await _write(rt, work)
    if received and received.attachment_ids:
        media.schedule(
            rt,
            request.app.state.providers.sms["twilio"],
            provider="twilio",
            account_id=account_id,
            attachment_ids=received.attachment_ids,
        )
    return Response(EMPTY_TWIML, media_type="text/xml")


async def _outbound_message(tx: Tx, message_id: int) -> Message:
    # Locked: "sent" and "delivered" can arrive at once, and the later must see the earlier.
    message = await tx.session.get(Message, message_id, with_for_update=tx.dialect == "postgresql")
    if message is None or message.channel != "sms" or message.direction != "out":
        raise NotFound("No such outbound SMS.", code="unknown_message")
    return message


async def _apply(tx: Tx, message: Message, update: StatusUpdate) -> None:
    try:
        await inbound.apply_status(tx, message=message, update=update)
    except SidMismatch as exc:
        raise Conflict(
            "This status is for another provider message than the one recorded.",
            code="sid_mismatch",
        ) from exc


@router.post("/twilio/status", status_code=204, response_class=Response)
async def twilio_status(
    request: Request, tx: TxDep, message_id: int = Query(ge=1, le=MAX_ID)
) -> Response:
    """Twilio's status callback for a message we sent; our message id is in the URL."""
    rt = runtime_of(request)
    params = await _form(request)
    message = await _outbound_message(tx, message_id)
    creds = await _twilio_creds(tx, rt, message.account_id)
    _check_twilio_signature(request, rt, creds, params)
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not _TWILIO_MESSAGE_SID.match(sid):
        raise _bad("MessageSid is missing or malformed.", "MessageSid")
    raw_status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    status = inbound.TWILIO_STATUS.get(raw_status)
    if status is None:
        raise _bad(f"Unknown MessageStatus {raw_status!r}.", "MessageStatus")
    await _apply(
        tx,
        message,
        StatusUpdate(
            provider="twilio",
            message_id=message.id,
            provider_message_id=sid,
            status=status,
            error_code=params.get("ErrorCode") or None,
            error_text=params.get("ErrorMessage") or None,
        ),
    )
    await tx.commit()
    return Response(status_code=204)


def _dig(obj: Any, *path: str | int) -> Any:
    for key in path:
        try:
            obj = obj[key]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


@router.post("/telnyx", status_code=204, response_class=Response)
async def telnyx_webhook(
    request: Request, message_id: int | None = Query(None, ge=1, le=MAX_ID)
) -> Response:
    """Telnyx's messaging webhook: inbound messages and delivery statuses."""
    rt = runtime_of(request)
    body = await request.body()
    signature = request.headers.get(telnyx.SIGNATURE_HEADER)
    timestamp = request.headers.get(telnyx.TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise Forbidden("The Telnyx signature headers are missing.", code="missing_signature")
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise _bad("The body is not JSON.", "body") from exc
    kind = _dig(event, "data", "event_type")
    payload = _dig(event, "data", "payload")
    if not isinstance(kind, str) or not isinstance(payload, dict):
        raise _bad("data.event_type and data.payload are required.", "data")
    if kind == "message.received":
        company = _dig(payload, "to", 0, "phone_number")
    elif kind in ("message.sent", "message.finalized"):
        company = _dig(payload, "from", "phone_number")
    else:
        return Response(status_code=204)  # other events are not ours to act on

    number, creds = await _route(rt, str(company or ""), "payload", "telnyx")
    if creds is None or not creds.public_key:
        raise Forbidden(
            "Telnyx is not connected for this number's account.", code="telnyx_not_connected"
        )
    if not telnyx.signature_valid(
        public_key=creds.public_key, body=body, signature=signature, timestamp=timestamp
    ):
        raise Forbidden(
            "The webhook signature does not match, or it is too old.", code="invalid_signature"
        )

    async def work(tx: Tx) -> tuple[int, inbound.Received | None]:
        if kind == "message.received":
            return number.account_id, await _telnyx_inbound(tx, rt, number, payload)
        await _telnyx_status(tx, number, payload, message_id)
        return number.account_id, None

    account_id, received = await _write(rt, work)
    if received and received.attachment_ids:
        media.schedule(
            rt,
            request.app.state.providers.sms["telnyx"],
            provider="telnyx",
            account_id=account_id,
            attachment_ids=received.attachment_ids,
        )
    return Response(status_code=204)


async def _telnyx_inbound(
    tx: Tx, rt: Runtime, number: inbound.NumberRef, payload: dict[str, Any]
) -> inbound.Received | None:
    if not number.sms_enabled:
        raise ChannelUnavailable(f"SMS is not enabled on {number.e164}.", code="sms_not_enabled")
    sid = payload.get("id")
    sender = _dig(payload, "from", "phone_number")
    if not isinstance(sid, str) or not sid or len(sid) > 200:
        raise _bad("payload.id is missing.", "payload.id")
    if not isinstance(sender, str) or not sender:
        raise _bad("payload.from.phone_number is missing.", "payload.from")
    if "\x00" in sid + sender:
        raise _bad("The payload contains a NUL character.", "payload")
    refs = []
    for item in payload.get("media") or []:
        url = _dig(item, "url")
        ctype = str(_dig(item, "content_type") or "application/octet-stream")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise _bad("A media item has no URL.", "payload.media")
        if "\x00" in url + ctype:
            raise _bad("A media item contains a NUL character.", "payload.media")
        refs.append(MediaRef(url=url, content_type=ctype))
    text = payload.get("text")
    sms = InboundSms(
        provider_message_id=sid,
        from_number=sender,
        to_number=number.e164,
        body=(text if isinstance(text, str) else "").replace("\x00", ""),
        media=tuple(refs[:MAX_MEDIA]),
    )
    return await inbound.receive(tx, number=number, sms=sms, region=rt.settings.default_region)


async def _telnyx_status(
    tx: Tx, number: inbound.NumberRef, payload: dict[str, Any], message_id: int | None
) -> None:
    sid = payload.get("id")
    if not isinstance(sid, str) or not sid:
        raise _bad("payload.id is missing.", "payload.id")
    raw_status = _dig(payload, "to", 0, "status")
    status = inbound.TELNYX_STATUS.get(str(raw_status))
    if status is None:
        raise _bad(f"Unknown status {raw_status!r}.", "payload.to")
    if message_id is not None:
        message = await _outbound_message(tx, message_id)
    else:
        stmt = select(Message).where(Message.channel == "sms", Message.provider_message_id == sid)
        if tx.dialect == "postgresql":
            stmt = stmt.with_for_update()
        found = await tx.session.scalar(stmt)
        if found is None:
            raise NotFound("No such outbound SMS.", code="unknown_message")
        message = found
    if message.account_id != number.account_id:
        raise NotFound("No such outbound SMS.", code="unknown_message")
    first_error = _dig(payload, "errors", 0) or {}
    await _apply(
        tx,
        message,
        StatusUpdate(
            provider="telnyx",
            message_id=message.id,
            provider_message_id=sid,
            status=status,
            error_code=str(first_error.get("code")) if first_error.get("code") else None,
            error_text=first_error.get("detail") or first_error.get("title"),
        ),
    )
