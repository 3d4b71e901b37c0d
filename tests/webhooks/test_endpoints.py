"""Managing webhook endpoints: who may, what input is refused, and the SSRF guard (on
when saving and again before each delivery)."""

from __future__ import annotations

import httpx
import pytest

from parlour.db.tx import transaction
from parlour.runtime import Runtime
from parlour.webhooks import service
from parlour.webhooks.schemas import EndpointIn
from parlour.webhooks.worker import WebhookWorker
from tests.conftest import Tenant
from tests.webhooks.conftest import Receiver
from tests.webhooks.test_delivery import deliveries, send_test, subscribe

# An address literal: saving it needs no DNS.
PUBLIC_URL = "https://93.184.215.14/hooks/parlour"

INTERNAL_URLS = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
]


async def test_admin_manages_an_endpoint(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await subscribe(
        client,
        tenant,
        "http://127.0.0.1:9/hook",
        description="CRM sync",
        event_types=["contact.created", "contact.updated", "contact.created"],
    )
    eid = created["id"]
    assert created["event_types"] == ["contact.created", "contact.updated"]
    assert created["enabled"] is True and created["failures"] == 0

    listed = (await client.get("/api/v1/webhooks", headers=tenant.agent_headers)).json()
    assert [e["id"] for e in listed] == [eid]
    assert "secret" not in listed[0]

    secret = await client.get(f"/api/v1/webhooks/{eid}/secret", headers=tenant.admin_headers)
    assert secret.json() == {"secret": created["secret"]}

    resp = await client.patch(
        f"/api/v1/webhooks/{eid}",
        json={"url": "http://127.0.0.1:9/other", "event_types": [], "enabled": False},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["url"] == "http://127.0.0.1:9/other"
    assert resp.json()["event_types"] == [] and resp.json()["enabled"] is False
    # An admin's own "off" carries no reason: only Parlour's does.
    assert resp.json()["disabled_reason"] is None

    resp = await client.delete(f"/api/v1/webhooks/{eid}", headers=tenant.admin_headers)
    assert resp.status_code == 204
    resp = await client.get(f"/api/v1/webhooks/{eid}", headers=tenant.admin_headers)
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"


async def test_the_secret_is_stored_sealed(runtime: Runtime, tenant: Tenant) -> None:
    async with transaction(runtime.db, runtime.hub) as tx:
        endpoint, secret = await service.add_endpoint(
            tx,
            account_id=tenant.account_id,
            data=EndpointIn(url=PUBLIC_URL),
            secret_key=runtime.settings.secret_key,
        )
        await tx.commit()
    assert secret not in endpoint.secret_sealed
    assert secret.removeprefix("whsec_") not in endpoint.secret_sealed


async def test_agents_cannot_change_endpoints_or_read_secrets(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    resp = await client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/"}, headers=tenant.agent_headers
    )
    assert resp.status_code == 403 and resp.json()["code"] == "admin_only"
    created = await subscribe(client, tenant, "http://127.0.0.1:9/")
    eid = created["id"]
    for method, path in [
        ("GET", f"/api/v1/webhooks/{eid}/secret"),
        ("PATCH", f"/api/v1/webhooks/{eid}"),
        ("DELETE", f"/api/v1/webhooks/{eid}"),
        ("POST", f"/api/v1/webhooks/{eid}/test"),
    ]:
        resp = await client.request(
            method, path, json={} if method == "PATCH" else None, headers=tenant.agent_headers
        )
        assert resp.status_code == 403, (method, path)
    # Reading what was sent is for everyone in the account.
    resp = await client.get(f"/api/v1/webhooks/{eid}/deliveries", headers=tenant.agent_headers)
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://127.0.0.1:9/", "event_types": ["message.exploded"]},
        {"url": "http://127.0.0.1:9/", "event_types": "message.created"},
        {"url": "http://127.0.0.1:9/", "colour": "red"},
        {"url": "http://127.0.0.1:9/", "enabled": "yes"},
        {"url": "http://127.0.0.1:9/" + "a" * 2000},
        {"description": "no url"},
    ],
)
async def test_bad_input_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, object]
) -> None:
    resp = await client.post("/api/v1/webhooks", json=body, headers=tenant.admin_headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/hook", "file:///etc/passwd", "javascript:alert(1)", "example.com/hook"],
)
async def test_only_http_urls(client: httpx.AsyncClient, tenant: Tenant, url: str) -> None:
    resp = await client.post("/api/v1/webhooks", json={"url": url}, headers=tenant.admin_headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "url_not_allowed"


async def test_credentials_in_the_url_are_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    resp = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://user:pw@93.184.215.14/"},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_url"


@pytest.mark.parametrize("allow_private", [False])
@pytest.mark.parametrize("url", INTERNAL_URLS)
async def test_internal_addresses_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, url: str
) -> None:
    resp = await client.post("/api/v1/webhooks", json={"url": url}, headers=tenant.admin_headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "url_not_allowed"


@pytest.mark.parametrize("allow_private", [False])
async def test_a_public_address_is_taken_and_cannot_be_changed_to_an_internal_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await subscribe(client, tenant, PUBLIC_URL)
    resp = await client.patch(
        f"/api/v1/webhooks/{created['id']}",
        json={"url": "http://127.0.0.1:6379/"},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 422 and resp.json()["code"] == "url_not_allowed"
    shown = await client.get(f"/api/v1/webhooks/{created['id']}", headers=tenant.admin_headers)
    assert shown.json()["url"] == PUBLIC_URL


@pytest.mark.parametrize("allow_private", [False])
async def test_delivery_is_refused_when_the_address_turned_internal(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    """As if the name's DNS record changed after the endpoint was saved: saved directly,
    past the API's check, the worker checks again and never calls it."""
    async with transaction(runtime.db, runtime.hub) as tx:
        endpoint, _ = await service.add_endpoint(
            tx,
            account_id=tenant.account_id,
            data=EndpointIn(url=receiver.url),
            secret_key=runtime.settings.secret_key,
        )
        await tx.commit()
    await send_test(client, tenant, endpoint.id)
    await WebhookWorker(runtime).run_once()
    assert receiver.received == []
    [delivery] = await deliveries(client, tenant, endpoint.id)
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("Refused:") and "127.0.0.1" in attempt["error"]
