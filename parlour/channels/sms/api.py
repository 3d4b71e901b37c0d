"""Company phone numbers ("call tracking numbers") and SMS provider connections."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from parlour.accounts.deps import AdminUser, CurrentUser, require_admin, user_of_request
from parlour.accounts.models import User
from parlour.channels.sms import connections, segments, service
from parlour.channels.sms.models import SmsProviderAccount
from parlour.channels.sms.provider import SmsCredentials
from parlour.channels.sms.providers import account_api, number_lister, sms_providers
from parlour.channels.sms.schemas import (
    ConnectionOut,
    ImportNumbersIn,
    ImportNumbersOut,
    PhoneNumberIn,
    PhoneNumberOut,
    PhoneNumberPatch,
    ProviderNumberOut,
    SegmentsIn,
    SegmentsOut,
    TelnyxConnectIn,
    TwilioConnectIn,
)
from parlour.channels.sms.telnyx import public_key_valid
from parlour.db.deps import TxDep
from parlour.db.tx import transaction
from parlour.errors import InvalidInput, ParlourError
from parlour.openapi import answers
from parlour.outbox.delivery import DeliveryError, PermanentFailure
from parlour.runtime import Runtime, runtime_of
from parlour.types import PathId

router = APIRouter(prefix="/phone-numbers", tags=["phone-numbers"])
sms = APIRouter(prefix="/sms", tags=["sms"])


@router.get("")
async def list_numbers(user: CurrentUser, tx: TxDep) -> list[PhoneNumberOut]:
    return [
        PhoneNumberOut.from_model(n)
        for n in await service.list_numbers(tx, account_id=user.account_id)
    ]


@router.post("", status_code=201)
async def add_number(
    body: PhoneNumberIn, request: Request, admin: AdminUser, tx: TxDep
) -> PhoneNumberOut:
    number = await service.add_number(
        tx,
        account_id=admin.account_id,
        data=body,
        region=runtime_of(request).settings.default_region,
    )
    await tx.commit()
    return PhoneNumberOut.from_model(number)


@router.patch("/{number_id}")
async def update_number(
    number_id: PathId, body: PhoneNumberPatch, admin: AdminUser, tx: TxDep
) -> PhoneNumberOut:
    number = await service.update_number(
        tx, account_id=admin.account_id, number_id=number_id, patch=body
    )
    await tx.commit()
    return PhoneNumberOut.from_model(number)


@router.delete("/{number_id}", status_code=204, response_class=Response, response_model=None)
async def remove_number(number_id: PathId, admin: AdminUser, tx: TxDep) -> None:
    await service.remove_number(tx, account_id=admin.account_id, number_id=number_id)
    await tx.commit()


# --- routes that talk to a provider or write nothing -----------------------------------
# They authenticate in a read-only transaction: on SQLite a write transaction holds the one
# write lock, which must never wait on a provider's network answer (or on a keystroke).


@answers(401, writes=(403,))
async def _reading_user(request: Request) -> User:
    rt = runtime_of(request)
    async with transaction(rt.db, rt.hub, write=False) as tx:
        return await user_of_request(request, tx)


@answers(403)
async def _reading_admin(user: Annotated[User, Depends(_reading_user)]) -> User:
    return require_admin(user)


ReadingUser = Annotated[User, Depends(_reading_user)]
ReadingAdmin = Annotated[User, Depends(_reading_admin)]


# What the routes that ask the provider add to their answers.
PROVIDER_REFUSED = {502: "`provider_unavailable`: the provider refused or was not reached."}
NOT_CONNECTED = {409: "`not_connected`: connect Twilio first."}


def _provider_error(exc: DeliveryError, provider: str) -> ParlourError:
    if isinstance(exc, PermanentFailure) and exc.code in ("20003", "10009", "http_401"):
        return InvalidInput(
            f"{provider.title()} refused these credentials.",
            code="invalid_credentials",
            details={"provider_code": exc.code},
        )
    return ParlourError(
        f"{provider.title()} could not be reached or refused the request: {exc.message}",
        code="provider_unavailable",
        status=502,
        details={"provider_code": exc.code},
    )


def _connection_out(request: Request, rt: Runtime, conn: SmsProviderAccount) -> ConnectionOut:
    readable = connections.credentials_of(conn, secret_key=rt.settings.secret_key) is not None
    urls = account_api(sms_providers(request), conn.provider).webhook_urls()
    return ConnectionOut.from_model(
        conn, readable=readable, inbound_url=urls.inbound, status_url=urls.status
    )


@sms.post("/segments")
async def count_segments(body: SegmentsIn, user: ReadingUser) -> SegmentsOut:
    """Encoding and segment count of a draft, for the composer's counter."""
    return SegmentsOut.from_info(segments.count(body.body))


@sms.get("/providers")
async def list_connections(request: Request, admin: ReadingAdmin) -> list[ConnectionOut]:
    rt = runtime_of(request)
    async with transaction(rt.db, rt.hub, write=False) as tx:
        conns = await connections.list_connections(tx, account_id=admin.account_id)
    return [_connection_out(request, rt, c) for c in conns]


async def _save(
    request: Request, admin: User, provider: str, creds: SmsCredentials
) -> ConnectionOut:
    rt = runtime_of(request)
    async with transaction(rt.db, rt.hub) as tx:
        conn = await connections.save(
            tx,
            account_id=admin.account_id,
            provider=provider,
            secret_key=rt.settings.secret_key,
            creds=creds,
        )
        await tx.commit()
    return _connection_out(request, rt, conn)


@sms.put("/providers/twilio")
@answers(PROVIDER_REFUSED)
async def connect_twilio(
    body: TwilioConnectIn, request: Request, admin: ReadingAdmin
) -> ConnectionOut:
    if (body.api_key_sid is None) != (body.api_key_secret is None):
        raise InvalidInput(
            "Give both the API key SID and its secret, or neither.",
            code="incomplete_api_key",
            details={"field": "api_key_secret" if body.api_key_sid else "api_key_sid"},
        )
    creds = SmsCredentials(
        account_sid=body.account_sid,
        auth_token=body.auth_token,
        api_key_sid=body.api_key_sid,
        api_key_secret=body.api_key_secret,
    )
    if body.verify:
        try:
            await account_api(sms_providers(request), "twilio").check_credentials(creds)
        except DeliveryError as exc:
            raise _provider_error(exc, "twilio") from exc
    return await _save(request, admin, "twilio", creds)


@sms.put("/providers/telnyx")
@answers(PROVIDER_REFUSED)
async def connect_telnyx(
    body: TelnyxConnectIn, request: Request, admin: ReadingAdmin
) -> ConnectionOut:
    if not public_key_valid(body.public_key):
        raise InvalidInput(
            "The public key must be a base64 Ed25519 key.",
            code="invalid_public_key",
            details={"field": "public_key"},
        )
    creds = SmsCredentials(api_key=body.api_key, public_key=body.public_key)
    if body.verify:
        try:
            await account_api(sms_providers(request), "telnyx").check_credentials(creds)
        except DeliveryError as exc:
            raise _provider_error(exc, "telnyx") from exc
    return await _save(request, admin, "telnyx", creds)


@sms.delete("/providers/{provider}", status_code=204, response_class=Response, response_model=None)
async def disconnect(provider: str, admin: AdminUser, tx: TxDep) -> None:
    await connections.remove(tx, account_id=admin.account_id, provider=provider)
    await tx.commit()


async def _twilio_creds(request: Request, admin: User) -> SmsCredentials:
    rt = runtime_of(request)
    async with transaction(rt.db, rt.hub, write=False) as tx:
        creds = await connections.credentials_for(
            tx, account_id=admin.account_id, provider="twilio", secret_key=rt.settings.secret_key
        )
    if creds is None:
        raise InvalidInput(
            "Connect Twilio first (Settings → SMS).", code="not_connected", status=409
        )
    return creds


@sms.get("/providers/twilio/numbers")
@answers(NOT_CONNECTED, PROVIDER_REFUSED)
async def twilio_numbers(request: Request, admin: ReadingAdmin) -> list[ProviderNumberOut]:
    """The numbers on the connected Twilio account, and which Parlour already has."""
    creds = await _twilio_creds(request, admin)
    try:
        found = await number_lister(sms_providers(request), "twilio").list_numbers(creds)
    except DeliveryError as exc:
        raise _provider_error(exc, "twilio") from exc
    rt = runtime_of(request)
    async with transaction(rt.db, rt.hub, write=False) as tx:
        mine = {n.e164 for n in await service.list_numbers(tx, account_id=admin.account_id)}
    return [
        ProviderNumberOut(
            sid=n.sid,
            e164=n.e164,
            friendly_name=n.friendly_name,
            sms=n.sms,
            mms=n.mms,
            imported=n.e164 in mine,
        )
        for n in found
    ]


@sms.post("/providers/twilio/numbers/import", status_code=201)
@answers(NOT_CONNECTED, PROVIDER_REFUSED)
async def import_twilio_numbers(
    body: ImportNumbersIn, request: Request, admin: ReadingAdmin
) -> ImportNumbersOut:
    """Adds the Twilio account's SMS-capable numbers (all, or those named) as company numbers."""
    rt = runtime_of(request)
    twilio = number_lister(sms_providers(request), "twilio")
    creds = await _twilio_creds(request, admin)
    try:
        found = await twilio.list_numbers(creds)
    except DeliveryError as exc:
        raise _provider_error(exc, "twilio") from exc
    available = [(n.e164, n.friendly_name, n.sms) for n in found]
    # Check first, so that webhooks are configured only for numbers that will be imported.
    async with transaction(rt.db, rt.hub, write=False) as tx:
        planned, _ = await service.plan_import(
            tx,
            account_id=admin.account_id,
            provider="twilio",
            available=available,
            wanted=body.numbers,
            region=rt.settings.default_region,
        )
    planned_e164 = set(planned)
    if body.configure_webhooks:
        try:
            for n in found:
                if n.e164 in planned_e164:
                    await twilio.point_webhooks(creds, number_sid=n.sid)
        except DeliveryError as exc:
            raise _provider_error(exc, "twilio") from exc
    async with transaction(rt.db, rt.hub) as tx:
        added, present = await service.import_numbers(
            tx,
            account_id=admin.account_id,
            provider="twilio",
            available=available,
            wanted=body.numbers,
            region=rt.settings.default_region,
        )
        await tx.commit()
    return ImportNumbersOut(
        imported=[PhoneNumberOut.from_model(n) for n in added], already_present=present
    )
