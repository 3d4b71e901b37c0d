"""Outgoing webhooks end to end: an admin subscribes a URL, what happens in the inbox
reaches a real HTTP receiver signed the Standard Webhooks way, failures are retried on
the schedule, recorded, re-sendable, and an endpoint that keeps failing is disabled."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from parlour.db.base import utcnow
from parlour.db.tx import transaction
from parlour.runtime import Runtime
from parlour.webhooks import service
from parlour.webhooks.service import FAILURES_TO_DISABLE, RETRY_SCHEDULE
from parlour.webhooks.worker import WebhookWorker
from tests.conftest import Tenant, wait_for
from tests.webhooks.conftest import Receiver, Tls


async def subscribe(
    client: httpx.AsyncClient, tenant: Tenant, url: str, **extra: Any
) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/webhooks", json={"url": url, **extra}, headers=tenant.admin_headers
    )
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


async def send_message(client: httpx.AsyncClient, tenant: Tenant, number: str) -> int:
    c = await client.post(
        "/api/v1/contacts",
        json={"name": "Webhook", "phones": [{"number": number}]},
        headers=tenant.admin_headers,
    )
    assert c.status_code == 201, c.text
    conv = await client.post(
        f"/api/v1/contacts/{c.json()['id']}/conversation", headers=tenant.admin_headers
    )
    msg = await client.post(
        f"/api/v1/conversations/{conv.json()['id']}/messages",
        json={"channel": "sms", "body": "hello hooks"},
        headers=tenant.admin_headers,
    )
    assert msg.status_code == 201, msg.text
    message_id: int = msg.json()["id"]
    return message_id


async def deliveries(
    client: httpx.AsyncClient, tenant: Tenant, endpoint_id: int
) -> list[dict[str, Any]]:
    resp = await client.get(
        f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=tenant.admin_headers
    )
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()
    return found


async def send_test(client: httpx.AsyncClient, tenant: Tenant, endpoint_id: int) -> int:
    resp = await client.post(f"/api/v1/webhooks/{endpoint_id}/test", headers=tenant.admin_headers)
    assert resp.status_code == 202, resp.text
    delivery_id: int = resp.json()["id"]
    return delivery_id


def later(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


def verified(secret: str, received: Any) -> Any:
    return Webhook(secret).verify(received.body, received.headers)


async def test_a_sent_message_reaches_the_receiver_signed(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url, description="CRM")
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    message_id = await send_message(client, tenant, "+16505550181")

    assert await WebhookWorker(runtime).run_once() >= 1

    payloads = [verified(secret, r) for r in receiver.received]
    by_type = {p["type"]: p for p in payloads}
    created = by_type["message.created"]
    assert created["data"]["message"]["id"] == message_id
    assert datetime.fromisoformat(created["timestamp"]).tzinfo is not None
    # A new contact is announced as such, not as an update.
    assert "contact.created" in by_type
    for r in receiver.received:
        assert r.headers["webhook-id"].startswith("msg_")
        assert r.headers["content-type"] == "application/json"
        assert r.path == "/hook"
    # Another secret does not verify: the signature is really over this body.
    other = Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    with pytest.raises(Exception, match="signature"):
        other.verify(receiver.received[0].body, receiver.received[0].headers)

    shown = await deliveries(client, tenant, endpoint["id"])
    assert {d["status"] for d in shown} == {"succeeded"}
    msg = next(d for d in shown if d["event_type"] == "message.created")
    assert msg["payload"] == created
    [attempt] = msg["attempts"]
    assert attempt["status_code"] == 200 and attempt["response"] == "thanks"
    assert attempt["latency_ms"] >= 0 and attempt["error"] is None
    # Newest first.
    assert [d["id"] for d in shown] == sorted((d["id"] for d in shown), reverse=True)

    # Nothing is sent twice: the next pass finds nothing new.
    before = len(receiver.received)
    await WebhookWorker(runtime).run_once(now=later(3600))
    assert len(receiver.received) == before


async def test_subscribed_types_only(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url, event_types=["message.created"])
    assert endpoint["event_types"] == ["message.created"]
    await send_message(client, tenant, "+16505550182")
    await WebhookWorker(runtime).run_once()
    assert [verified(endpoint["secret"], r)["type"] for r in receiver.received] == [
        "message.created"
    ]


async def test_a_failed_attempt_is_retried_with_the_same_webhook_id(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    receiver.answers = [500]
    await send_test(client, tenant, endpoint["id"])
    worker = WebhookWorker(runtime)

    await worker.run_once()
    assert len(receiver.received) == 1
    [delivery] = await deliveries(client, tenant, endpoint["id"])
    assert delivery["status"] == "pending"
    [failed] = delivery["attempts"]
    assert failed["status_code"] == 500
    assert failed["error"] == "HTTP 500"
    assert failed["response"].startswith("boom") and len(failed["response"]) == 500

    # Not due yet: the second attempt waits RETRY_SCHEDULE[1].
    await worker.run_once()
    assert len(receiver.received) == 1

    await worker.run_once(now=later(RETRY_SCHEDULE[1].total_seconds() + 1))
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["msg_id"]
    assert verified(endpoint["secret"], second)["type"] == "webhook.test"
    [delivery] = await deliveries(client, tenant, endpoint["id"])
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]

    # Re-sent from the UI: once more, with the same id, the history kept.
    resp = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/resend",
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "pending"
    await worker.run_once()
    assert len(receiver.received) == 3
    assert receiver.received[2].headers["webhook-id"] == delivery["msg_id"]
    verified(endpoint["secret"], receiver.received[2])
    [delivery] = await deliveries(client, tenant, endpoint["id"])
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200, 200]


async def test_a_receiver_that_does_not_answer_times_out(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    receiver.hang = True
    await send_test(client, tenant, endpoint["id"])
    await WebhookWorker(runtime, timeout=0.3).run_once()
    [delivery] = await deliveries(client, tenant, endpoint["id"])
    assert delivery["status"] == "pending"
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] is None
    assert "No answer within 0.3 s" in attempt["error"]


async def test_redirects_are_not_followed(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    receiver.redirect_to = receiver.url + "/elsewhere"
    await send_test(client, tenant, endpoint["id"])
    await WebhookWorker(runtime).run_once()
    assert len(receiver.received) == 1
    [delivery] = await deliveries(client, tenant, endpoint["id"])
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["status_code"] == 302
    assert "redirects are not followed" in delivery["attempts"][0]["error"]


async def test_an_endpoint_that_keeps_failing_is_disabled(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    receiver.always = 503
    for _ in range(FAILURES_TO_DISABLE):
        await send_test(client, tenant, endpoint["id"])
    worker = WebhookWorker(runtime)
    gap = max(RETRY_SCHEDULE).total_seconds() + 1
    for n in range(len(RETRY_SCHEDULE)):
        await worker.run_once(now=later(n * gap))
    assert len(receiver.received) == FAILURES_TO_DISABLE * len(RETRY_SCHEDULE)
    # The last attempt came about three days after the first.
    assert timedelta(days=3) < sum(RETRY_SCHEDULE, timedelta()) < timedelta(days=3.5)

    shown = (
        await client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=tenant.admin_headers)
    ).json()
    assert shown["enabled"] is False
    assert shown["failures"] == FAILURES_TO_DISABLE
    assert "failed every attempt" in shown["disabled_reason"]
    found = await deliveries(client, tenant, endpoint["id"])
    assert {d["status"] for d in found} == {"failed"}
    assert all(len(d["attempts"]) == len(RETRY_SCHEDULE) for d in found)

    # Disabled: nothing more is queued or sent, and the UI says why a test cannot go.
    await send_message(client, tenant, "+16505550183")
    await worker.run_once(now=later(len(RETRY_SCHEDULE) * gap))
    assert len(receiver.received) == FAILURES_TO_DISABLE * len(RETRY_SCHEDULE)
    resp = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/test", headers=tenant.admin_headers
    )
    assert resp.status_code == 409 and resp.json()["code"] == "endpoint_disabled"

    # Enabled again by an admin: a clean slate.
    resp = await client.patch(
        f"/api/v1/webhooks/{endpoint['id']}", json={"enabled": True}, headers=tenant.admin_headers
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["failures"] == 0 and resp.json()["disabled_reason"] is None
    receiver.always = None
    await send_test(client, tenant, endpoint["id"])
    await worker.run_once(now=later(len(RETRY_SCHEDULE) * gap))
    assert verified(endpoint["secret"], receiver.received[-1])["type"] == "webhook.test"


async def test_events_from_before_the_endpoint_are_not_sent(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    await send_message(client, tenant, "+16505550184")
    endpoint = await subscribe(client, tenant, receiver.url)
    await WebhookWorker(runtime).run_once()
    assert receiver.received == []
    assert await deliveries(client, tenant, endpoint["id"]) == []

    await send_message(client, tenant, "+16505550185")
    await WebhookWorker(runtime).run_once()
    assert "message.created" in {verified(endpoint["secret"], r)["type"] for r in receiver.received}


async def test_another_accounts_events_are_not_sent(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: Tenant,
    other_tenant: Tenant,
    receiver: Receiver,
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    await send_message(client, other_tenant, "+16505550186")
    await WebhookWorker(runtime).run_once()
    assert receiver.received == []
    resp = await client.get(
        f"/api/v1/webhooks/{endpoint['id']}", headers=other_tenant.admin_headers
    )
    assert resp.status_code == 404


async def test_a_host_name_is_resolved_and_sent_as_the_host(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    url = receiver.url.replace("127.0.0.1", "localhost")
    endpoint = await subscribe(client, tenant, url)
    await send_test(client, tenant, endpoint["id"])
    await WebhookWorker(runtime).run_once()
    [got] = receiver.received
    # Connected to the checked address, with the name the admin gave in Host.
    assert got.headers["host"] == url.removeprefix("http://").removesuffix("/hook")
    verified(endpoint["secret"], got)


async def test_a_delivery_left_by_a_dead_worker_is_sent_after_its_lease(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    delivery_id = await send_test(client, tenant, endpoint["id"])
    # A worker claims it, then dies before sending.
    async with transaction(runtime.db, runtime.hub) as tx:
        claimed = await service.claim(tx, now=utcnow(), limit=100)
        await tx.commit()
    assert delivery_id in {c.delivery_id for c in claimed}
    [shown] = await deliveries(client, tenant, endpoint["id"])
    assert shown["status"] == "delivering"

    worker = WebhookWorker(runtime)
    await worker.run_once()
    assert receiver.received == []
    await worker.run_once(now=later(service.LEASE.total_seconds() + 1))
    [got] = receiver.received
    assert got.headers["webhook-id"] == shown["msg_id"]
    [shown] = await deliveries(client, tenant, endpoint["id"])
    assert shown["status"] == "succeeded"


async def test_workers_side_by_side_send_each_delivery_once(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    for n in range(3):
        await send_message(client, tenant, f"+165055502{n:02d}")
    await asyncio.gather(*(WebhookWorker(runtime).run_once() for _ in range(4)))
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids))
    shown = await deliveries(client, tenant, endpoint["id"])
    assert sorted(d["msg_id"] for d in shown) == sorted(ids)
    assert {d["status"] for d in shown} == {"succeeded"}
    assert sum(d["event_type"] == "message.created" for d in shown) == 3


async def test_finished_deliveries_are_pruned_after_a_month(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    await send_test(client, tenant, endpoint["id"])
    receiver.answers = [500]
    await send_test(client, tenant, endpoint["id"])
    await WebhookWorker(runtime).run_once()
    assert sorted(d["status"] for d in await deliveries(client, tenant, endpoint["id"])) == [
        "pending",
        "succeeded",
    ]
    async with transaction(runtime.db, runtime.hub) as tx:
        await service.prune(tx, before=utcnow() - service.KEEP_FINISHED)
        await tx.commit()
    assert len(await deliveries(client, tenant, endpoint["id"])) == 2
    # A month on: the finished one is gone, the one still retrying stays.
    async with transaction(runtime.db, runtime.hub) as tx:
        assert await service.prune(tx, before=later(1)) >= 1
        await tx.commit()
    [left] = await deliveries(client, tenant, endpoint["id"])
    assert left["status"] == "pending" and len(left["attempts"]) == 1


async def test_https_connects_to_the_checked_address_and_verifies_the_name(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: Tenant,
    tls_receiver: Receiver,
    tls: Tls,
) -> None:
    """The certificate names "localhost" only: the pinned connection to 127.0.0.1 passes
    only because the worker still asks for (SNI) and verifies the URL's name."""
    endpoint = await subscribe(client, tenant, tls_receiver.url)
    await send_test(client, tenant, endpoint["id"])
    await WebhookWorker(runtime, verify=tls.client).run_once()
    [got] = tls_receiver.received
    assert verified(endpoint["secret"], got)["type"] == "webhook.test"
    assert got.headers["host"].startswith("localhost:")

    # Not trusted by the system's certificates: refused, not sent.
    await send_test(client, tenant, endpoint["id"])
    await WebhookWorker(runtime).run_once()
    assert len(tls_receiver.received) == 1
    latest = (await deliveries(client, tenant, endpoint["id"]))[0]
    assert latest["status"] == "pending"
    assert "CERTIFICATE_VERIFY_FAILED" in latest["attempts"][0]["error"]


async def test_a_slow_receiver_does_not_hold_up_shutdown(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    receiver.hang = True
    await send_test(client, tenant, endpoint["id"])
    stop = asyncio.Event()
    running = asyncio.create_task(WebhookWorker(runtime).run(stop))

    async def sent() -> bool:
        return bool(receiver.received)

    await wait_for(sent)
    stop.set()
    # Well before the request's own 10 s timeout.
    await asyncio.wait_for(running, timeout=4)
    [shown] = await deliveries(client, tenant, endpoint["id"])
    assert shown["status"] == "delivering" and shown["attempts"] == []


async def test_any_answer_is_recorded(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url)
    receiver.answers = [400]
    receiver.body = b"bad\x00request \xff\xfe" + bytes(range(256)) * 10
    await send_test(client, tenant, endpoint["id"])
    await WebhookWorker(runtime).run_once()
    [shown] = await deliveries(client, tenant, endpoint["id"])
    [attempt] = shown["attempts"]
    assert attempt["status_code"] == 400
    assert attempt["response"].startswith("bad\ufffdrequest")
    assert len(attempt["response"]) == 500


async def test_a_contacts_life_in_events(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    types = ["contact.created", "contact.updated", "contact.deleted"]
    endpoint = await subscribe(client, tenant, receiver.url, event_types=types)
    h = tenant.admin_headers
    contact = (await client.post("/api/v1/contacts", json={"name": "Ana"}, headers=h)).json()
    resp = await client.patch(
        f"/api/v1/contacts/{contact['id']}", json={"name": "Ana B"}, headers=h
    )
    assert resp.status_code == 200, resp.text
    resp = await client.delete(f"/api/v1/contacts/{contact['id']}", headers=h)
    assert resp.status_code in (200, 204), resp.text
    await WebhookWorker(runtime).run_once()
    payloads = sorted(
        (verified(endpoint["secret"], r) for r in receiver.received),
        key=lambda p: str(p["timestamp"]),
    )
    assert [p["type"] for p in payloads] == types
