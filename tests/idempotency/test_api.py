"""A write sent again with its ``Idempotency-Key`` gets its first answer and does nothing
twice, through HTTP, on both databases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from parlour.channels.registry import Providers
from parlour.channels.sms.console import ConsoleSms
from parlour.contacts.models import Contact
from parlour.conversations import outbound
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.idempotency import service
from parlour.idempotency.models import IdempotencyKey
from parlour.runtime import Runtime
from tests.conftest import Tenant, run_tx, wait_for

API = "/api/v1"


def keyed(tenant: Tenant, key: str, *, agent: bool = False) -> dict[str, str]:
    headers = tenant.agent_headers if agent else tenant.admin_headers
    return {**headers, "Idempotency-Key": key}


def new_key() -> str:
    return str(uuid.uuid4())


async def contacts_named(rt: Runtime, tenant: Tenant, name: str) -> int:
    async def count(tx: Tx) -> int:
        n = await tx.session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(Contact.account_id == tenant.account_id, Contact.name == name)
        )
        return int(n or 0)

    return int(await run_tx(rt, count))


async def a_thread(client: httpx.AsyncClient, tenant: Tenant, phone: str) -> int:
    c = await client.post(
        f"{API}/contacts",
        json={"name": "Rita Retry", "phones": [{"number": phone}]},
        headers=tenant.admin_headers,
    )
    assert c.status_code == 201, c.text
    conv = await client.post(
        f"{API}/contacts/{c.json()['id']}/conversation", headers=tenant.admin_headers
    )
    assert conv.status_code == 200, conv.text
    conv_id: int = conv.json()["id"]
    return conv_id


async def messages(client: httpx.AsyncClient, tenant: Tenant, conv_id: int) -> list[Any]:
    resp = await client.get(f"{API}/conversations/{conv_id}/messages", headers=tenant.admin_headers)
    items: list[Any] = resp.json()["items"]
    return items


async def test_a_message_sent_again_with_its_key_gets_the_first_answer_and_goes_out_once(
    client: httpx.AsyncClient, tenant: Tenant, providers: Providers
) -> None:
    conv_id = await a_thread(client, tenant, "+16505550170")
    key = new_key()
    send = {"channel": "sms", "body": "Sent once", "client_id": key}
    first = await client.post(
        f"{API}/conversations/{conv_id}/messages", json=send, headers=keyed(tenant, key)
    )
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await client.post(
        f"{API}/conversations/{conv_id}/messages", json=send, headers=keyed(tenant, key)
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    assert again.content == first.content

    async def delivered() -> Any:
        items = await messages(client, tenant, conv_id)
        return items if items[-1]["status"] == "delivered" else None

    items = await wait_for(delivered)
    assert [m["id"] for m in items] == [first.json()["id"]]
    console = providers.sms["console"]
    assert isinstance(console, ConsoleSms)
    assert [s.body for s in console.sent if s.message_id == first.json()["id"]] == ["Sent once"]


async def test_a_contact_created_again_with_its_key_is_created_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = new_key()
    answers = [
        await client.post(f"{API}/contacts", json={"name": "Once Only"}, headers=keyed(tenant, key))
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [a.headers.get("idempotent-replayed") for a in answers] == [None, "true", "true"]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await contacts_named(runtime, tenant, "Once Only") == 1


async def test_the_same_key_with_another_body_is_refused_and_creates_nothing(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = new_key()
    first = await client.post(
        f"{API}/contacts", json={"name": "First Body"}, headers=keyed(tenant, key)
    )
    assert first.status_code == 201
    for method, url, body in (
        ("POST", f"{API}/contacts", {"name": "Second Body"}),
        ("POST", f"{API}/contacts?x=1", {"name": "First Body"}),
        ("PATCH", f"{API}/contacts/{first.json()['id']}", {"name": "First Body"}),
    ):
        resp = await client.request(method, url, json=body, headers=keyed(tenant, key))
        assert (resp.status_code, resp.json()["code"]) == (422, "idempotency_key_reused")
    assert await contacts_named(runtime, tenant, "Second Body") == 0
    assert await contacts_named(runtime, tenant, "First Body") == 1


async def test_keys_are_each_users_own(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, runtime: Runtime
) -> None:
    key = new_key()
    body = {"name": "Shared Key"}
    mine = await client.post(f"{API}/contacts", json=body, headers=keyed(tenant, key))
    colleague = await client.post(
        f"{API}/contacts", json=body, headers=keyed(tenant, key, agent=True)
    )
    stranger = await client.post(f"{API}/contacts", json=body, headers=keyed(other_tenant, key))
    assert [r.status_code for r in (mine, colleague, stranger)] == [201, 201, 201]
    assert all("idempotent-replayed" not in r.headers for r in (mine, colleague, stranger))
    assert mine.json()["id"] != colleague.json()["id"]
    assert await contacts_named(runtime, tenant, "Shared Key") == 2
    assert await contacts_named(runtime, other_tenant, "Shared Key") == 1


@pytest.mark.parametrize("key", [b"", b"has space", b"x" * 256, b"tab\there", "é".encode()])
async def test_a_malformed_key_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, key: bytes
) -> None:
    name = f"Bad Key {uuid.uuid4().hex[:6]}"
    headers = [(k.encode(), v.encode()) for k, v in tenant.admin_headers.items()]
    resp = await client.post(
        f"{API}/contacts", json={"name": name}, headers=[*headers, (b"Idempotency-Key", key)]
    )
    assert (resp.status_code, resp.json()["code"]) == (422, "invalid_idempotency_key")
    assert await contacts_named(runtime, tenant, name) == 0


async def test_the_longest_key_and_reads_with_any_key_are_fine(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    longest = "~" * 255
    resp = await client.post(f"{API}/views", json={"name": "Keyed"}, headers=keyed(tenant, longest))
    assert resp.status_code == 201, resp.text
    read = await client.get(f"{API}/views", headers=keyed(tenant, "not a key"))
    assert read.status_code == 200


async def test_a_refusal_before_anything_was_written_leaves_the_key_free(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = new_key()
    conv_id = await a_thread(client, tenant, "+16505550171")
    url = f"{API}/conversations/{conv_id}/messages"
    send = {"channel": "sms", "body": "x" * 1601}
    for _ in range(2):  # refused each time: nothing was written, so nothing was kept
        resp = await client.post(url, json=send, headers=keyed(tenant, key))
        assert resp.status_code == 422, resp.text
        assert resp.json()["code"] != "idempotency_key_reused"
    assert await messages(client, tenant, conv_id) == []


async def test_an_upload_sent_again_as_a_new_form_is_kept_once(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A browser picks a new multipart boundary each time: the same file is the same request."""
    key = new_key()
    file = {"file": ("quote.txt", b"the quote", "text/plain")}
    first = await client.post(f"{API}/attachments", files=file, headers=keyed(tenant, key))
    again = await client.post(f"{API}/attachments", files=file, headers=keyed(tenant, key))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = {"file": ("quote.txt", b"another quote", "text/plain")}
    refused = await client.post(f"{API}/attachments", files=other, headers=keyed(tenant, key))
    assert (refused.status_code, refused.json()["code"]) == (422, "idempotency_key_reused")


async def test_a_delete_sent_again_is_answered_204_again(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    view = await client.post(f"{API}/views", json={"name": "Gone"}, headers=tenant.admin_headers)
    key = new_key()
    url = f"{API}/views/{view.json()['id']}"
    first = await client.delete(url, headers=keyed(tenant, key))
    again = await client.delete(url, headers=keyed(tenant, key))
    assert (first.status_code, again.status_code) == (204, 204)
    assert (again.content, again.headers["idempotent-replayed"]) == (b"", "true")
    unkeyed = await client.delete(url, headers=tenant.admin_headers)
    assert unkeyed.status_code == 404


async def test_two_requests_with_one_key_at_once_create_one_message(
    client: httpx.AsyncClient,
    tenant: Tenant,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conv_id = await a_thread(client, tenant, "+16505550172")
    if database_url.startswith("postgresql"):
        # Both requests are let through the look-up before either commits: the second
        # one's key then meets the first's on the unique index. (SQLite's writers take
        # turns, so there the second request looks the key up after the first commit.)
        both_in = asyncio.Barrier(2)
        send_message = outbound.send_message

        async def together(tx: Tx, **kwargs: Any) -> Any:
            await asyncio.wait_for(both_in.wait(), timeout=10)
            return await send_message(tx, **kwargs)

        monkeypatch.setattr(outbound, "send_message", together)
    key = new_key()
    send = {"channel": "sms", "body": "Twice at once"}
    answers = await asyncio.gather(
        *(
            client.post(
                f"{API}/conversations/{conv_id}/messages", json=send, headers=keyed(tenant, key)
            )
            for _ in range(2)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["code"] == "idempotency_key_in_use"
    assert "was not repeated" in refused.json()["message"]
    assert refused.headers["retry-after"] == "1"
    assert [m["body"] for m in await messages(client, tenant, conv_id)] == ["Twice at once"]
    monkeypatch.undo()
    later = await client.post(
        f"{API}/conversations/{conv_id}/messages", json=send, headers=keyed(tenant, key)
    )
    assert (later.status_code, later.headers["idempotent-replayed"]) == (201, "true")


async def _age_keys(rt: Runtime, tenant: Tenant, by: timedelta) -> None:
    async def age(tx: Tx) -> None:
        await tx.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.account_id == tenant.account_id)
            .values(created_at=utcnow() - by)
        )

    await run_tx(rt, age)


async def test_a_key_is_kept_a_day_then_pruned_and_free_again(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = new_key()
    body = {"name": "A Day Apart"}
    first = await client.post(f"{API}/contacts", json=body, headers=keyed(tenant, key))
    await _age_keys(runtime, tenant, timedelta(hours=23))
    assert await run_tx(runtime, service.prune_keys) == 0
    kept = await client.post(f"{API}/contacts", json=body, headers=keyed(tenant, key))
    assert kept.headers["idempotent-replayed"] == "true"
    await _age_keys(runtime, tenant, timedelta(hours=25))
    assert await run_tx(runtime, service.prune_keys) >= 1
    again = await client.post(f"{API}/contacts", json=body, headers=keyed(tenant, key))
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert await contacts_named(runtime, tenant, "A Day Apart") == 2


async def test_an_expired_key_not_yet_pruned_is_free_again(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = new_key()
    body = {"name": "Expired Unpruned"}
    await client.post(f"{API}/contacts", json=body, headers=keyed(tenant, key))
    await _age_keys(runtime, tenant, timedelta(hours=25))
    again = await client.post(f"{API}/contacts", json=body, headers=keyed(tenant, key))
    assert (again.status_code, again.headers.get("idempotent-replayed")) == (201, None)
    assert await contacts_named(runtime, tenant, "Expired Unpruned") == 2


async def test_a_write_whose_answer_could_not_be_kept_is_not_repeated_by_a_retry(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The contact was created, then keeping its answer failed (the database went away
    between the two): the first request still answers 201, and the retry is told the
    effect is stored, and creates nothing again."""

    async def refused(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("the database went away")

    monkeypatch.setattr(service, "keep_answer", refused)
    key = new_key()
    body = {"name": "Answer Lost"}
    first = await client.post(f"{API}/contacts", json=body, headers=keyed(tenant, key))
    assert first.status_code == 201, first.text
    monkeypatch.undo()
    retried = await client.post(f"{API}/contacts", json=body, headers=keyed(tenant, key))
    assert (retried.status_code, retried.json()["code"]) == (409, "idempotency_key_in_use")
    assert "stored and was not repeated" in retried.json()["message"]
    assert await contacts_named(runtime, tenant, "Answer Lost") == 1


async def test_the_openapi_document_names_the_header_where_it_is_honoured(
    client: httpx.AsyncClient,
) -> None:
    doc = (await client.get(f"{API}/openapi.json")).json()

    def honours(path: str, method: str) -> bool:
        params = doc["paths"][f"{API}{path}"][method].get("parameters", [])
        return any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params)

    send = doc["paths"][f"{API}/conversations/{{conversation_id}}/messages"]["post"]
    assert honours("/conversations/{conversation_id}/messages", "post")
    assert "idempotency_key_in_use" in send["responses"]["409"]["description"]
    assert "idempotency_key_reused" in send["responses"]["422"]["description"]
    assert "Idempotent-Replayed" in send["responses"]["201"]["headers"]
    for path in ("/contacts", "/contacts/{contact_id}/notes", "/attachments", "/views"):
        assert honours(path, "post"), path
    assert not honours("/auth/login", "post")
    assert not honours("/conversations/{conversation_id}/messages", "get")
