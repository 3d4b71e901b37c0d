"""Provider webhooks: verify, dedupe, store, acknowledge.

Every request is checked against the credentials of the account it claims to be for (found
by the company number, or by the Twilio account a status callback names) before anything is
written or looked up; a bad or missing signature gets 403 and stores nothing. Each provider's module
reads its own payloads (``twilio.py``, ``telnyx.py``); this one verifies, has the payload
read, calls the service, commits and answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from twilio.twiml.messaging_response import MessagingResponse

from parlour.channels.sms import connections, inbound, media, statuses, telnyx, twilio
from parlour.channels.sms.inbound import InboundSms
from parlour.channels.sms.provider import SmsCredentials
from parlour.channels.sms.providers import account_api, sms_providers
from parlour.channels.sms.statuses import ReportedStatus, SidMismatch
from parlour.conversations.models import Message
from parlour.db.deps import TxDep
from parlour.db.tx import Tx, transaction
from parlour.errors import ChannelUnavailable, Conflict, Forbidden, InvalidInput, NotFound
from parlour.runtime import Runtime, runtime_of
from parlour.types import MAX_ID

T = TypeVar("T")

router = APIRouter(prefix="/webhooks", tags=["webhooks"], include_in_schema=False)

EMPTY_TWIML = str(MessagingResponse())


async def _form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        raise InvalidInput(
            "Twilio webhooks are form-encoded.", code="invalid_webhook", details=None
        )
    return twilio.form_params(await request.body())


def _signed_url(rt: Runtime, request: Request) -> str:
    """The URL Twilio was given: PARLOUR_PUBLIC_URL, not what a proxy turned it into."""
    query = request.url.query
    return rt.settings.public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


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
        return number, twilio.inbound_sms(params)

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
            account_api(sms_providers(request), "twilio"),
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


async def _apply(tx: Tx, message: Message, report: ReportedStatus) -> None:
    try:
        await statuses.apply_status(tx, message=message, update=report.for_message(message.id))
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
    # Verified before the message is looked up, with the credentials of the Twilio account
    # the request names: an unsigned request learns nothing, not even whether the id in
    # its URL is a message of ours (no 404 against 403).
    account_ids = await _twilio_signed_for(tx, request, rt, params)
    message = await _outbound_message(tx, message_id)
    if message.account_id not in account_ids:
        raise NotFound("No such outbound SMS.", code="unknown_message")
    await _apply(tx, message, twilio.status_report(params))
    await tx.commit()
    return Response(status_code=204)


async def _twilio_signed_for(
    tx: Tx, request: Request, rt: Runtime, params: dict[str, str]
) -> set[int]:
    """The Parlour accounts whose Twilio credentials signed this request (several may share
    one Twilio account), or Forbidden."""
    if not request.headers.get("x-twilio-signature"):
        raise Forbidden("The X-Twilio-Signature header is missing.", code="missing_signature")
    connected = await connections.credentials_by_provider_account(
        tx,
        provider="twilio",
        account_sid=params.get("AccountSid", ""),
        secret_key=rt.settings.secret_key,
    )
    signed: set[int] = set()
    for account_id, creds in connected:
        try:
            _check_twilio_signature(request, rt, _twilio_connected(creds), params)
        except Forbidden:
            continue
        signed.add(account_id)
    if not signed:
        raise Forbidden("The webhook signature does not match.", code="invalid_signature")
    return signed


async def _telnyx_verified(
    request: Request, rt: Runtime, body: bytes
) -> tuple[telnyx.WebhookEvent, inbound.NumberRef] | None:
    """The event and its company number, once a connected account's key has checked the
    signature (None for an event that is not ours to act on).

    Nothing of the body is read before that: the keys of every account connected to
    Telnyx are tried in turn (a few; accounts sharing a Telnyx account share one), so an
    unsigned body, however large or deeply nested, costs one signature check a key."""
    signature = request.headers.get(telnyx.SIGNATURE_HEADER)
    timestamp = request.headers.get(telnyx.TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise Forbidden("The Telnyx signature headers are missing.", code="missing_signature")
    async with transaction(rt.db, rt.hub, write=False) as tx:
        keys = await connections.public_keys(tx, provider="telnyx")
    signers = {
        account_id
        for key, account_ids in keys.items()
        if telnyx.signature_valid(
            public_key=key, body=body, signature=signature, timestamp=timestamp
        )
        for account_id in account_ids
    }
    if not signers:
        raise Forbidden(
            "The webhook signature does not match, or it is too old.", code="invalid_signature"
        )
    event = telnyx.parse_event(body)
    if event is None:
        return None
    number, _ = await _route(rt, event.company_number, "payload", "telnyx")
    if number.account_id not in signers:
        # Signed by another account's Telnyx key: not a number that account can speak for.
        raise NotFound(
            f"No company number {event.company_number} is set up in Parlour.",
            code="unknown_number",
            details={"field": "payload"},
        )
    return event, number


@router.post("/telnyx", status_code=204, response_class=Response)
async def telnyx_webhook(
    request: Request, message_id: int | None = Query(None, ge=1, le=MAX_ID)
) -> Response:
    """Telnyx's messaging webhook: inbound messages and delivery statuses."""
    rt = runtime_of(request)
    verified = await _telnyx_verified(request, rt, await request.body())
    if verified is None:
        return Response(status_code=204)
    event, number = verified
    sms: InboundSms | None = None
    report: ReportedStatus | None = None
    if event.received:
        if not number.sms_enabled:
            raise ChannelUnavailable(
                f"SMS is not enabled on {number.e164}.", code="sms_not_enabled"
            )
        sms = telnyx.inbound_sms(event.payload, to_number=number.e164)
    else:
        report = telnyx.status_report(event.payload)

    async def work(tx: Tx) -> inbound.Received | None:
        if sms is not None:
            region = rt.settings.default_region
            return await inbound.receive(tx, number=number, sms=sms, region=region)
        assert report is not None
        await _telnyx_status(tx, number, report, message_id)
        return None

    received = await _write(rt, work)
    if received and received.attachment_ids:
        media.schedule(
            rt,
            account_api(sms_providers(request), "telnyx"),
            provider="telnyx",
            account_id=number.account_id,
            attachment_ids=received.attachment_ids,
        )
    return Response(status_code=204)


async def _telnyx_status(
    tx: Tx, number: inbound.NumberRef, report: ReportedStatus, message_id: int | None
) -> None:
    if message_id is not None:
        message = await _outbound_message(tx, message_id)
    else:
        stmt = select(Message).where(
            Message.channel == "sms", Message.provider_message_id == report.provider_message_id
        )
        if tx.dialect == "postgresql":
            stmt = stmt.with_for_update()
        found = await tx.session.scalar(stmt)
        if found is None:
            raise NotFound("No such outbound SMS.", code="unknown_message")
        message = found
    if message.account_id != number.account_id:
        raise NotFound("No such outbound SMS.", code="unknown_message")
    await _apply(tx, message, report)
