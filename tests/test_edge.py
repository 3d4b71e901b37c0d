"""Control characters and unpaired surrogates are refused once, at the edge, wherever
they are sent: a body's field or key, a query parameter, the path (parlour/edge.py). Each
case here answered 500 on PostgreSQL or SQLite before, or stored what PostgreSQL cannot."""

from __future__ import annotations

import json

import httpx
import pytest

from parlour.conversations.models import SavedView
from parlour.db.tx import Tx
from parlour.runtime import Runtime
from tests.conftest import Tenant, run_tx

BODIES = [
    ("POST", "/api/v1/contacts", {"name": "a\x00b"}, ["name"]),
    ("POST", "/api/v1/contacts", {"name": "Ann", "tags": ["vip\x00"]}, ["tags", 0]),
    ("POST", "/api/v1/contacts", {"emails": [{"address": "a\x00@b.example"}]}, None),
    ("POST", "/api/v1/mailboxes", {"address": "help\x00@shop.example", "name": "Help"}, None),
    ("POST", "/api/v1/views", {"name": "Mine\x00"}, ["name"]),
    ("POST", "/api/v1/views", {"name": "Tagged", "filters": {"tag": "a\x00b"}}, None),
    ("POST", "/api/v1/contacts", {"name": "Bell\x07"}, ["name"]),  # other C0 controls
    ("POST", "/api/v1/contacts", {"name": "Csi\x9b"}, ["name"]),  # and C1 ones
    ("POST", "/api/v1/contacts", {"na\x00me": "key"}, ["na\x00me"]),  # keys too
]


@pytest.mark.parametrize(("method", "url", "body", "where"), BODIES)
async def test_a_body_with_control_characters_is_refused_with_a_code(
    client: httpx.AsyncClient,
    tenant: Tenant,
    method: str,
    url: str,
    body: object,
    where: list[object] | None,
) -> None:
    resp = await client.request(method, url, json=body, headers=tenant.admin_headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "control_characters"
    (detail,) = resp.json()["details"]
    assert detail["in"] == "body"
    if where is not None:
        assert detail["path"] == where
    listed = await client.get("/api/v1/contacts", headers=tenant.admin_headers)
    assert listed.json()["items"] == []


async def test_a_message_body_with_nul_is_refused_and_nothing_is_sent(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    contact = await client.post(
        "/api/v1/contacts",
        json={"name": "Nul", "phones": [{"number": "+16505550131"}]},
        headers=tenant.admin_headers,
    )
    thread = await client.post(
        f"/api/v1/contacts/{contact.json()['id']}/conversation", headers=tenant.admin_headers
    )
    conv_id = thread.json()["id"]
    url = f"/api/v1/conversations/{conv_id}/messages"
    resp = await client.post(
        url, json={"channel": "sms", "body": "hi\x00there"}, headers=tenant.agent_headers
    )
    assert resp.status_code == 422 and resp.json()["code"] == "control_characters"
    assert resp.json()["details"] == [{"in": "body", "path": ["body"]}]
    page = await client.get(url, headers=tenant.agent_headers)
    assert page.json()["items"] == []
    # Tabs and line breaks are text.
    ok = await client.post(
        url, json={"channel": "sms", "body": "one\ttwo\r\nthree"}, headers=tenant.agent_headers
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["body"] == "one\ttwo\r\nthree"


async def test_unpaired_surrogates_are_refused_and_paired_ones_are_text(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = {**tenant.admin_headers, "content-type": "application/json"}
    lone = await client.post("/api/v1/contacts", content=b'{"name": "a\\ud800b"}', headers=headers)
    assert lone.status_code == 422 and lone.json()["code"] == "control_characters"
    # An escaped backslash before "ud800" is a backslash and letters, not an escape.
    literal = await client.post(
        "/api/v1/contacts", content=b'{"name": "a\\\\ud800"}', headers=headers
    )
    assert literal.status_code == 201 and literal.json()["name"] == "a\\ud800"
    emoji = await client.post(
        "/api/v1/contacts", content=b'{"name": "Zo\\u00eb \\ud83d\\ude00"}', headers=headers
    )
    assert emoji.status_code == 201 and emoji.json()["name"] == "Zoë \U0001f600"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/contacts?q=a%00b",
        "/api/v1/conversations?q=a%00b",
        "/api/v1/contacts?q=%1b%5b2J",
        "/api/v1/conversations?view=all&q%00=x",
    ],
)
async def test_a_query_parameter_with_control_characters_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, url: str
) -> None:
    resp = await client.get(url, headers=tenant.admin_headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "control_characters"
    assert resp.json()["details"][0]["in"] == "query"


async def test_a_path_with_control_characters_is_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    resp = await client.delete("/api/v1/views/mine%00", headers=tenant.admin_headers)
    assert resp.status_code == 422 and resp.json()["code"] == "control_characters"


async def test_a_body_nested_too_deep_is_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = {**tenant.admin_headers, "content-type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    resp = await client.post("/api/v1/contacts", content=deep, headers=headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "nested_too_deep"
    # Deep but parseable JSON goes on to the route, which refuses it as it would anything.
    shallow = json.dumps({"name": [[["x"]]]}).encode()
    resp = await client.post("/api/v1/contacts", content=shallow, headers=headers)
    assert resp.status_code == 422 and resp.json()["code"] == "validation_error"


async def test_a_body_that_is_not_json_text_is_refused_as_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # Bytes that are no UTF-8 got FastAPI's 400 "error parsing the body", unlike every
    # other unparseable body; now all of them get the same 422.
    headers = {**tenant.admin_headers, "content-type": "application/json"}
    for body in (b"\xff\x01x\xa0R", b'{"name": "Ann"', b"{'name': 'Ann'}"):
        resp = await client.patch("/api/v1/account", content=body, headers=headers)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["code"] == "invalid_json"
    assert (await client.get("/api/v1/account", headers=tenant.admin_headers)).status_code == 200


async def test_a_form_that_does_not_parse_is_refused_as_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A multipart body whose boundary is not the one its Content-Type names answered
    FastAPI's 400 "error parsing the body", a status no operation documented."""
    headers = {**tenant.admin_headers, "Content-Type": "multipart/form-data; boundary=abc"}
    body = b"--xyz\r\n[]--xyz--\r\n"
    for path in ("/api/v1/attachments", "/api/v1/users/me/avatar"):
        method = "PUT" if path.endswith("avatar") else "POST"
        resp = await client.request(method, path, content=body, headers=headers)
        assert resp.status_code == 422, (path, resp.text)
        assert resp.json()["code"] == "invalid_body"


async def test_a_view_stored_with_a_nul_before_the_edge_refused_it_still_lists(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """Stored bad data never makes a list unreadable: a saved view whose tag filter holds a
    NUL (kept before this check existed) made GET /api/v1/views answer 500 on PostgreSQL,
    on every call, for its owner."""

    async def store(tx: Tx) -> int:
        view = SavedView(
            account_id=tenant.account_id,
            user_id=tenant.agent_id,
            name="Old one",
            filters={"status": "any", "tag": "a\x00b"},
        )
        unreadable = SavedView(
            account_id=tenant.account_id,
            user_id=tenant.agent_id,
            name="From a later release",
            filters={"status": "snoozed"},
        )
        tx.session.add_all([view, unreadable])
        await tx.commit()
        return view.id

    view_id = await run_tx(runtime, store)
    listed = await client.get("/api/v1/views", headers=tenant.agent_headers)
    assert listed.status_code == 200, listed.text
    by_name = {v["name"]: v for v in listed.json()}
    assert by_name["Old one"]["filters"]["tag"] == "a\ufffdb"
    assert by_name["Old one"]["count"] == 0
    assert by_name["From a later release"]["filters"]["status"] == "open"
    page = await client.get(
        "/api/v1/conversations", params={"view": str(view_id)}, headers=tenant.agent_headers
    )
    assert page.status_code == 200 and page.json()["items"] == []
