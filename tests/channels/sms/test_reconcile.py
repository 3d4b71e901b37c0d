"""Twilio takes no idempotency key: a send interrupted by a crash is looked up at Twilio
before it is retried, so the contact gets it exactly once."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from parlour.channels.registry import Providers
from parlour.config import Settings
from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import transaction
from parlour.outbox.models import OutboxItem
from parlour.outbox.worker import OutboxWorker
from parlour.runtime import Runtime
from tests.channels.sms.conftest import PUBLIC_URL, Twilio, pump_callbacks
from tests.channels.sms.test_twilio_outbound import send, start_thread
from tests.conftest import Tenant
from tests.fakes.telnyx import FakeTelnyx
from tests.fakes.twilio import FakeTwilio, new_number


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio, fake_telnyx: FakeTelnyx) -> Settings:
    # No worker in the app: each test plays the worker that dies, then the one that recovers.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url=PUBLIC_URL,
        run_worker=False,
        twilio_api_base=fake_twilio.base_url,
        telnyx_api_base=fake_telnyx.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )


async def die_while_sending(
    rt: Runtime, providers: Providers, message_id: int, *, reached_twilio: bool
) -> None:
    """Leaves the outbox row as a worker killed mid-send leaves it: "sending", its lease
    run out, nothing recorded — after (or before) Twilio accepted the message."""
    async with transaction(rt.db, rt.hub) as tx:
        await tx.session.execute(
            update(OutboxItem)
            .where(OutboxItem.message_id == message_id)
            .values(state="sending", attempts=1, lease_until=utcnow() - timedelta(seconds=1))
        )
        await tx.commit()
    if reached_twilio:
        async with transaction(rt.db, rt.hub, write=False) as tx:
            message = await tx.session.get(Message, message_id)
            assert message is not None
            # The provider call the worker would make (the same channel, the same values).
            out = await rt.channels[message.channel].outgoing(tx, message=message)
        await out.send(f"msg-{message_id}")


async def provider_id(rt: Runtime, message_id: int) -> tuple[str, str | None]:
    async with transaction(rt.db, rt.hub, write=False) as tx:
        row = (
            await tx.session.execute(
                select(Message.status, Message.provider_message_id).where(Message.id == message_id)
            )
        ).one()
        return row[0], row[1]


async def test_accepted_by_twilio_but_not_recorded_is_found_not_resent(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
    providers: Providers,
) -> None:
    fake_twilio.send_callbacks = False  # the callbacks were lost with the process
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Once only")).json()["id"]
    await die_while_sending(runtime, providers, msg_id, reached_twilio=True)

    await OutboxWorker(runtime).run_once()
    [at_twilio] = fake_twilio.sent_to(phone)
    assert await provider_id(runtime, msg_id) == ("sent", at_twilio.sid)


async def test_a_send_that_never_reached_twilio_goes_out_once(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
    providers: Providers,
) -> None:
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Lost?")).json()["id"]
    await die_while_sending(runtime, providers, msg_id, reached_twilio=False)

    await OutboxWorker(runtime).run_once()
    [at_twilio] = fake_twilio.sent_to(phone)
    assert at_twilio.body == "Lost?"
    assert await provider_id(runtime, msg_id) == ("sent", at_twilio.sid)


async def test_a_status_callback_that_arrived_first_settles_it_without_asking(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
    providers: Providers,
) -> None:
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Callback")).json()["id"]
    await die_while_sending(runtime, providers, msg_id, reached_twilio=True)
    # Twilio's "sent" and "delivered" reach the web process while the worker is down.
    assert await pump_callbacks(client, fake_twilio) == [204, 204]
    fake_twilio.requests.clear()

    await OutboxWorker(runtime).run_once()
    [at_twilio] = fake_twilio.sent_to(phone)
    assert await provider_id(runtime, msg_id) == ("delivered", at_twilio.sid)
    assert fake_twilio.requests == []  # nothing sent, nothing even looked up


async def test_an_earlier_identical_text_is_not_mistaken_for_the_lost_one(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
    providers: Providers,
) -> None:
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    first = (await send(client, tenant, conv_id, twilio.number_id, "OK")).json()["id"]
    await OutboxWorker(runtime).run_once()
    assert (await provider_id(runtime, first))[0] == "sent"

    second = (await send(client, tenant, conv_id, twilio.number_id, "OK")).json()["id"]
    await die_while_sending(runtime, providers, second, reached_twilio=False)
    await OutboxWorker(runtime).run_once()
    texts = fake_twilio.sent_to(phone)
    assert [m.body for m in texts] == ["OK", "OK"]
    assert [await provider_id(runtime, m) for m in (first, second)] == [
        ("sent", texts[0].sid),
        ("sent", texts[1].sid),
    ]
