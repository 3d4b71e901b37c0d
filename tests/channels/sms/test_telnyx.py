"""Telnyx, the second provider behind the same protocol: Ed25519-signed webhooks, and sends
with an idempotency key so that a retry after a crash sends once."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from parlour.channels.sms import telnyx
from parlour.db.base import utcnow
from parlour.db.tx import transaction
from parlour.outbox.models import OutboxItem
from parlour.runtime import Runtime
from tests.channels.sms.conftest import contact_phone, thread_of
from tests.channels.sms.test_twilio_outbound import message_when, send, start_thread
from tests.conftest import Tenant, wait_for
from tests.fakes.telnyx import FakeTelnyx, inbound_event, status_event
from tests.fakes.twilio import new_number


def test_signature_check() -> None:
    fake = FakeTelnyx()
    body = b'{"data": {}}'
    headers = fake.sign(body)
    sig, ts = headers["telnyx-signature-ed25519"], headers["telnyx-timestamp"]
    ok = telnyx.signature_valid(public_key=fake.public_key, body=body, signature=sig, timestamp=ts)
    assert ok
    assert not telnyx.signature_valid(
        public_key=fake.public_key, body=body + b" ", signature=sig, timestamp=ts
    )
    assert not telnyx.signature_valid(
        public_key=fake.public_key, body=body, signature=sig, timestamp=str(int(ts) + 1)
    )
    other = FakeTelnyx()
    assert not telnyx.signature_valid(
        public_key=other.public_key, body=body, signature=sig, timestamp=ts
    )
    old = fake.sign(body, timestamp=int(time.time()) - 301)
    assert not telnyx.signature_valid(
        public_key=fake.public_key,
        body=body,
        signature=old["telnyx-signature-ed25519"],
        timestamp=old["telnyx-timestamp"],
    )
    assert not telnyx.signature_valid(
        public_key=fake.public_key, body=body, signature="%%%", timestamp=ts
    )


async def connect(client: httpx.AsyncClient, tenant: Tenant, fake: FakeTelnyx) -> tuple[str, int]:
    r = await client.put(
        "/api/v1/sms/providers/telnyx",
        json={"api_key": fake.api_key, "public_key": fake.public_key},
        headers=tenant.admin_headers,
    )
    assert r.status_code == 200, r.text
    number = new_number()
    added = await client.post(
        "/api/v1/phone-numbers",
        json={"number": number, "provider": "telnyx", "label": "Telnyx line"},
        headers=tenant.admin_headers,
    )
    assert added.status_code == 201
    return number, added.json()["id"]


async def post_event(
    client: httpx.AsyncClient, fake: FakeTelnyx, event: dict[str, Any], query: str = ""
) -> httpx.Response:
    body = json.dumps(event).encode()
    return await client.post(f"/webhooks/telnyx{query}", content=body, headers=fake.sign(body))


async def test_connecting_checks_the_key_and_the_public_key(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx
) -> None:
    bad_key = await client.put(
        "/api/v1/sms/providers/telnyx",
        json={"api_key": "KEYwrong", "public_key": fake_telnyx.public_key},
        headers=tenant.admin_headers,
    )
    assert (bad_key.status_code, bad_key.json()["code"]) == (422, "invalid_credentials")
    bad_pub = await client.put(
        "/api/v1/sms/providers/telnyx",
        json={"api_key": fake_telnyx.api_key, "public_key": "x" * 44},
        headers=tenant.admin_headers,
    )
    assert (bad_pub.status_code, bad_pub.json()["code"]) == (422, "invalid_public_key")
    listed = await client.get("/api/v1/sms/providers", headers=tenant.admin_headers)
    assert listed.json() == []


async def test_an_inbound_telnyx_message_lands_in_the_thread_and_forgeries_do_not(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx
) -> None:
    number, number_id = await connect(client, tenant, fake_telnyx)
    sender = new_number()
    event = inbound_event(from_=sender, to=number, text="Bonjour")
    body = json.dumps(event).encode()

    forged = FakeTelnyx()  # another key pair
    r = await client.post("/webhooks/telnyx", content=body, headers=forged.sign(body))
    assert (r.status_code, r.json()["code"]) == (403, "invalid_signature")
    stale = fake_telnyx.sign(body, timestamp=int(time.time()) - 600)
    r = await client.post("/webhooks/telnyx", content=body, headers=stale)
    assert r.status_code == 403
    r = await client.post("/webhooks/telnyx", content=body)
    assert (r.status_code, r.json()["code"]) == (403, "missing_signature")
    assert await thread_of(client, tenant, sender) == []

    assert (await post_event(client, fake_telnyx, event)).status_code == 204
    assert (await post_event(client, fake_telnyx, event)).status_code == 204  # a retry
    thread = await thread_of(client, tenant, sender)
    assert [(m["body"], m["to_address"], m["phone_number_id"]) for m in thread] == [
        ("Bonjour", number, number_id)
    ]

    stop = inbound_event(from_=sender, to=number, text="STOP")
    assert (await post_event(client, fake_telnyx, stop)).status_code == 204
    assert (await contact_phone(client, tenant, sender))["sms_opt_out"] is True


async def test_telnyx_mms_media_is_stored(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx
) -> None:
    number, _ = await connect(client, tenant, fake_telnyx)
    sender = new_number()
    png = b"\x89PNG\r\n\x1a\n" + b"pixels" * 50
    url = fake_telnyx.add_media(png, "image/png")
    event = inbound_event(
        from_=sender,
        to=number,
        text="look",
        media=[{"url": url, "content_type": "image/png", "size": len(png)}],
    )
    assert (await post_event(client, fake_telnyx, event)).status_code == 204

    async def stored() -> Any:
        thread = await thread_of(client, tenant, sender)
        atts = thread[0]["attachments"]
        return atts if atts[0]["url"].startswith("/api/v1/") else None

    atts = await wait_for(stored, within=10)
    got = await client.get(atts[0]["url"], headers=tenant.agent_headers)
    assert got.content == png


async def test_sending_through_telnyx_with_an_idempotency_key_and_its_statuses(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx
) -> None:
    number, number_id = await connect(client, tenant, fake_telnyx)
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, number_id, "Via Telnyx")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    [sent] = fake_telnyx.sent
    assert (sent.from_, sent.to, sent.text) == (number, phone, "Via Telnyx")
    assert sent.idempotency_key == f"msg-{msg_id}"
    assert sent.webhook_url == f"http://test/webhooks/telnyx?message_id={msg_id}"

    fin = status_event(sent, kind="message.finalized", status="delivered")
    assert (await post_event(client, fake_telnyx, fin, f"?message_id={msg_id}")).status_code == 204
    await message_when(client, tenant, conv_id, msg_id, "delivered")


async def test_a_forged_telnyx_status_cannot_tell_which_message_ids_exist(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx
) -> None:
    _, number_id = await connect(client, tenant, fake_telnyx)
    conv_id, _ = await start_thread(client, tenant, new_number())
    msg_id = (await send(client, tenant, conv_id, number_id, "Via Telnyx")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    [sent] = fake_telnyx.sent
    body = json.dumps(status_event(sent, kind="message.finalized", status="delivered")).encode()

    async def answers(message_id: int) -> list[tuple[int, str]]:
        path = f"/webhooks/telnyx?message_id={message_id}"
        tries = [
            await client.post(path, content=body),
            await client.post(path, content=body, headers=FakeTelnyx().sign(body)),
        ]
        return [(r.status_code, r.json()["code"]) for r in tries]

    refused = [(403, "missing_signature"), (403, "invalid_signature")]
    assert await answers(msg_id) == refused
    assert await answers(msg_id + 100000) == refused
    await message_when(client, tenant, conv_id, msg_id, "sent")


async def test_a_telnyx_opt_out_failure_marks_the_phone(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx
) -> None:
    number, number_id = await connect(client, tenant, fake_telnyx)
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, number_id, "Hi")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    [sent] = fake_telnyx.sent
    fin = status_event(
        sent,
        kind="message.finalized",
        status="delivery_failed",
        errors=[{"code": "40300", "title": "Blocked due to STOP message", "detail": "STOP"}],
    )
    assert (await post_event(client, fake_telnyx, fin)).status_code == 204
    m = await message_when(client, tenant, conv_id, msg_id, "failed")
    assert m["error_code"] == "40300"
    assert "opted out" in m["error_message"]
    phone_out = await contact_phone(client, tenant, phone)
    assert (phone_out["sms_opt_out"], phone_out["sms_opt_out_number"]) == (True, number)


async def test_a_crash_mid_send_retries_with_the_same_key_and_telnyx_sends_once(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx, runtime: Runtime
) -> None:
    number, number_id = await connect(client, tenant, fake_telnyx)
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, number_id, "Once")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    # Replay what a restarted worker does with a row it finds "sending": send again.
    async with transaction(runtime.db, runtime.hub) as tx:
        await tx.session.execute(
            update(OutboxItem)
            .where(OutboxItem.message_id == msg_id)
            .values(state="sending", lease_until=utcnow() - timedelta(seconds=1))
        )
        await tx.commit()
    runtime.outbox_wakeup.set()

    async def resent() -> bool:
        return fake_telnyx.posts >= 2

    await wait_for(resent)
    assert [s.text for s in fake_telnyx.sent] == ["Once"]


@pytest.mark.parametrize("raw", [b"not json", b'{"data": {}}', b"[]"])
async def test_malformed_telnyx_webhooks_get_4xx(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx, raw: bytes
) -> None:
    await connect(client, tenant, fake_telnyx)
    r = await client.post("/webhooks/telnyx", content=raw, headers=fake_telnyx.sign(raw))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_webhook"


async def test_nothing_of_a_telnyx_body_is_read_before_its_signature(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx
) -> None:
    """JSON nested 100,000 deep with made-up signature headers answered 500: the body was
    parsed (for the number whose key checks the signature) before any check."""
    await connect(client, tenant, fake_telnyx)
    deep = b"[" * 100_000 + b"]" * 100_000
    forged = {"telnyx-signature-ed25519": "AAAA", "telnyx-timestamp": str(int(time.time()))}
    r = await client.post("/webhooks/telnyx", content=deep, headers=forged)
    assert (r.status_code, r.json()["code"]) == (403, "invalid_signature")
    r = await client.post("/webhooks/telnyx", content=deep, headers=FakeTelnyx().sign(deep))
    assert (r.status_code, r.json()["code"]) == (403, "invalid_signature")
    # Signed by the connected account (Telnyx would not, but a leaked key could): a 4xx.
    r = await client.post("/webhooks/telnyx", content=deep, headers=fake_telnyx.sign(deep))
    assert (r.status_code, r.json()["code"]) == (422, "invalid_webhook")
