"""The registry decides which channels exist: an unknown one is refused with its own code
wherever a channel is named, and the OpenAPI document lists the ones served."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant


async def test_a_channel_the_server_does_not_serve_is_refused_by_name(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    h = tenant.admin_headers
    c = await client.post(
        "/api/v1/contacts", json={"name": "Pat", "phones": [{"number": "+16505550321"}]}, headers=h
    )
    conv = (await client.post(f"/api/v1/contacts/{c.json()['id']}/conversation", headers=h)).json()
    sent = await client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"channel": "pigeon", "body": "coo"},
        headers=h,
    )
    assert sent.status_code == 422
    assert sent.json()["code"] == "unknown_channel"
    assert sent.json()["details"]["channels"] == ["sms", "webchat", "email"]
    page = await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=h)
    assert page.json()["items"] == []  # nothing half-written

    patched = await client.patch(
        f"/api/v1/contacts/{c.json()['id']}", json={"preferred_channel": "pigeon"}, headers=h
    )
    assert (patched.status_code, patched.json()["code"]) == (422, "unknown_channel")
    view = await client.post(
        "/api/v1/views", json={"name": "Pigeons", "filters": {"channel": "pigeon"}}, headers=h
    )
    assert (view.status_code, view.json()["code"]) == (422, "unknown_channel")


async def test_the_openapi_document_names_the_served_channels(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    message_in = spec["components"]["schemas"]["MessageIn"]["properties"]["channel"]
    assert message_in["enum"] == ["sms", "webchat", "email"]
