"""Nothing is reported delivered that no provider accepted: a queued message whose sender
was deleted, or whose provider this server does not run, fails with a reason the agent can
read, and can be retried once fixed. The worker is woken only by commits that queue."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parlour.channels.email.console import ConsoleEmail
from parlour.channels.registry import Providers
from parlour.config import Settings
from parlour.outbox.worker import OutboxWorker
from parlour.runtime import Runtime
from tests.conftest import Tenant
from tests.outbox.test_worker import ScriptedSms


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The worker is run by hand, so that a message stays queued while the test acts.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url="http://test",
        run_worker=False,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def scripted() -> ScriptedSms:
    return ScriptedSms()


@pytest.fixture
def console_email() -> ConsoleEmail:
    return ConsoleEmail()


@pytest.fixture
def providers(scripted: ScriptedSms, console_email: ConsoleEmail) -> Providers:
    return Providers(sms={"console": scripted}, email={"console": console_email})


async def _thread(client: httpx.AsyncClient, tenant: Tenant, **contact: Any) -> int:
    c = await client.post("/api/v1/contacts", json=contact, headers=tenant.admin_headers)
    assert c.status_code == 201, c.text
    conv = await client.post(
        f"/api/v1/contacts/{c.json()['id']}/conversation", headers=tenant.admin_headers
    )
    conv_id: int = conv.json()["id"]
    return conv_id


async def _last(client: httpx.AsyncClient, tenant: Tenant, conv_id: int) -> Any:
    page = await client.get(
        f"/api/v1/conversations/{conv_id}/messages", headers=tenant.admin_headers
    )
    return page.json()["items"][-1]


async def test_an_sms_whose_number_was_deleted_fails_instead_of_going_out(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, scripted: ScriptedSms
) -> None:
    conv_id = await _thread(client, tenant, name="Gone", phones=[{"number": "+16505550901"}])
    sent = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "are you there?"},
        headers=tenant.admin_headers,
    )
    assert sent.status_code == 201, sent.text
    number_id = sent.json()["phone_number_id"]
    gone = await client.delete(f"/api/v1/phone-numbers/{number_id}", headers=tenant.admin_headers)
    assert gone.status_code == 204, gone.text

    await OutboxWorker(runtime).run_once()

    last = await _last(client, tenant, conv_id)
    assert (last["status"], last["error_code"]) == ("failed", "sender_deleted")
    assert "deleted" in last["error_message"]
    assert "+16505550901" not in scripted.attempts


async def test_an_sms_through_a_provider_this_server_lacks_fails_with_that_reason(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, scripted: ScriptedSms
) -> None:
    conv_id = await _thread(client, tenant, name="Elsewhere", phones=[{"number": "+16505550902"}])
    sent = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "hello"},
        headers=tenant.admin_headers,
    )
    assert sent.status_code == 201, sent.text
    # The number's provider has no implementation in this process (none is configured
    # for "twilio" in these providers): it used to go out through the console provider.
    from sqlalchemy import update

    from parlour.channels.sms.models import PhoneNumber
    from parlour.db.tx import transaction

    async with transaction(runtime.db, runtime.hub) as tx:
        await tx.session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.id == sent.json()["phone_number_id"])
            .values(provider="twilio")
        )
        await tx.commit()

    await OutboxWorker(runtime).run_once()

    last = await _last(client, tenant, conv_id)
    assert (last["status"], last["error_code"]) == ("failed", "provider_not_configured")
    assert "twilio" in last["error_message"]
    assert scripted.sent == []


async def test_a_retried_email_reopens_its_task(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, console_email: ConsoleEmail
) -> None:
    conv_id = await _thread(client, tenant, name="Mo", emails=[{"address": "mo@example.com"}])
    sent = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "subject": "Hello", "body": "Hi Mo"},
        headers=tenant.admin_headers,
    )
    assert sent.status_code == 201, sent.text
    mailbox_id = sent.json()["mailbox_id"]
    gone = await client.delete(f"/api/v1/mailboxes/{mailbox_id}", headers=tenant.admin_headers)
    assert gone.status_code == 204, gone.text
    await OutboxWorker(runtime).run_once()

    tasks = (await client.get("/api/v1/tasks", headers=tenant.admin_headers)).json()
    task = next(t for t in tasks if t["message_id"] == sent.json()["id"])
    assert task["status"] == "failed"
    assert console_email.sent == []

    retried = await client.post(
        f"/api/v1/conversations/{conv_id}/messages/{sent.json()['id']}/retry",
        headers=tenant.admin_headers,
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "queued"
    tasks = (await client.get("/api/v1/tasks", headers=tenant.admin_headers)).json()
    task = next(t for t in tasks if t["message_id"] == sent.json()["id"])
    assert (task["status"], task["error"]) == ("queued", None)


async def test_only_a_commit_that_queues_a_message_wakes_the_worker(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    runtime.outbox_wakeup.clear()
    made = await client.post(
        "/api/v1/contacts", json={"name": "Quiet"}, headers=tenant.admin_headers
    )
    assert made.status_code == 201
    assert not runtime.outbox_wakeup.is_set()

    conv_id = await _thread(client, tenant, name="Loud", phones=[{"number": "+16505550903"}])
    assert not runtime.outbox_wakeup.is_set()
    sent = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "wake up"},
        headers=tenant.admin_headers,
    )
    assert sent.status_code == 201
    assert runtime.outbox_wakeup.is_set()
