"""The outbox worker: retries transient failures, fails permanent ones with a reason, and
a failed message can be retried from the thread."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parlour.channels.registry import Providers
from parlour.channels.sms.provider import OutgoingSms
from parlour.outbox import service as outbox_service
from parlour.outbox.delivery import PermanentFailure, ProviderReceipt, TransientFailure
from tests.conftest import Tenant, wait_for


class ScriptedSms:
    """An SMS provider that fails as told for a recipient, then succeeds.

    Failures are per recipient because the database is shared with other tests, whose
    leftover queued messages this worker may deliver too."""

    idempotent = True

    def __init__(self) -> None:
        self.failures: dict[str, list[Exception]] = {}
        self.attempts: list[str] = []
        self.sent: list[OutgoingSms] = []

    async def send(self, msg: OutgoingSms, *, idempotency_key: str) -> ProviderReceipt:
        self.attempts.append(msg.to)
        if self.failures.get(msg.to):
            raise self.failures[msg.to].pop(0)
        self.sent.append(msg)
        return ProviderReceipt(provider_message_id=f"SM{msg.message_id}", status="sent")


@pytest.fixture
def scripted() -> ScriptedSms:
    return ScriptedSms()


@pytest.fixture
def providers(scripted: ScriptedSms) -> Providers:
    return Providers(sms={"console": scripted})


async def send(client: httpx.AsyncClient, tenant: Tenant, number: str) -> tuple[int, int]:
    c = await client.post(
        "/api/v1/contacts",
        json={"name": "Retry", "phones": [{"number": number}]},
        headers=tenant.admin_headers,
    )
    conv = await client.post(
        f"/api/v1/contacts/{c.json()['id']}/conversation", headers=tenant.admin_headers
    )
    conv_id = conv.json()["id"]
    msg = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "hello"},
        headers=tenant.admin_headers,
    )
    assert msg.status_code == 201
    return conv_id, msg.json()["id"]


async def status_of(client: httpx.AsyncClient, tenant: Tenant, conv_id: int) -> Any:
    thread = await client.get(
        f"/api/v1/conversations/{conv_id}/messages", headers=tenant.admin_headers
    )
    return thread.json()["items"][-1]


async def test_transient_failures_are_retried_until_sent(
    client: httpx.AsyncClient,
    tenant: Tenant,
    scripted: ScriptedSms,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Back-off is real; shorten it so the test does not wait seconds.
    from datetime import timedelta

    monkeypatch.setattr(outbox_service, "backoff", lambda attempts: timedelta(0))
    scripted.failures["+16505550120"] = [TransientFailure("timeout"), TransientFailure("429")]
    conv_id, msg_id = await send(client, tenant, "+16505550120")

    async def sent() -> Any:
        m = await status_of(client, tenant, conv_id)
        return m if m["status"] == "sent" else None

    m = await wait_for(sent)
    assert m["error_code"] is None
    assert scripted.attempts.count("+16505550120") == 3
    assert [s.message_id for s in scripted.sent if s.to == "+16505550120"] == [msg_id]


async def test_permanent_failure_shows_the_reason_and_can_be_retried(
    client: httpx.AsyncClient, tenant: Tenant, scripted: ScriptedSms
) -> None:
    scripted.failures["+16505550121"] = [
        PermanentFailure("The number is not a mobile.", code="21614")
    ]
    conv_id, msg_id = await send(client, tenant, "+16505550121")

    async def failed() -> Any:
        m = await status_of(client, tenant, conv_id)
        return m if m["status"] == "failed" else None

    m = await wait_for(failed)
    assert (m["error_code"], m["error_message"]) == ("21614", "The number is not a mobile.")
    assert [s for s in scripted.sent if s.to == "+16505550121"] == []

    retry = await client.post(
        f"/api/v1/conversations/{conv_id}/messages/{msg_id}/retry", headers=tenant.admin_headers
    )
    assert retry.status_code == 200
    assert retry.json()["status"] == "queued"

    async def sent() -> Any:
        m = await status_of(client, tenant, conv_id)
        return m if m["status"] == "sent" else None

    await wait_for(sent)
    assert [s.message_id for s in scripted.sent if s.to == "+16505550121"] == [msg_id]
    again = await client.post(
        f"/api/v1/conversations/{conv_id}/messages/{msg_id}/retry", headers=tenant.admin_headers
    )
    assert again.status_code == 422
    assert again.json()["code"] == "not_failed"
