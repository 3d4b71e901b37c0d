"""Outgoing webhooks: admins subscribe URLs to the account's events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from parlour.accounts.deps import AdminUser, CurrentUser
from parlour.db.deps import TxDep
from parlour.runtime import runtime_of
from parlour.types import PathId
from parlour.webhooks import service, ssrf
from parlour.webhooks.schemas import (
    DeliveryOut,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    SecretOut,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


async def _check_url(request: Request, url: str) -> None:
    """422 ``url_not_allowed`` for a URL the worker would refuse to call."""
    allow_private = runtime_of(request).settings.webhooks_allow_private
    await ssrf.check(url, allow_private=allow_private)


@router.get("")
async def list_endpoints(user: CurrentUser, tx: TxDep) -> list[EndpointOut]:
    endpoints = await service.list_endpoints(tx, account_id=user.account_id)
    return [EndpointOut.from_model(e) for e in endpoints]


@router.post("", status_code=201)
async def add_endpoint(
    body: EndpointIn, request: Request, admin: AdminUser, tx: TxDep
) -> EndpointCreated:
    """The signing secret is in this answer; admins can read it again later."""
    await _check_url(request, body.url)
    endpoint, secret = await service.add_endpoint(
        tx,
        account_id=admin.account_id,
        data=body,
        secret_key=runtime_of(request).settings.secret_key,
    )
    await tx.commit()
    return EndpointCreated(**EndpointOut.from_model(endpoint).model_dump(), secret=secret)


@router.get("/{endpoint_id}")
async def get_endpoint(endpoint_id: PathId, user: CurrentUser, tx: TxDep) -> EndpointOut:
    endpoint = await service.get_endpoint(tx, account_id=user.account_id, endpoint_id=endpoint_id)
    return EndpointOut.from_model(endpoint)


@router.patch("/{endpoint_id}")
async def update_endpoint(
    endpoint_id: PathId, body: EndpointPatch, request: Request, admin: AdminUser, tx: TxDep
) -> EndpointOut:
    if body.url is not None:
        await _check_url(request, body.url)
    endpoint = await service.update_endpoint(
        tx, account_id=admin.account_id, endpoint_id=endpoint_id, patch=body
    )
    await tx.commit()
    return EndpointOut.from_model(endpoint)


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, response_model=None)
async def remove_endpoint(endpoint_id: PathId, admin: AdminUser, tx: TxDep) -> None:
    await service.remove_endpoint(tx, account_id=admin.account_id, endpoint_id=endpoint_id)
    await tx.commit()


@router.get("/{endpoint_id}/secret")
async def endpoint_secret(
    endpoint_id: PathId, request: Request, admin: AdminUser, tx: TxDep
) -> SecretOut:
    """The key deliveries are signed with (Standard Webhooks). Admins only: whoever holds
    it can forge deliveries the receiver would trust."""
    endpoint = await service.get_endpoint(tx, account_id=admin.account_id, endpoint_id=endpoint_id)
    secret_key = runtime_of(request).settings.secret_key
    return SecretOut(secret=service.secret_of(endpoint, secret_key=secret_key))


@router.get("/{endpoint_id}/deliveries")
async def list_deliveries(
    endpoint_id: PathId,
    user: CurrentUser,
    tx: TxDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[DeliveryOut]:
    """Newest first, each with its attempts; ``before``: a delivery id, for the next page."""
    found = await service.list_deliveries(
        tx, account_id=user.account_id, endpoint_id=endpoint_id, limit=limit, before=before
    )
    return [DeliveryOut.from_model(d, attempts) for d, attempts in found]


@router.post("/{endpoint_id}/deliveries/{delivery_id}/resend")
async def resend_delivery(
    endpoint_id: PathId, delivery_id: PathId, admin: AdminUser, tx: TxDep
) -> DeliveryOut:
    """Queues it again at once, with the same ``webhook-id``."""
    delivery = await service.resend(
        tx, account_id=admin.account_id, endpoint_id=endpoint_id, delivery_id=delivery_id
    )
    attempts = await service.attempts_of(tx, delivery_id=delivery.id)
    await tx.commit()
    return DeliveryOut.from_model(delivery, attempts)


@router.post("/{endpoint_id}/test", status_code=202)
async def send_test(endpoint_id: PathId, admin: AdminUser, tx: TxDep) -> DeliveryOut:
    """Queues a ``webhook.test`` event for the endpoint."""
    delivery = await service.queue_test(tx, account_id=admin.account_id, endpoint_id=endpoint_id)
    await tx.commit()
    return DeliveryOut.from_model(delivery, [])
