"""/api/v1/workflows: what an admin may save, refused at the edge with a code; who may see
and change what; and the triggers that start from agents' and contacts' actions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parlour.runtime import Runtime
from tests.conftest import Tenant, wait_for
from tests.workflows.conftest import Visitor, make_workflow, runs_of, settled_runs

SEND = [{"type": "send_message", "body": "Hi"}]
BAD = "validation_error"


async def _phone_number_id(client: httpx.AsyncClient, tenant: Tenant) -> int:
    numbers = await client.get("/api/v1/phone-numbers", headers=tenant.admin_headers)
    return int(numbers.json()[0]["id"])


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        (
            {"trigger": {"type": "message_received", "pattern": "(unclosed"}},
            "validation_error",
            "pattern",
        ),
        ({"trigger": {"type": "schedule", "cron": "0 0 30 2 *"}}, BAD, "cron"),
        ({"trigger": {"type": "schedule", "cron": "every day"}}, BAD, "cron"),
        ({"trigger": {"type": "no_agent_reply", "minutes": 0}}, BAD, "minutes"),
        ({"trigger": {"type": "sometimes"}}, BAD, "trigger"),
        ({"steps": []}, BAD, "steps"),
        ({"steps": [{"type": "assign"}]}, BAD, "steps"),
        (
            {"steps": [{"type": "send_message", "channel": "fax", "body": "x"}]},
            "unknown_channel",
            "",
        ),
        ({"name": "Nul\u0000here"}, "control_characters", "name"),
        (
            {"steps": [{**SEND[0], "channel": "email", "subject": "Hi\r\nBcc: all@example.net"}]},
            BAD,
            "subject_line_break",
        ),
        (
            {"conditions": [{"field": "contact.tag", "op": "is", "value": "x"}]},
            "validation_error",
            "op",
        ),
        ({"steps": [{"type": "assign", "user_id": 999999999}]}, "unknown_user", ""),
    ],
)
async def test_bad_workflows_are_refused_with_a_code(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], code: str, where: str
) -> None:
    whole = {"name": "Bad", "trigger": {"type": "message_received"}, "steps": SEND, **body}
    resp = await client.post("/api/v1/workflows", json=whole, headers=tenant.admin_headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == code
    assert where in resp.text
    listed = await client.get("/api/v1/workflows", headers=tenant.admin_headers)
    assert listed.json() == []


async def test_a_step_cannot_send_from_another_accounts_number(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await _phone_number_id(client, other_tenant)
    ours = await _phone_number_id(client, tenant)
    step = {"type": "send_message", "channel": "sms", "body": "Hi", "sender_id": theirs}
    body = {"name": "Borrowed", "trigger": {"type": "message_received"}, "steps": [step]}
    resp = await client.post("/api/v1/workflows", json=body, headers=tenant.admin_headers)
    assert resp.status_code == 422 and resp.json()["code"] == "unknown_sender", resp.text
    step["sender_id"] = ours
    resp = await client.post("/api/v1/workflows", json=body, headers=tenant.admin_headers)
    assert resp.status_code == 201, resp.text


async def test_agents_read_admins_change_and_other_accounts_see_nothing(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    body = {"name": "Mine", "trigger": {"type": "contact_created"}, "steps": SEND}
    refused = await client.post("/api/v1/workflows", json=body, headers=tenant.agent_headers)
    assert refused.status_code == 403
    made = await make_workflow(client, tenant, **body)
    url = f"/api/v1/workflows/{made['id']}"
    assert (await client.get(url, headers=tenant.agent_headers)).status_code == 200
    patch = await client.patch(url, json={"enabled": False}, headers=tenant.agent_headers)
    assert patch.status_code == 403
    for method in ("GET", "PATCH", "DELETE"):
        resp = await client.request(
            method, url, json={} if method == "PATCH" else None, headers=other_tenant.admin_headers
        )
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", method
    renamed = await client.patch(url, json={"name": "Ours"}, headers=tenant.admin_headers)
    assert renamed.json()["name"] == "Ours" and renamed.json()["steps"] == made["steps"]
    assert (await client.delete(url, headers=tenant.admin_headers)).status_code == 204
    assert (await client.get(url, headers=tenant.admin_headers)).status_code == 404


async def test_triggers_from_agents_and_contacts(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    opened = await make_workflow(
        client,
        tenant,
        name="Welcome",
        trigger={"type": "conversation_opened", "channel": "webchat"},
        steps=[{"type": "send_message", "body": "Welcome! We reply within the hour."}],
    )
    created = await make_workflow(
        client,
        tenant,
        name="New contact",
        trigger={"type": "contact_created"},
        steps=[{"type": "tag", "tag": "new"}],
    )
    tagged = await make_workflow(
        client,
        tenant,
        name="VIP",
        trigger={"type": "tag_added", "tag": "vip"},
        steps=[{"type": "assign", "user_id": tenant.admin_id}],
    )
    closed = await make_workflow(
        client,
        tenant,
        name="Goodbye",
        trigger={"type": "conversation_closed"},
        conditions=[{"field": "message.text", "op": "contains", "value": "never"}],
        steps=[{"type": "reopen"}],
    )
    visitor = await Visitor.arrive(client, runtime, tenant)
    await visitor.says("Hi, first time here")
    await visitor.says("And a second message")
    conv = await visitor.conversation()

    async def welcome() -> list[dict[str, object]]:
        return await visitor.bot_messages()

    (bot,) = await wait_for(welcome)  # once: only the first message opens the thread
    assert bot["body"] == "Welcome! We reply within the hour."
    await settled_runs(client, tenant, created["id"], 1)

    async def contact_tags() -> list[str]:
        got = await client.get(
            f"/api/v1/contacts/{conv['contact']['id']}", headers=tenant.admin_headers
        )
        return list(got.json()["tags"])

    assert await contact_tags() == ["new"]
    await client.patch(
        f"/api/v1/contacts/{conv['contact']['id']}",
        json={"tags": ["new", "vip"]},
        headers=tenant.admin_headers,
    )
    await settled_runs(client, tenant, tagged["id"], 1)
    assert (await visitor.conversation())["assignee_id"] == tenant.admin_id
    # Closing starts "Goodbye", whose condition on the message text does not hold.
    await client.patch(
        f"/api/v1/conversations/{conv['id']}",
        json={"status": "closed"},
        headers=tenant.admin_headers,
    )
    await wait_for(lambda: _closed(visitor))
    assert len(await runs_of(client, tenant, opened["id"])) == 1
    assert await runs_of(client, tenant, closed["id"]) == []


async def _closed(visitor: Visitor) -> bool:
    return (await visitor.conversation())["status"] == "closed"


async def test_a_test_run_says_what_would_happen_and_does_nothing(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    workflow = await make_workflow(
        client,
        tenant,
        name="Refunds",
        trigger={"type": "message_received"},
        conditions=[
            {"field": "message.text", "op": "contains", "value": "refund"},
            {"field": "contact.tag", "op": "has", "value": "vip"},
        ],
        steps=[
            {"type": "send_message", "body": "Sorry, {{contact.first_name}}!"},
            {"type": "send_message", "channel": "sms", "body": "By text too"},
            {"type": "assign", "user_id": tenant.agent_id},
        ],
    )
    visitor = await Visitor.arrive(client, runtime, tenant)
    await visitor.says("Hello")
    conv = await visitor.conversation()
    resp = await client.post(
        f"/api/v1/workflows/{workflow['id']}/test",
        json={"contact_id": conv["contact"]["id"], "text": "I want a REFUND"},
        headers=tenant.agent_headers,
    )
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert [c["holds"] for c in out["conditions"]] == [True, False]
    assert out["runs"] is False
    first, by_text, assign = out["steps"]
    assert first["would"].startswith("Send “Sorry, Visitor!” by Web Chat from site")
    assert first["problem"] is None
    assert by_text["problem"] and "phone" in by_text["problem"].lower()
    assert assign["would"] == "Assign to Sam Agent"
    # Nothing was done.
    assert await visitor.bot_messages() == []
    assert await runs_of(client, tenant, workflow["id"]) == []
    other = await client.post(
        f"/api/v1/workflows/{workflow['id']}/test",
        json={"contact_id": 999999999},
        headers=tenant.agent_headers,
    )
    assert other.status_code == 404
