"""Company phone numbers ("call tracking numbers")."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from parlour.accounts.deps import AdminUser, CurrentUser
from parlour.channels.sms import service
from parlour.channels.sms.schemas import PhoneNumberIn, PhoneNumberOut, PhoneNumberPatch
from parlour.db.deps import TxDep
from parlour.runtime import runtime_of
from parlour.types import PathId

router = APIRouter(prefix="/phone-numbers", tags=["phone-numbers"])


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
