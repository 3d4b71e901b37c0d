"""`kill -9` of a real `parlour serve` while a run waits: its timer is a row, so after a
restart that spanned the due time the step fires within seconds, and once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from parlour.contacts import service as contacts_service
from parlour.contacts.schemas import ContactIn, PhoneIn
from parlour.conversations import thread
from parlour.db.base import utcnow
from parlour.db.tx import transaction
from parlour.workflows import service
from parlour.workflows.models import WorkflowRun
from parlour.workflows.schemas import WorkflowIn
from tests.channels.sms.test_crash import Server
from tests.channels.webchat.conftest import site_of
from tests.conftest import Tenant, make_tenant
from tests.fakes.twilio import FakeTwilio, new_number
from tests.outbox.test_kill_serve import prepare, runtime

WAIT_MINUTES = 0.05  # 3 s


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    s = Server(database_url, "http://127.0.0.1:9")  # no SMS here: web chat only
    yield s
    s.stop()


async def test_a_timer_that_fell_due_while_the_server_was_dead_fires_once_after(
    server: Server, database_url: str
) -> None:
    server.start()  # migrates the database
    async with runtime(database_url) as rt:
        tenant = await make_tenant(rt)
        site = await site_of(rt, tenant)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as c:
        made = await c.post(
            "/api/v1/workflows",
            json={
                "name": "Order status",
                "trigger": {"type": "message_received", "keywords": ["order"]},
                "steps": [
                    {"type": "wait", "minutes": WAIT_MINUTES},
                    {"type": "send_message", "body": "Your order left the roastery."},
                ],
            },
            headers=tenant.admin_headers,
        )
        assert made.status_code == 201, made.text
        visitor = await c.post(
            f"/widget/v1/{site.public_token}/visitors",
            json={"visitor_token": None, "identity": None},
            headers={"Origin": "https://shop.example"},
        )
        token = visitor.json()["visitor_token"]
        said = await c.post(
            "/widget/v1/messages",
            json={"body": "Where is my order?"},
            headers={"Authorization": f"Bearer {token}", "Origin": "https://shop.example"},
        )
        assert said.status_code == 201, said.text
        conversation_id = said.json().get("conversation_id")

        async def waiting() -> bool:
            runs = await c.get(
                f"/api/v1/workflows/{made.json()['id']}/runs", headers=tenant.admin_headers
            )
            return bool(runs.json()) and runs.json()[0]["status"] == "waiting"

        deadline = time.monotonic() + 5
        while not await waiting():
            assert time.monotonic() < deadline, "the run did not start"
            await asyncio.sleep(0.05)
    server.kill()
    await asyncio.sleep(WAIT_MINUTES * 60 + 1)  # the timer falls due while it is dead
    server.start()
    restarted = time.monotonic()
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as c:
        threads = await c.get("/api/v1/conversations", headers=tenant.agent_headers)
        (thread,) = threads.json()["items"]
        assert conversation_id in (None, thread["id"])

        async def bot_messages() -> list[dict[str, object]]:
            page = await c.get(
                f"/api/v1/conversations/{thread['id']}/messages", headers=tenant.agent_headers
            )
            return [m for m in page.json()["items"] if m["sender"]["type"] == "bot"]

        while not await bot_messages():
            assert time.monotonic() - restarted < 10, "the timer did not fire after the restart"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)
        (bot,) = await bot_messages()
        assert bot["body"] == "Your order left the roastery."
        runs = await c.get(
            f"/api/v1/workflows/{made.json()['id']}/runs", headers=tenant.admin_headers
        )
        assert [r["status"] for r in runs.json()] == ["completed"]


RUNS = 200


async def _due_runs(database_url: str, tenant: Tenant, number_id: int) -> int:
    """200 threads, each with a run of one workflow whose timer is due now: text, wait 2 s,
    text again. Arranged as a "no reply" timer leaves them: rows, waiting, due."""
    async with runtime(database_url) as rt, transaction(rt.db, rt.hub) as tx:
        body = WorkflowIn.model_validate(
            {
                "name": "Shipping",
                "trigger": {"type": "no_agent_reply", "minutes": 1},
                "steps": [
                    {"type": "send_message", "channel": "sms", "sender_id": number_id,
                     "body": "Your order shipped."},
                    {"type": "wait", "minutes": 2 / 60},
                    {"type": "send_message", "channel": "sms", "sender_id": number_id,
                     "body": "It arrives tomorrow."},
                ],
            }
        )  # fmt: skip
        workflow = await service.add_workflow(
            tx, account_id=tenant.account_id, user_id=tenant.admin_id, body=body
        )
        now = utcnow()
        for i in range(RUNS):
            contact = await contacts_service.create_contact(
                tx,
                account_id=tenant.account_id,
                data=ContactIn(name=f"Customer {i}", phones=[PhoneIn(number=new_number())]),
                region="US",
            )
            conv = await thread.get_or_open(tx, account_id=tenant.account_id, contact_id=contact.id)
            tx.session.add(
                WorkflowRun(
                    account_id=tenant.account_id,
                    workflow_id=workflow.id,
                    conversation_id=conv.id,
                    contact_id=contact.id,
                    cause=f"test:{i}",
                    status="waiting",
                    step=-1,
                    due_at=now,
                    context={"trigger": "no_agent_reply", "channel": "sms"},
                    log=[],
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        await tx.commit()
        return workflow.id


async def _run_states(database_url: str, workflow_id: int) -> Counter[str]:
    async with runtime(database_url) as rt, transaction(rt.db, rt.hub, write=False) as tx:
        rows = await tx.session.execute(
            select(WorkflowRun.status, func.count())
            .where(WorkflowRun.workflow_id == workflow_id)
            .group_by(WorkflowRun.status)
        )
        return Counter({status: n for status, n in rows.tuples()})


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    f = FakeTwilio().start()
    yield f
    f.stop()


async def test_killed_with_200_runs_due_every_step_runs_once_and_every_text_goes_once(
    database_url: str, twilio: FakeTwilio
) -> None:
    server = Server(database_url, twilio.base_url)
    try:
        server.start()
        tenant, number_id = await prepare(server, twilio, database_url)
        workflow_id = await _due_runs(database_url, tenant, number_id)
        # Killed mid-way: some runs sent their first text, some are waiting, some not begun.
        deadline = time.monotonic() + 30
        while len(twilio.messages) < RUNS // 2:
            assert time.monotonic() < deadline, "the engine never got that far"
            await asyncio.sleep(0.02)
        server.kill()
        assert len(twilio.messages) < 2 * RUNS
        server.start()
        restarted = time.monotonic()
        while (await _run_states(database_url, workflow_id)) != Counter({"completed": RUNS}):
            assert time.monotonic() - restarted < 60, await _run_states(database_url, workflow_id)
            await asyncio.sleep(0.25)
        # The steps are done; the outbox sends what they queued.
        while len(twilio.messages) < 2 * RUNS:
            assert time.monotonic() - restarted < 60, len(twilio.messages)
            await asyncio.sleep(0.25)
        await asyncio.sleep(1)
        sent = Counter((m.to, m.body) for m in twilio.messages)
        assert len(sent) == 2 * RUNS, len(sent)
        assert set(sent.values()) == {1}, [k for k, n in sent.items() if n > 1][:5]
    finally:
        server.stop()
