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


async def plan_import(
    tx: Tx,
    *,
    account_id: int,
    provider: str,
    available: list[tuple[str, str, bool]],
    wanted: list[str] | None,
    region: str,
) -> tuple[list[str], list[str]]:
    """Which of the provider's numbers to add: ``available`` is (e164, name, sms-capable)
    as the provider lists them; ``wanted`` None means every SMS-capable one. Returns
    (to add, already this account's); refuses the whole import if any is not possible."""
    at_provider = {e164: sms for e164, _, sms in available}
    if wanted is None:
        chosen = [e164 for e164, sms in at_provider.items() if sms]
    else:
        chosen = []
        for raw in wanted:
            try:
                e164 = to_e164(raw, region=region)
            except InvalidInput as exc:
                exc.details = {"field": "numbers", "number": raw}
                raise
            if e164 not in at_provider:
                raise InvalidInput(
                    f"{e164} is not a number of the connected {provider.title()} account.",
                    code="not_at_provider",
                    details={"field": "numbers", "number": e164},
                )
            if not at_provider[e164]:
                raise InvalidInput(
                    f"{e164} cannot send or receive SMS.",
                    code="not_sms_capable",
                    details={"field": "numbers", "number": e164},
                )
            if e164 not in chosen:
                chosen.append(e164)
    existing = {
        n.e164: n.account_id
        for n in await tx.session.scalars(select(PhoneNumber).where(PhoneNumber.e164.in_(chosen)))
    }
    taken = sorted(e for e, owner in existing.items() if owner != account_id)
    if taken:
        raise Conflict(
            f"{', '.join(taken)} is already used by another account.",
            code="duplicate_number",
            details={"numbers": taken},
        )
    return [e for e in chosen if e not in existing], sorted(existing)


async def import_numbers(
    tx: Tx,
    *,
    account_id: int,
    provider: str,
    available: list[tuple[str, str, bool]],
    wanted: list[str] | None,
    region: str,
) -> tuple[list[PhoneNumber], list[str]]:
    """Adds the provider's numbers as company numbers (see ``plan_import``). All or nothing."""
    to_add, present = await plan_import(
        tx,
        account_id=account_id,
        provider=provider,
        available=available,
        wanted=wanted,
        region=region,
    )
    names = {e164: name for e164, name, _ in available}
    added = [
        PhoneNumber(
            account_id=account_id,
            e164=e164,
            label=names[e164][:100],
            provider=provider,
            sms_enabled=True,
        )
        for e164 in to_add
    ]
    tx.session.add_all(added)
    await tx.session.flush()
    return added, present
