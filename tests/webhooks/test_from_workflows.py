"""A workflow's "call a webhook" step: its delivery reaches the receiver signed, with the
run and what started it, and an endpoint of another account cannot be named."""

from __future__ import annotations

import httpx

from parlour.runtime import Runtime
from parlour.webhooks.worker import WebhookWorker
from parlour.workflows.engine import WorkflowEngine
from tests.conftest import Tenant
from tests.webhooks.conftest import Receiver
from tests.webhooks.test_delivery import subscribe, verified
from tests.workflows.conftest import Visitor


async def test_a_workflow_calls_a_webhook_signed_and_recorded(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint = await subscribe(client, tenant, receiver.url, event_types=["message.updated"])
    made = await client.post(
        "/api/v1/workflows",
        json={
            "name": "Tell the CRM",
            "trigger": {"type": "message_received", "keywords": ["invoice"]},
            "steps": [{"type": "call_webhook", "endpoint_id": endpoint["id"]}],
        },
        headers=tenant.admin_headers,
    )
    assert made.status_code == 201, made.text
    visitor = await Visitor.arrive(client, runtime, tenant)
    await visitor.says("Where is my invoice?")

    engine = WorkflowEngine(runtime)
    await engine.run_once()  # the run starts
    await engine.run_once()  # its step queues the delivery
    await WebhookWorker(runtime).run_once()

    called = [verified(endpoint["secret"], r) for r in receiver.received]
    (payload,) = [p for p in called if p["type"] == "workflow.called"]
    data = payload["data"]
    assert data["workflow"] == {"id": made.json()["id"], "name": "Tell the CRM"}
    assert data["conversation_id"] == visitor.conversation_id
    assert data["trigger"]["text"] == "Where is my invoice?"
    runs = await client.get(
        f"/api/v1/workflows/{made.json()['id']}/runs", headers=tenant.admin_headers
    )
    (run,) = runs.json()
    assert run["status"] == "completed" and data["run_id"] == run["id"]
    assert run["log"][0]["note"].startswith("Called the webhook (delivery ")


async def test_a_step_cannot_call_another_accounts_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, receiver: Receiver
) -> None:
    theirs = await subscribe(client, other_tenant, receiver.url)
    resp = await client.post(
        "/api/v1/workflows",
        json={
            "name": "Borrowed",
            "trigger": {"type": "contact_created"},
            "steps": [{"type": "call_webhook", "endpoint_id": theirs["id"]}],
        },
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 422 and resp.json()["code"] == "unknown_endpoint", resp.text
