"""SMTP has no idempotency key and a relay cannot be asked what it took: a send cut off
between "the relay accepted it" and "recorded" is failed as delivery_unknown, for a person
to check, and never sent a second time on its own."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from parlour.config import Settings
from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import transaction
from parlour.outbox.models import OutboxItem
from parlour.outbox.worker import OutboxWorker
from parlour.runtime import Runtime
from tests.channels.email.conftest import relay_mailbox
from tests.channels.email.test_smtp import email_thread, send_email, task_of
from tests.conftest import Tenant
from tests.fakes.smtp import FakeSmtp


@pytest.fixture
def settings(database_url: str) -> Settings:
    # No worker in the app: the test plays the worker that dies, then the one that recovers.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url="http://test",
        run_worker=False,
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_accepted_by_the_relay_but_not_recorded_is_not_sent_again(
    client: httpx.AsyncClient, tenant: Tenant, sink: FakeSmtp, runtime: Runtime
) -> None:
    box = await relay_mailbox(client, tenant, sink)
    conv_id, _ = await email_thread(client, tenant)
    sent = await send_email(client, tenant, conv_id, box["id"], subject="Once", body="Only once")
    # The worker marked the row "sending", the relay took the mail, and the process died.
    async with transaction(runtime.db, runtime.hub) as tx:
        await tx.session.execute(
            update(OutboxItem)
            .where(OutboxItem.message_id == sent["id"])
            .values(state="sending", attempts=1, lease_until=utcnow() - timedelta(seconds=1))
        )
        await tx.commit()
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        message = await tx.session.get(Message, sent["id"])
        assert message is not None
        out = await runtime.channels[message.channel].outgoing(tx, message=message)
    assert (out.idempotent, out.lookup) == (False, None)
    await out.send(f"msg-{sent['id']}")

    await OutboxWorker(runtime).run_once()
    assert len(sink.received) == 1
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        message = await tx.session.get(Message, sent["id"])
        assert message is not None
        assert (message.status, message.error_code) == ("failed", "delivery_unknown")
    assert (await task_of(client, tenant, sent["id"]))["status"] == "failed"


async def test_an_answer_lost_after_the_data_is_not_retried(
    client: httpx.AsyncClient, tenant: Tenant, sink: FakeSmtp, runtime: Runtime
) -> None:
    box = await relay_mailbox(client, tenant, sink)
    conv_id, _ = await email_thread(client, tenant)
    sink.drop_after_data = True
    sent = await send_email(client, tenant, conv_id, box["id"], subject="Once", body="Only once")

    await OutboxWorker(runtime).run_once()
    assert len(sink.received) == 1
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        message = await tx.session.get(Message, sent["id"])
        assert message is not None
        assert (message.status, message.error_code) == ("failed", "delivery_unknown")
