"""Bad input gets a 4xx with a stable code, never a 500, and writes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tenant


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "code"),
    [
        ("POST", "/api/v1/contacts", {"name": 42}, 422, "validation_error"),
        ("POST", "/api/v1/contacts", {"name": "x", "bogus": 1}, 422, "validation_error"),
        ("POST", "/api/v1/contacts", {"name": "a\x00b"}, 422, "control_characters"),
        ("POST", "/api/v1/contacts", {"phones": [{"number": "not a phone"}]}, 422, "invalid_phone"),
        ("POST", "/api/v1/contacts", {"emails": [{"address": "nope"}]}, 422, "validation_error"),
        ("GET", "/api/v1/contacts/99999999999999999999999", None, 422, "validation_error"),
        ("GET", "/api/v1/contacts/0", None, 422, "validation_error"),
        ("GET", "/api/v1/contacts/abc", None, 422, "validation_error"),
        ("GET", "/api/v1/contacts/123456789", None, 404, "not_found"),
        ("GET", "/api/v1/conversations?view=nope", None, 404, "unknown_view"),
        ("GET", "/api/v1/conversations?cursor=%%%", None, 422, "invalid_cursor"),
        ("GET", "/api/v1/conversations?cursor=WzFd", None, 422, "invalid_cursor"),
        ("GET", "/api/v1/conversations?limit=100000", None, 422, "validation_error"),
        ("POST", "/api/v1/phone-numbers", {"number": "+1 555"}, 422, "invalid_phone"),
        ("POST", "/api/v1/widgets", {"name": "w", "color": "red"}, 422, "validation_error"),
        ("GET", "/api/v1/no-such-route", None, 404, "not_found"),
        ("DELETE", "/api/v1/views", None, 405, "method_not_allowed"),
    ],
)
async def test_bad_requests_get_a_code(
    client: httpx.AsyncClient,
    tenant: Tenant,
    method: str,
    url: str,
    body: object,
    status: int,
    code: str,
) -> None:
    resp = await client.request(method, url, json=body, headers=tenant.admin_headers)
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code
    assert set(resp.json()) == {"code", "message", "details"}
    listed = await client.get("/api/v1/contacts", headers=tenant.admin_headers)
    assert listed.json()["items"] == []


async def test_malformed_json_and_oversize_bodies(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = {**tenant.admin_headers, "content-type": "application/json"}
    bad = await client.post("/api/v1/contacts", content=b"{not json", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_json"
    huge = await client.post(
        "/api/v1/contacts", content=b'{"name": "' + b"x" * 2_000_000 + b'"}', headers=headers
    )
    assert huge.status_code == 413
    assert huge.json()["code"] == "body_too_large"
    assert (await client.get("/api/v1/contacts", headers=tenant.admin_headers)).json()[
        "items"
    ] == []


async def test_unauthenticated_and_bad_tokens(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/contacts")).json()["code"] == "not_authenticated"
    resp = await client.get("/api/v1/contacts", headers={"Authorization": "Bearer plr_nope"})
    assert (resp.status_code, resp.json()["code"]) == (401, "invalid_token")
    resp = await client.get("/api/v1/contacts", headers={"Authorization": "Basic abc"})
    assert (resp.status_code, resp.json()["code"]) == (401, "bad_auth_header")


async def test_health_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = (await client.get("/readyz")).json()
    assert ready == {"status": "ready", "database": "ok", "redis": "not_configured"}
    spec = (await client.get("/api/v1/openapi.json")).json()
    for path in (
        "/api/v1/contacts",
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/views",
        "/api/v1/phone-numbers",
        "/api/v1/mailboxes",
        "/api/v1/widgets",
        "/api/v1/users",
        "/api/v1/tasks",
        "/api/v1/tokens",
    ):
        assert path in spec["paths"], path


async def test_text_longer_than_its_column_is_refused_on_both_databases(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A phone number's label (API limit 200, column 100) and an upload's content type
    (column 100) answered 500 on PostgreSQL and were stored whole on SQLite. The label's
    API limit is now read from its column; and whatever a schema says, each column's
    length is checked at the write (parlour/db/lengths.py)."""
    before = (await client.get("/api/v1/phone-numbers", headers=tenant.admin_headers)).json()
    label = await client.post(
        "/api/v1/phone-numbers",
        json={"number": "+1 415 555 0177", "label": "L" * 150},
        headers=tenant.admin_headers,
    )
    assert label.status_code == 422, label.text  # the schema's limit is the column's now
    assert label.json()["details"][0]["field"] == "label"
    after = (await client.get("/api/v1/phone-numbers", headers=tenant.admin_headers)).json()
    assert after == before
    upload = await client.post(
        "/api/v1/attachments",
        files={"file": ("a.bin", b"data", "application/" + "x" * 120)},
        headers=tenant.agent_headers,
    )
    assert upload.status_code == 422, upload.text
    assert upload.json()["code"] == "too_long"
    assert upload.json()["details"]["field"] == "content_type"
