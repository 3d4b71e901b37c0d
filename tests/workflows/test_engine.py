"""Workflows acting on real threads, on both databases: the engine runs in the app (as in
`parlour serve`), visitors write through the widget's API, agents through theirs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from parlour.runtime import Runtime
from parlour.workflows.engine import FAILURES_TO_PAUSE, WorkflowEngine
from parlour.workflows.triggers import RUNS_PER_HOUR
from tests.conftest import Tenant, wait_for
from tests.workflows.conftest import Visitor, make_workflow, runs_of, settled_runs


async def test_a_keyword_is_answered_as_the_bot_on_the_channel_it_came_on(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    workflow = await make_workflow(
        client,
        tenant,
        name="Opening hours",
        trigger={"type": "message_received", "keywords": ["hours", "open"]},
        steps=[{"type": "send_message", "body": "We open at 8, {{contact.first_name}}!"}],
    )
    visitor = await Visitor.arrive(client, runtime, tenant)
    await visitor.says("Hello there")
    await visitor.says("What are your HOURS on Sunday?")

    async def answered() -> list[dict[str, object]]:
        return [m for m in await visitor.bot_messages() if m["status"] == "sent"]

    (bot,) = await wait_for(answered)
    assert bot["channel"] == "webchat" and bot["direction"] == "out"
    sender = bot["sender"]
    assert (sender["type"], sender["name"], sender["workflow_id"]) == (
        "bot",
        "Opening hours",
        workflow["id"],
    )
    assert str(bot["body"]).startswith("We open at 8, Visitor")
    # The bot's own message is not "received": it starts nothing, so one answer only.
    (run,) = await settled_runs(client, tenant, workflow["id"], 1)
    assert run["status"] == "completed" and run["conversation_id"] == visitor.conversation_id
    assert sender["workflow_run_id"] == run["id"]
    assert [line["note"] for line in run["log"]] == [f"Sent message {bot['id']} on webchat"]
    await asyncio.sleep(1.0)
    assert len(await visitor.bot_messages()) == 1


async def test_no_agent_reply_in_time_assigns_round_robin_and_an_agents_reply_cancels(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    workflow = await make_workflow(
        client,
        tenant,
        name="Nobody answered",
        trigger={"type": "no_agent_reply", "minutes": 0.02},  # 1.2 s
        steps=[{"type": "assign", "round_robin": True}, {"type": "tag", "tag": "waiting"}],
    )
    waiting = await Visitor.arrive(client, runtime, tenant)
    await waiting.says("Is anyone there?")
    await waiting.says("Hello??")  # the first unanswered message set the one timer
    answered = await Visitor.arrive(client, runtime, tenant)
    await answered.says("Quick question")
    reply = await client.post(
        f"/api/v1/conversations/{answered.conversation_id}/messages",
        json={"channel": "webchat", "body": "Ask away!"},
        headers=tenant.agent_headers,
    )
    assert reply.status_code == 201, reply.text

    runs = await settled_runs(client, tenant, workflow["id"], 2)
    by_thread = {r["conversation_id"]: r for r in runs}
    assert len(runs) == 2, runs
    assert by_thread[answered.conversation_id]["status"] == "cancelled"
    assert "an agent replied" in by_thread[answered.conversation_id]["log"][-1]["note"]
    done = by_thread[waiting.conversation_id]
    assert done["status"] == "completed", done
    assert [line["note"] for line in done["log"]] == ["Assigned to Sam Agent", "Tagged waiting"]
    assert (await waiting.conversation())["assignee_id"] == tenant.agent_id
    assert (await answered.conversation())["assignee_id"] is None


async def test_a_wait_for_the_contacts_reply_ends_when_they_write(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await make_workflow(
        client,
        tenant,
        name="Follow-up",
        trigger={"type": "message_received", "keywords": ["refund"]},
        steps=[
            {"type": "send_message", "body": "Can you send your order number?"},
            {"type": "wait", "minutes": 600, "until": "contact_replies"},
            {"type": "send_message", "body": "Thanks, a person will look at it today."},
            {"type": "create_task", "title": "Check the refund"},
        ],
    )
    visitor = await Visitor.arrive(client, runtime, tenant)
    await visitor.says("I want a refund")

    async def bodies() -> list[object]:
        return [m["body"] for m in await visitor.bot_messages()]

    await wait_for(lambda: _has(bodies, "Can you send your order number?"))
    await asyncio.sleep(0.5)
    assert await bodies() == ["Can you send your order number?"]  # waiting, not on
    await visitor.says("It is 4711")
    await wait_for(lambda: _has(bodies, "Thanks, a person will look at it today."))
    tasks = await client.get("/api/v1/tasks?owner=any", headers=tenant.admin_headers)
    todo = [t for t in tasks.json() if t["kind"] == "todo"]
    assert [t["title"] for t in todo] == ["Check the refund"]
    # Nobody assigned: the to-do goes to the workflow's author.
    assert todo[0]["owner_id"] == tenant.admin_id


async def _has(get: object, body: str) -> bool:
    assert callable(get)
    return body in await get()


async def test_a_workflow_that_keeps_failing_is_paused_with_the_reason(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    workflow = await make_workflow(
        client,
        tenant,
        name="Text them",
        trigger={"type": "message_received"},
        steps=[{"type": "send_message", "channel": "sms", "body": "We got your message."}],
    )
    for i in range(FAILURES_TO_PAUSE):
        visitor = await Visitor.arrive(client, runtime, tenant)
        await visitor.says(f"Hello {i}")
    runs = await settled_runs(client, tenant, workflow["id"], FAILURES_TO_PAUSE)
    assert {r["status"] for r in runs} == {"failed"}
    assert all("phone" in str(r["error"]).lower() for r in runs), runs
    got = await client.get(f"/api/v1/workflows/{workflow['id']}", headers=tenant.agent_headers)
    assert got.json()["enabled"] is False
    assert got.json()["paused_reason"].startswith(f"Paused after {FAILURES_TO_PAUSE} failed runs")
    # Paused: the next message starts nothing.
    visitor = await Visitor.arrive(client, runtime, tenant)
    await visitor.says("Anyone?")
    await asyncio.sleep(1.0)
    assert len(await runs_of(client, tenant, workflow["id"])) == FAILURES_TO_PAUSE
    # Turned on again by an admin: the reason goes.
    on = await client.patch(
        f"/api/v1/workflows/{workflow['id']}", json={"enabled": True}, headers=tenant.admin_headers
    )
    assert on.status_code == 200 and on.json()["paused_reason"] is None


async def test_a_schedule_fires_once_per_open_thread_and_once_after_missed_firings(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    workflow = await make_workflow(
        client,
        tenant,
        name="Monday check-in",
        trigger={"type": "schedule", "cron": "0 9 * * 1", "timezone": "Europe/Berlin"},
        conditions=[{"field": "contact.tag", "op": "has", "value": "subscriber"}],
        steps=[{"type": "send_message", "body": "A new week of beans is in."}],
    )
    fire_at = workflow["next_fire_at"]
    assert fire_at is not None and fire_at.endswith(("08:00:00Z", "08:00:00+00:00")), fire_at
    subscriber = await Visitor.arrive(client, runtime, tenant)
    await subscriber.says("Sign me up")
    other = await Visitor.arrive(client, runtime, tenant)
    await other.says("Just looking")
    conv = await subscriber.conversation()
    tagged = await client.patch(
        f"/api/v1/contacts/{conv['contact']['id']}",
        json={"tags": ["subscriber"]},
        headers=tenant.admin_headers,
    )
    assert tagged.status_code == 200, tagged.text

    from datetime import datetime

    due = datetime.fromisoformat(fire_at.replace("Z", "+00:00"))
    # The server was down for three Mondays: on its first pass after, it fires once.
    engine = WorkflowEngine(runtime)
    await engine.run_once(now=due + timedelta(days=14, minutes=1))
    await engine.run_once(now=due + timedelta(days=14, minutes=2))

    async def sent() -> list[dict[str, object]]:
        return await subscriber.bot_messages()

    (bot,) = await wait_for(sent)
    assert bot["body"] == "A new week of beans is in."
    assert await other.bot_messages() == []
    got = await client.get(f"/api/v1/workflows/{workflow['id']}", headers=tenant.agent_headers)
    after = datetime.fromisoformat(got.json()["next_fire_at"].replace("Z", "+00:00"))
    assert after == due + timedelta(days=21)


async def test_workflows_that_set_each_other_off_stop_at_the_hourly_limit(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    """A workflow that re-adds the tag it starts on would run for ever; a contact gets
    RUNS_PER_HOUR runs an hour, then nothing more starts, and the engine goes on."""
    loop = await make_workflow(
        client,
        tenant,
        name="Loop",
        trigger={"type": "tag_added", "tag": "again"},
        steps=[{"type": "untag", "tag": "again"}, {"type": "tag", "tag": "again"}],
    )
    visitor = await Visitor.arrive(client, runtime, tenant)
    await visitor.says("Hi")
    contact_id = (await visitor.conversation())["contact"]["id"]
    await client.patch(
        f"/api/v1/contacts/{contact_id}", json={"tags": ["again"]}, headers=tenant.admin_headers
    )
    runs = await settled_runs(client, tenant, loop["id"], RUNS_PER_HOUR, within=30)
    await asyncio.sleep(1.5)
    assert len(await runs_of(client, tenant, loop["id"])) == RUNS_PER_HOUR == len(runs)
    # Other contacts' workflows still run.
    other = await make_workflow(
        client,
        tenant,
        name="Still working",
        trigger={"type": "message_received"},
        steps=[{"type": "tag", "tag": "seen"}],
    )
    someone = await Visitor.arrive(client, runtime, tenant)
    await someone.says("Hello")
    (done,) = await settled_runs(client, tenant, other["id"], 1)
    assert done["status"] == "completed"
