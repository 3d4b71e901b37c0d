"""No request may read or change another account's rows.

The routes come from the OpenAPI document: every operation with an id in its path is tried
with the ids of another account's objects (and, where a path holds several ids, with each
of them theirs while the others are mine). A new route with an id is covered without
being listed here; one whose ids cannot be filled must be named in NOT_FILLED, with why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from parlour.sample.avatars import identicon_png
from tests.conftest import Tenant

API = "/api/v1"
PNG = identicon_png("tenancy")

# Operations ("METHOD /path") whose path ids this test cannot fill, and why. Empty: every
# id in the document names one of the objects ``_objects`` makes.
NOT_FILLED: dict[str, str] = {}

Ids = dict[str, Any]

# Bodies the schema cannot give a valid example for (a pattern, an id), or whose change
# the end of the test checks was not made. Others are built from the schema.
BODIES: dict[str, Callable[[Ids], dict[str, Any]]] = {
    "PATCH /api/v1/contacts/{contact_id}": lambda mine: {"name": "Mine now"},
    "POST /api/v1/contacts/{contact_id}/phones": lambda mine: {"number": "+16505550192"},
    "PATCH /api/v1/contacts/{contact_id}/phones/{phone_id}": lambda mine: {"sms_opt_out": True},
    "POST /api/v1/contacts/{contact_id}/emails": lambda mine: {"address": "new@example.com"},
    "POST /api/v1/contacts/{contact_id}/merge": lambda mine: {
        "other_contact_id": mine["contact_id"]
    },
    "POST /api/v1/conversations/{conversation_id}/messages": lambda mine: {
        "channel": "sms",
        "body": "x",
    },
    "PATCH /api/v1/conversations/{conversation_id}": lambda mine: {"status": "closed"},
    "PATCH /api/v1/phone-numbers/{number_id}": lambda mine: {"label": "hijacked"},
    "POST /api/v1/mailboxes/{mailbox_id}/test-email": lambda mine: {"to": "x@example.com"},
    "PATCH /api/v1/workflows/{workflow_id}": lambda mine: {"name": "hijacked"},
    "POST /api/v1/workflows/{workflow_id}/test": lambda mine: {"contact_id": mine["contact_id"]},
}


async def _objects(client: httpx.AsyncClient, tenant: Tenant, *, name: str, phone: str) -> Ids:
    """One of everything a path id can name, made in ``tenant``'s account, by path id."""
    h = tenant.admin_headers

    async def made(method: str, url: str, **kwargs: Any) -> Any:
        resp = await client.request(method, f"{API}{url}", headers=h, **kwargs)
        assert resp.status_code in (200, 201, 202), (method, url, resp.text)
        return resp.json()

    contact = await made(
        "POST",
        "/contacts",
        json={"name": name, "phones": [{"number": phone}], "emails": [{"address": "s@x.io"}]},
    )
    cid = contact["id"]
    png = {"file": ("a.png", PNG, "image/png")}
    await made("PUT", f"/contacts/{cid}/avatar", files=png)
    await made("PUT", "/users/me/avatar", files=png)
    await made("POST", f"/contacts/{cid}/notes", json={"body": "a note"})
    detail = await made("GET", f"/contacts/{cid}")
    conv = await made("POST", f"/contacts/{cid}/conversation")
    message = await made(
        "POST", f"/conversations/{conv['id']}/messages", json={"channel": "sms", "body": "hi"}
    )
    # An address literal (saving it needs no DNS), disabled once its test event is queued
    # so that the in-process worker has no reason to call it.
    hook = await made("POST", "/webhooks", json={"url": "https://93.184.215.14/tenancy"})
    delivery = await made("POST", f"/webhooks/{hook['id']}/test")
    await made("PATCH", f"/webhooks/{hook['id']}", json={"enabled": False})
    workflow = await made(
        "POST",
        "/workflows",
        json={
            "name": "w",
            "enabled": False,
            "trigger": {"type": "contact_created"},
            "steps": [{"type": "tag", "tag": "x"}],
        },
    )
    return {
        "contact_id": cid,
        "phone_id": contact["phones"][0]["id"],
        "email_id": contact["emails"][0]["id"],
        "note_id": detail["notes"][0]["id"],
        "conversation_id": conv["id"],
        "message_id": message["id"],
        "user_id": tenant.admin_id,
        "token_id": (await made("POST", "/tokens", json={"name": "t"}))["id"],
        "view_id": (await made("POST", "/views", json={"name": "v"}))["id"],
        "attachment_id": (await made("POST", "/attachments", files=png))["id"],
        "number_id": (await made("GET", "/phone-numbers"))[0]["id"],
        "mailbox_id": (await made("GET", "/mailboxes"))[0]["id"],
        "widget_id": (await made("GET", "/widgets"))[0]["id"],
        "endpoint_id": hook["id"],
        "delivery_id": delivery["id"],
        "workflow_id": workflow["id"],
    }


def _id_operations(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Every operation with an id in its path ("METHOD /path"), with its path ids."""
    found = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            if any(name.endswith("_id") for name in names):
                found[f"{method.upper()} {path}"] = names
    return found


def _example(schema: dict[str, Any], doc: dict[str, Any], where: str) -> Any:
    """A valid value of ``schema``: required properties only, the least each allows."""
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
    if "anyOf" in schema:
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
    kind = schema.get("type")
    if kind == "object":
        return {
            name: _example(schema["properties"][name], doc, f"{where}.{name}")
            for name in schema.get("required", [])
        }
    assert not where.endswith("_id"), f"{where}: an id; give the body in BODIES"
    assert "pattern" not in schema, f"{where}: a pattern; give the body in BODIES"
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "string" and schema.get("format") == "binary":
        return ("a.png", PNG, "image/png")
    examples = {"string": "x" * max(1, schema.get("minLength", 1)), "integer": 1}
    examples |= {"boolean": True, "array": []}
    return examples[kind]


def _body(operation: str, op: dict[str, Any], doc: dict[str, Any], mine: Ids) -> dict[str, Any]:
    """The request's body, as keyword arguments of ``httpx.AsyncClient.request``."""
    if operation in BODIES:
        return {"json": BODIES[operation](mine)}
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return {"json": _example(content["application/json"]["schema"], doc, operation)}
    if "multipart/form-data" in content:
        return {"files": _example(content["multipart/form-data"]["schema"], doc, operation)}
    assert not content, f"{operation}: a {list(content)} body; give it in BODIES"
    return {}


def _urls(path: str, names: list[str], mine: Ids, theirs: Ids) -> list[str]:
    """The path with their ids: all of them, then each alone among mine."""
    unfilled = [name for name in names if name not in theirs]
    assert not unfilled, f"{path}: fill {unfilled} in _objects, or list it in NOT_FILLED"
    combos = [set(names)] if len(names) == 1 else [set(names), *({n} for n in names)]
    return [
        path.format(**{n: theirs[n] if n in combo else mine[n] for n in names}) for combo in combos
    ]


async def test_another_accounts_ids_are_404_everywhere(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await _objects(client, other_tenant, name="Secret", phone="+16505550190")
    mine = await _objects(client, tenant, name="Own", phone="+16505550191")
    me = tenant.admin_headers
    doc = (await client.get(f"{API}/openapi.json")).json()
    operations = _id_operations(doc)
    assert set(NOT_FILLED) <= set(operations), "NOT_FILLED names an operation that is gone"
    tried = []
    for operation, names in operations.items():
        if operation in NOT_FILLED:
            continue
        method, path = operation.split(" ", 1)
        op = doc["paths"][path][method.lower()]
        for url in _urls(path, names, mine, theirs):
            body = _body(operation, op, doc, mine)
            resp = await client.request(method, url, headers=me, **body)
            assert resp.status_code == 404, (method, url, resp.status_code, resp.text)
            assert resp.json()["code"] == "not_found", (method, url)
            tried.append(f"{method} {url}")
    assert tried, "the OpenAPI document lists no route with an id"
    await _their_data_is_untouched(client, tenant, other_tenant, theirs)


async def _their_data_is_untouched(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, theirs: Ids
) -> None:
    me = tenant.admin_headers
    cid = theirs["contact_id"]
    # Merging someone else's contact into mine is refused too.
    own = await client.post(f"{API}/contacts", json={"name": "Mine"}, headers=me)
    merge = await client.post(
        f"{API}/contacts/{own.json()['id']}/merge", json={"other_contact_id": cid}, headers=me
    )
    assert merge.status_code == 404
    # Their data is untouched, and invisible in my lists and searches.
    still = await client.get(f"{API}/contacts/{cid}", headers=other_tenant.admin_headers)
    assert still.json()["name"] == "Secret"
    assert still.json()["phones"][0]["sms_opt_out"] is False
    mine_list = await client.get(f"{API}/contacts", params={"q": "secret"}, headers=me)
    assert mine_list.json()["items"] == []
    # The same phone number can be a contact in two accounts.
    dup = await client.post(
        f"{API}/contacts",
        json={"name": "Also", "phones": [{"number": "+16505550190"}]},
        headers=me,
    )
    assert dup.status_code == 201
