"""A text whose delivery callback was lost (an outage, a killed process) does not stay
"sent" forever: after ``status_check_after_seconds`` the worker asks Twilio or Telnyx where
it is and applies the answer as the callback would have."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from parlour.config import Settings
from parlour.db.tx import transaction
from parlour.outbox import service as outbox_service
from parlour.outbox.models import OutboxItem
from parlour.runtime import Runtime
from tests.channels.sms.conftest import PUBLIC_URL, Twilio, contact_phone, pump_callbacks
from tests.channels.sms.test_telnyx import connect as connect_telnyx
from tests.channels.sms.test_twilio_outbound import message_when, send, start_thread
from tests.conftest import Tenant, wait_for
from tests.fakes.telnyx import FakeTelnyx
from tests.fakes.twilio import FakeTwilio, Outcome, new_number

STALE_AFTER = 0.2


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio, fake_telnyx: FakeTelnyx) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url=PUBLIC_URL,
        run_worker=True,
        worker_poll_seconds=0.05,
        status_check_after_seconds=STALE_AFTER,
        twilio_api_base=fake_twilio.base_url,
        telnyx_api_base=fake_telnyx.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )


def lookups(fake: FakeTwilio, sid: str) -> int:
    return sum(
        1 for method, path in fake.requests if method == "GET" and path.endswith(sid + ".json")
    )


async def test_a_text_whose_callback_was_lost_is_looked_up_at_twilio(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.lose_callbacks = True
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Lost receipt")).json()["id"]

    await message_when(client, tenant, conv_id, msg_id, "delivered")
    [at_twilio] = fake_twilio.sent_to(phone)
    assert lookups(fake_twilio, at_twilio.sid) == 1


async def test_a_failure_found_by_looking_up_is_applied_as_its_callback_would_be(
    client: httpx.AsyncClient, tenant: Tenant, twilio: Twilio, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.lose_callbacks = True
    phone = new_number()
    fake_twilio.outcomes[phone] = Outcome(final="undelivered", error_code=21610)
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "STOPped")).json()["id"]

    m = await message_when(client, tenant, conv_id, msg_id, "failed")
    assert m["error_code"] == "21610"
    # The carrier's opt-out is recorded, as when the callback says so.
    assert (await contact_phone(client, tenant, phone))["sms_opt_out"] is True


async def test_a_callback_that_came_in_time_spares_the_question(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
) -> None:
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "On time")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    assert set(await pump_callbacks(client, fake_twilio)) == {204}
    await message_when(client, tenant, conv_id, msg_id, "delivered")

    async def settled() -> bool:
        return await outbox_state(runtime, msg_id) == "done"

    await wait_for(settled)
    [at_twilio] = fake_twilio.sent_to(phone)
    assert lookups(fake_twilio, at_twilio.sid) == 0


async def outbox_state(rt: Runtime, message_id: int) -> str | None:
    async with transaction(rt.db, rt.hub, write=False) as tx:
        state: str | None = await tx.session.scalar(
            select(OutboxItem.state).where(OutboxItem.message_id == message_id)
        )
        return state


async def test_a_text_with_no_final_status_is_asked_about_less_often_then_not_at_all(
    client: httpx.AsyncClient,
    tenant: Tenant,
    twilio: Twilio,
    fake_twilio: FakeTwilio,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_service, "STATUS_CHECKS", 3)
    fake_twilio.send_callbacks = False  # Twilio itself never hears from the carrier
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, twilio.number_id, "Limbo")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")

    async def given_up() -> bool:
        return await outbox_state(runtime, msg_id) == "done"

    # Asked after 0.2 s, then 0.4 s and 0.8 s later: three questions, then no more.
    await wait_for(given_up, within=5)
    await asyncio.sleep(0.5)
    [at_twilio] = fake_twilio.sent_to(phone)
    assert lookups(fake_twilio, at_twilio.sid) == 3
    m = await message_when(client, tenant, conv_id, msg_id, "sent")
    assert m["error_code"] is None


async def test_a_text_whose_webhook_was_lost_is_looked_up_at_telnyx(
    client: httpx.AsyncClient, tenant: Tenant, fake_telnyx: FakeTelnyx
) -> None:
    _, number_id = await connect_telnyx(client, tenant, fake_telnyx)
    phone = new_number()
    conv_id, _ = await start_thread(client, tenant, phone)
    msg_id = (await send(client, tenant, conv_id, number_id, "Via Telnyx")).json()["id"]
    await message_when(client, tenant, conv_id, msg_id, "sent")
    # The carrier delivered it; the message.finalized webhook never arrived.
    [sent] = [s for s in fake_telnyx.sent if s.to == phone]
    sent.status = "delivered"

    await message_when(client, tenant, conv_id, msg_id, "delivered")
    assert fake_telnyx.gets >= 1
