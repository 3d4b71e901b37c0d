"""Company phone numbers: add, list, change, remove."""

from __future__ import annotations

from sqlalchemy import select

from parlour.channels.sms.models import PhoneNumber
from parlour.channels.sms.schemas import PhoneNumberIn, PhoneNumberPatch
from parlour.contacts.normalize import to_e164
from parlour.db.tx import Tx
from parlour.errors import Conflict, InvalidInput, NotFound


async def list_numbers(tx: Tx, *, account_id: int) -> list[PhoneNumber]:
    rows = await tx.session.scalars(
        select(PhoneNumber).where(PhoneNumber.account_id == account_id).order_by(PhoneNumber.id)
    )
    return list(rows)


async def get_number(tx: Tx, *, account_id: int, number_id: int) -> PhoneNumber:
    number = await tx.session.scalar(
        select(PhoneNumber).where(PhoneNumber.id == number_id, PhoneNumber.account_id == account_id)
    )
    if number is None:
        raise NotFound("No such phone number.")
    return number


async def add_number(tx: Tx, *, account_id: int, data: PhoneNumberIn, region: str) -> PhoneNumber:
    try:
        e164 = to_e164(data.number, region=region)
    except InvalidInput as exc:
        exc.details = {"field": "number"}
        raise
    if await tx.session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164)):
        raise Conflict(f"{e164} is already in use.", code="duplicate_number")
    number = PhoneNumber(
        account_id=account_id,
        e164=e164,
        label=data.label,
        provider=data.provider,
        sms_enabled=data.sms_enabled,
    )
    tx.session.add(number)
    await tx.session.flush()
    return number


async def update_number(
    tx: Tx, *, account_id: int, number_id: int, patch: PhoneNumberPatch
) -> PhoneNumber:
    number = await get_number(tx, account_id=account_id, number_id=number_id)
    for field in ("label", "provider", "sms_enabled"):
        value = getattr(patch, field)
        if value is not None:
            setattr(number, field, value)
    await tx.session.flush()
    return number


async def remove_number(tx: Tx, *, account_id: int, number_id: int) -> None:
    number = await get_number(tx, account_id=account_id, number_id=number_id)
    await tx.session.delete(number)
    await tx.session.flush()
