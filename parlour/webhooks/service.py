"""Outgoing webhooks: endpoints, queuing events for them, and recording deliveries.

No network here: the URL check (parlour.webhooks.ssrf) is made by the router before an
endpoint is saved and by the worker before each request; the worker makes the requests
outside any transaction and records their outcome through ``record_attempt``.
"""

from __future__ import annotations

import base64
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select

from parlour.channels.crypto import seal, unseal
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import Conflict, NotFound
from parlour.realtime.consumers import StoredEvent
from parlour.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from parlour.webhooks.schemas import TEST_EVENT, EndpointIn, EndpointPatch

log = logging.getLogger(__name__)

# The gap before each attempt (Standard Webhooks' / Svix's schedule: at once, 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h), carried on with 10 h gaps so that the last attempt comes
# about three days (77.6 h) after the first; after it the delivery has failed. The worker
# reads it from here, so tests move its clock rather than wait.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *(timedelta(hours=10) for _ in range(7)),
)
# An endpoint is disabled once this many deliveries in a row failed every attempt: with
# the schedule above that is three days of nothing but failures, and at least this many
# events lost to it. One success in between starts the count again.
FAILURES_TO_DISABLE = 5
# How long a claimed delivery is its worker's: well beyond the request's timeout.
LEASE = timedelta(seconds=60)
EXCERPT = 500
# Finished deliveries (and their attempts) are shown for this long, then deleted.
KEEP_FINISHED = timedelta(days=30)


def new_secret() -> str:
    # Standard Webhooks: "whsec_" and the base64 of 24 random bytes (192 bits).
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_msg_id() -> str:
    return "msg_" + uuid.uuid4().hex


def exposed_type(event: StoredEvent) -> str:
    """The event type subscribers see: a new contact's first "contact.updated" is its
    "contact.created"."""
    if event.type == "contact.updated" and event.data.get("created") is True:
        return "contact.created"
    return event.type


def payload_of(event_type: str, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    # The shape Standard Webhooks recommends.
    return {"type": event_type, "timestamp": timestamp.isoformat(), "data": data}


# --- endpoints ---------------------------------------------------------------------------


async def list_endpoints(tx: Tx, *, account_id: int) -> list[WebhookEndpoint]:
    rows = await tx.session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.account_id == account_id)
        .order_by(WebhookEndpoint.id)
    )
    return list(rows)


async def get_endpoint(tx: Tx, *, account_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await tx.session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.account_id == account_id
        )
    )
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


async def add_endpoint(
    tx: Tx, *, account_id: int, data: EndpointIn, secret_key: str
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret (in clear, to show once)."""
    secret = new_secret()
    now = utcnow()
    endpoint = WebhookEndpoint(
        account_id=account_id,
        url=data.url,
        description=data.description,
        event_types=list(data.event_types),
        secret_sealed=seal(secret_key, {"secret": secret}),
        enabled=data.enabled,
        failures=0,
        created_at=now,
        updated_at=now,
    )
    tx.session.add(endpoint)
    await tx.session.flush()
    return endpoint, secret


def secret_of(endpoint: WebhookEndpoint, *, secret_key: str) -> str:
    return unseal(secret_key, endpoint.secret_sealed)["secret"]


async def update_endpoint(
    tx: Tx, *, account_id: int, endpoint_id: int, patch: EndpointPatch
) -> WebhookEndpoint:
    endpoint = await get_endpoint(tx, account_id=account_id, endpoint_id=endpoint_id)
    if patch.url is not None:
        endpoint.url = patch.url
    if patch.description is not None:
        endpoint.description = patch.description
    if patch.event_types is not None:
        endpoint.event_types = list(patch.event_types)
    if patch.enabled is not None:
        if patch.enabled:
            endpoint.failures = 0
            endpoint.disabled_reason = None
        endpoint.enabled = patch.enabled
    endpoint.updated_at = utcnow()
    await tx.session.flush()
    return endpoint


async def remove_endpoint(tx: Tx, *, account_id: int, endpoint_id: int) -> None:
    endpoint = await get_endpoint(tx, account_id=account_id, endpoint_id=endpoint_id)
    await tx.session.delete(endpoint)
    await tx.session.flush()


# --- queuing -----------------------------------------------------------------------------


def _wants(endpoint: WebhookEndpoint, event: StoredEvent, event_type: str) -> bool:
    if event.created_at < endpoint.created_at:
        # Subscribing is not asking for history.
        return False
    return not endpoint.event_types or event_type in endpoint.event_types


async def queue_events(tx: Tx, events: Sequence[StoredEvent]) -> int:
    """One delivery per (enabled endpoint that wants it, event): the event-log consumer's
    handler, run in the transaction that moves its cursor past ``events``, so each is
    queued exactly once. Returns how many deliveries were queued."""
    if not events:
        return 0
    account_ids = {e.account_id for e in events}
    endpoints = list(
        await tx.session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.account_id.in_(account_ids), WebhookEndpoint.enabled.is_(True)
            )
        )
    )
    if not endpoints:
        return 0
    now = utcnow()
    queued = 0
    for event in events:
        event_type = exposed_type(event)
        for endpoint in endpoints:
            if endpoint.account_id != event.account_id or not _wants(endpoint, event, event_type):
                continue
            tx.session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    account_id=event.account_id,
                    event_type=event_type,
                    event_seq=event.seq,
                    payload=payload_of(event_type, event.created_at, event.data),
                    msg_id=new_msg_id(),
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            queued += 1
    await tx.session.flush()
    return queued


async def queue_test(tx: Tx, *, account_id: int, endpoint_id: int) -> WebhookDelivery:
    """A "webhook.test" event for the endpoint, whatever it subscribed to."""
    return await queue_call(
        tx,
        account_id=account_id,
        endpoint_id=endpoint_id,
        event_type=TEST_EVENT,
        data={"endpoint_id": endpoint_id},
    )


async def queue_call(
    tx: Tx, *, account_id: int, endpoint_id: int, event_type: str, data: dict[str, Any]
) -> WebhookDelivery:
    """A delivery of ``data`` to one endpoint, whatever it subscribed to (a workflow's
    "call a webhook" step): signed, retried and recorded like every delivery."""
    endpoint = await get_endpoint(tx, account_id=account_id, endpoint_id=endpoint_id)
    _refuse_disabled(endpoint)
    now = utcnow()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        account_id=account_id,
        event_type=event_type,
        event_seq=None,
        payload=payload_of(event_type, now, data),
        msg_id=new_msg_id(),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    tx.session.add(delivery)
    await tx.session.flush()
    return delivery


def _refuse_disabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled: enable it first.", code="endpoint_disabled")


# --- deliveries as the UI shows them ----------------------------------------------------


async def list_deliveries(
    tx: Tx, *, account_id: int, endpoint_id: int, limit: int, before: int | None = None
) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """Newest first, each with its attempts (oldest first)."""
    await get_endpoint(tx, account_id=account_id, endpoint_id=endpoint_id)
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.account_id == account_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(WebhookDelivery.id < before)
    deliveries = list(await tx.session.scalars(stmt))
    attempts: dict[int, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        rows = await tx.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.id)
        )
        for attempt in rows:
            attempts[attempt.delivery_id].append(attempt)
    return [(d, attempts[d.id]) for d in deliveries]


async def get_delivery(
    tx: Tx, *, account_id: int, endpoint_id: int, delivery_id: int
) -> WebhookDelivery:
    delivery = await tx.session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.account_id == account_id,
        )
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery


async def attempts_of(tx: Tx, *, delivery_id: int) -> list[WebhookAttempt]:
    rows = await tx.session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.id)
    )
    return list(rows)


async def resend(tx: Tx, *, account_id: int, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    """Queues a delivery again, due now, with the same ``msg_id`` (the receiver can tell
    it is the same event) and a fresh retry schedule; its attempts so far are kept."""
    endpoint = await get_endpoint(tx, account_id=account_id, endpoint_id=endpoint_id)
    delivery = await get_delivery(
        tx, account_id=account_id, endpoint_id=endpoint_id, delivery_id=delivery_id
    )
    _refuse_disabled(endpoint)
    if delivery.status == "delivering":
        raise Conflict("It is being delivered right now.", code="delivery_in_progress")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.lease_until = None
    delivery.finished_at = None
    await tx.session.flush()
    return delivery


# --- the worker's side -------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    # Its ``attempts`` once claimed: the outcome is recorded only if it is still so (a
    # worker whose lease ran out must not overwrite the next one's result).
    attempts: int
    url: str
    secret_sealed: str
    msg_id: str
    payload: dict[str, Any]


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        WebhookEndpoint.enabled.is_(True),
        or_(
            (WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= now),
            (WebhookDelivery.status == "delivering") & (WebhookDelivery.lease_until < now),
        ),
    )


async def any_due(tx: Tx, *, now: datetime) -> bool:
    """Whether ``claim`` would find anything: asked first in a read-only transaction, so
    that an idle worker's polls do not take SQLite's one writer's turn."""
    found = await tx.session.scalar(
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(_due(now))
        .limit(1)
    )
    return found is not None


async def claim(tx: Tx, *, now: datetime, limit: int) -> list[Claimed]:
    """Due deliveries of enabled endpoints, leased to the caller until ``now + LEASE``."""
    stmt = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(_due(now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if tx.dialect == "postgresql":
        # Several workers poll at once without taking the same rows.
        stmt = stmt.with_for_update(of=WebhookDelivery, skip_locked=True)
    claimed = []
    for delivery, endpoint in (await tx.session.execute(stmt)).tuples():
        delivery.status = "delivering"
        delivery.attempts += 1
        delivery.lease_until = now + LEASE
        claimed.append(
            Claimed(
                delivery_id=delivery.id,
                endpoint_id=endpoint.id,
                attempts=delivery.attempts,
                url=endpoint.url,
                secret_sealed=endpoint.secret_sealed,
                msg_id=delivery.msg_id,
                payload=dict(delivery.payload),
            )
        )
    await tx.session.flush()
    return claimed


@dataclass(frozen=True)
class Outcome:
    at: datetime
    status_code: int | None
    latency_ms: int
    response: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def record_attempt(tx: Tx, *, job: Claimed, outcome: Outcome, now: datetime) -> str | None:
    """Records the attempt and moves the delivery on: succeeded, due again by
    ``RETRY_SCHEDULE``, or failed (which may disable the endpoint). Returns the new
    status, or None when the row moved on without this worker."""
    delivery = await tx.session.get(
        WebhookDelivery, job.delivery_id, with_for_update=tx.dialect == "postgresql"
    )
    if delivery is None or delivery.status != "delivering" or delivery.attempts != job.attempts:
        return None
    tx.session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            at=outcome.at,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            response=_text(outcome.response),
            error=_text(outcome.error),
        )
    )
    delivery.lease_until = None
    # Locked, so that two workers finishing deliveries of one endpoint both count.
    endpoint = await tx.session.get(
        WebhookEndpoint, delivery.endpoint_id, with_for_update=tx.dialect == "postgresql"
    )
    if outcome.succeeded:
        delivery.status = "succeeded"
        delivery.finished_at = now
        if endpoint is not None and endpoint.failures:
            endpoint.failures = 0
    elif delivery.attempts < len(RETRY_SCHEDULE):
        delivery.status = "pending"
        delivery.next_attempt_at = now + RETRY_SCHEDULE[delivery.attempts]
    else:
        delivery.status = "failed"
        delivery.finished_at = now
        if endpoint is not None:
            _count_failure(endpoint, outcome, now=now)
    await tx.session.flush()
    return delivery.status


def _text(value: str | None) -> str | None:
    # A receiver's answer may hold anything; PostgreSQL refuses NUL in text, and a row
    # that cannot be recorded would be sent again after every lease.
    return None if value is None else value.replace("\x00", "\ufffd")[:EXCERPT]


def _count_failure(endpoint: WebhookEndpoint, outcome: Outcome, *, now: datetime) -> None:
    endpoint.failures += 1
    if endpoint.failures < FAILURES_TO_DISABLE or not endpoint.enabled:
        return
    last = outcome.error or f"HTTP {outcome.status_code}"
    endpoint.enabled = False
    endpoint.disabled_reason = (
        f"Disabled on {now:%Y-%m-%d %H:%M} UTC: {endpoint.failures} deliveries in a row "
        f"failed every attempt over three days (last: {last})."
    )[:500]
    endpoint.updated_at = now
    log.warning(
        "webhooks: endpoint %s of account %s disabled: %s",
        endpoint.id,
        endpoint.account_id,
        endpoint.disabled_reason,
    )


async def prune(tx: Tx, *, before: datetime) -> int:
    """Deletes deliveries finished before ``before`` (their attempts go with them)."""
    old = select(WebhookDelivery.id).where(
        WebhookDelivery.status.in_(("succeeded", "failed")),
        WebhookDelivery.finished_at < before,
    )
    ids = list(await tx.session.scalars(old.limit(5000)))
    if not ids:
        return 0
    await tx.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
    await tx.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    return len(ids)
