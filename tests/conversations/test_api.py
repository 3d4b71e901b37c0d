"""The contacts panel, threads and sending, through HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from parlour.channels.registry import Providers
from parlour.channels.sms import ENDPOINT_NAMES as SMS_NAMES
from parlour.channels.sms.console import ConsoleSms
from parlour.contacts import service as contacts_service
from parlour.conversations import inbound as conversations_inbound
from parlour.conversations import outbound
from parlour.conversations.channel import Author, Draft
from parlour.db.tx import Tx
from parlour.runtime import Runtime
from tests.conftest import Tenant, run_tx, search_pages, wait_for


async def new_contact(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/contacts", json=body, headers=tenant.admin_headers)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def open_thread(client: httpx.AsyncClient, tenant: Tenant, contact_id: int) -> int:
    resp = await client.post(
        f"/api/v1/contacts/{contact_id}/conversation", headers=tenant.admin_headers
    )
    assert resp.status_code == 200
    conv_id: int = resp.json()["id"]
    return conv_id


async def inbound_sms(rt: Runtime, tenant: Tenant, contact_id: int, body: str) -> None:
    async def go(tx: Tx) -> None:
        contact = await contacts_service.get_contact(
            tx, account_id=tenant.account_id, contact_id=contact_id
        )
        await conversations_inbound.receive_inbound(
            tx,
            sender=contacts_service.Sender.of(contact),
            inbound=conversations_inbound.Inbound(
                channel="sms", body=body, from_address="+16505550199", to_address="+1650"
            ),
            names=SMS_NAMES,
        )

    await run_tx(rt, go)


async def test_sending_an_sms_queues_then_delivers_through_the_provider(
    client: httpx.AsyncClient, tenant: Tenant, providers: Providers
) -> None:
    c = await new_contact(client, tenant, name="Tess", phones=[{"number": "+16505550160"}])
    conv_id = await open_thread(client, tenant, c["id"])
    options = (
        await client.get(f"/api/v1/conversations/{conv_id}/channels", headers=tenant.admin_headers)
    ).json()
    sms = next(o for o in options["channels"] if o["channel"] == "sms")
    assert sms["available"] is True
    resp = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "Hi Tess", "client_id": "tmp-1"},
        headers=tenant.agent_headers,
    )
    assert resp.status_code == 201, resp.text
    sent = resp.json()
    assert sent["status"] == "queued"
    assert sent["client_id"] == "tmp-1"
    assert sent["sender"]["type"] == "user"
    assert sent["sender"]["name"] == "Sam Agent"
    assert sent["to_address"] == "+16505550160"
    assert sent["from_address"] == sms["senders"][0]["address"]

    async def delivered() -> Any:
        thread = await client.get(
            f"/api/v1/conversations/{conv_id}/messages", headers=tenant.admin_headers
        )
        items = thread.json()["items"]
        return items if items and items[-1]["status"] == "delivered" else None

    await wait_for(delivered)
    console = providers.sms["console"]
    assert isinstance(console, ConsoleSms)
    assert [(s.from_number, s.to, s.body) for s in console.sent if s.message_id == sent["id"]] == [
        (sent["from_address"], "+16505550160", "Hi Tess")
    ]


async def test_opted_out_phone_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    c = await new_contact(
        client, tenant, name="Olly", phones=[{"number": "+16505550161", "sms_opt_out": True}]
    )
    conv_id = await open_thread(client, tenant, c["id"])
    resp = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "hello?"},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == "contact_opted_out"
    thread = await client.get(
        f"/api/v1/conversations/{conv_id}/messages", headers=tenant.admin_headers
    )
    assert thread.json()["items"] == []


async def test_email_creates_an_email_task_owned_by_the_sender(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    c = await new_contact(client, tenant, name="Em", emails=[{"address": "em@example.com"}])
    conv_id = await open_thread(client, tenant, c["id"])
    no_subject = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "body": "Hi"},
        headers=tenant.agent_headers,
    )
    assert no_subject.json()["code"] == "subject_required"
    resp = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={
            "channel": "email",
            "subject": "Your order",
            "html": '<p>Hello <img src="https://tracker.example/p.gif" onerror="x()">'
            "<script>alert(1)</script></p>",
        },
        headers=tenant.agent_headers,
    )
    assert resp.status_code == 201, resp.text
    msg = resp.json()
    assert msg["body"] == "Hello"
    assert "script" not in msg["html"] and "onerror" not in msg["html"]
    assert "tracker.example" not in msg["html"]

    async def completed() -> Any:
        tasks = (await client.get("/api/v1/tasks", headers=tenant.agent_headers)).json()
        return tasks if tasks and tasks[0]["status"] == "completed" else None

    tasks = await wait_for(completed)
    assert [(t["kind"], t["owner_id"], t["message_id"]) for t in tasks] == [
        ("email", tenant.agent_id, msg["id"])
    ]


async def test_panel_lists_only_contacts_in_a_conversation_newest_first_with_cursor(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    ids = []
    for i in range(5):
        c = await new_contact(client, tenant, name=f"P{i}", phones=[{"number": f"+1650555017{i}"}])
        ids.append(c["id"])
    await new_contact(client, tenant, name="Silent")  # never wrote: not on the panel
    for cid in ids:
        await inbound_sms(runtime, tenant, cid, f"hello from {cid}")
    page1 = await client.get(
        "/api/v1/conversations", params={"limit": 2}, headers=tenant.admin_headers
    )
    body = page1.json()
    assert [c["contact"]["id"] for c in body["items"]] == [ids[4], ids[3]]
    assert body["items"][0]["unread_count"] == 1
    assert body["items"][0]["last_message_preview"] == f"hello from {ids[4]}"
    seen = [c["contact"]["id"] for c in body["items"]]
    cursor = body["next_cursor"]
    while cursor:
        page = (
            await client.get(
                "/api/v1/conversations",
                params={"limit": 2, "cursor": cursor},
                headers=tenant.admin_headers,
            )
        ).json()
        seen += [c["contact"]["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))
    searched = await client.get(
        "/api/v1/conversations", params={"q": "p3"}, headers=tenant.admin_headers
    )
    assert [c["contact"]["name"] for c in searched.json()["items"]] == ["P3"]


async def test_panel_search_follows_a_renamed_or_merged_contact(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, search_plan: str
) -> None:
    # The walk tests each thread's copy of its contact's search text (PostgreSQL): the copy
    # must follow the contact's edits, or the thread would be found by its old name.
    kim = await new_contact(client, tenant, name="Kim Arbour", phones=[{"number": "+16505550181"}])
    other = await new_contact(client, tenant, name="", emails=[{"address": "kestrel@example.com"}])
    for c in (kim, other):
        await inbound_sms(runtime, tenant, c["id"], "hi")

    async def found(q: str) -> list[int]:
        resp = await client.get(
            "/api/v1/conversations", params={"q": q}, headers=tenant.admin_headers
        )
        assert resp.status_code == 200, resp.text
        return [c["contact"]["id"] for c in resp.json()["items"]]

    assert await found("arbour") == [kim["id"]]
    renamed = await client.patch(
        f"/api/v1/contacts/{kim['id']}", json={"name": "Kim Osei"}, headers=tenant.admin_headers
    )
    assert renamed.status_code == 200, renamed.text
    assert await found("arbour") == []
    assert await found("osei") == [kim["id"]]
    assert await found("os") == [kim["id"]]
    merged = await client.post(
        f"/api/v1/contacts/{kim['id']}/merge",
        json={"other_contact_id": other["id"]},
        headers=tenant.admin_headers,
    )
    assert merged.status_code == 200, merged.text
    assert await found("kestrel") == [kim["id"]]


async def test_panel_search_pages_newest_first_with_a_cursor(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, search_plan: str
) -> None:
    # Every plan gives one order.
    ids = []
    for i, name in enumerate(["Mo Quill", "Quillon Ada", "Bea Quill", "Cy Other", "Quill Dee"]):
        c = await new_contact(client, tenant, name=name, phones=[{"number": f"+1650555019{i}"}])
        ids.append(c["id"])
    for cid in ids:
        await inbound_sms(runtime, tenant, cid, f"hello from {cid}")
    for q, expected in [
        ("quill", ["Quill Dee", "Bea Quill", "Quillon Ada", "Mo Quill"]),
        ("qu", ["Quill Dee", "Bea Quill", "Quillon Ada", "Mo Quill"]),
    ]:
        seen = await search_pages(client, tenant, "/api/v1/conversations", q, limit=2)
        assert [c["contact"]["name"] for c in seen] == expected


async def test_views_read_markers_and_assignment(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    a = await new_contact(client, tenant, name="Alpha", phones=[{"number": "+16505550180"}])
    b = await new_contact(client, tenant, name="Beta", phones=[{"number": "+16505550181"}])
    await inbound_sms(runtime, tenant, a["id"], "a1")
    await inbound_sms(runtime, tenant, b["id"], "b1")
    panel = (await client.get("/api/v1/conversations", headers=tenant.admin_headers)).json()
    conv_a = next(c["id"] for c in panel["items"] if c["contact"]["id"] == a["id"])

    async def view(name: str, headers: dict[str, str]) -> list[str]:
        resp = await client.get("/api/v1/conversations", params={"view": name}, headers=headers)
        assert resp.status_code == 200, resp.text
        return [c["contact"]["name"] for c in resp.json()["items"]]

    assert await view("unread", tenant.admin_headers) == ["Beta", "Alpha"]
    read = await client.post(f"/api/v1/conversations/{conv_a}/read", headers=tenant.admin_headers)
    assert read.status_code == 204
    assert await view("unread", tenant.admin_headers) == ["Beta"]
    assert await view("unread", tenant.agent_headers) == ["Beta", "Alpha"]  # per user

    assigned = await client.patch(
        f"/api/v1/conversations/{conv_a}",
        json={"assignee_id": tenant.agent_id},
        headers=tenant.admin_headers,
    )
    assert assigned.json()["assignee_id"] == tenant.agent_id
    assert await view("mine", tenant.agent_headers) == ["Alpha"]
    assert await view("unassigned", tenant.agent_headers) == ["Beta"]
    assert await view("sms", tenant.agent_headers) == ["Beta", "Alpha"]
    assert await view("email", tenant.agent_headers) == []
    closed = await client.patch(
        f"/api/v1/conversations/{conv_a}", json={"status": "closed"}, headers=tenant.admin_headers
    )
    assert closed.json()["status"] == "closed"
    assert await view("all", tenant.agent_headers) == ["Beta"]
    assert await view("closed", tenant.agent_headers) == ["Alpha"]

    saved = await client.post(
        "/api/v1/views",
        json={"name": "Agent's SMS", "filters": {"status": "any", "assignee": tenant.agent_id}},
        headers=tenant.agent_headers,
    )
    assert saved.status_code == 201
    assert await view(saved.json()["id"], tenant.agent_headers) == ["Alpha"]
    views = (await client.get("/api/v1/views", headers=tenant.agent_headers)).json()
    counts = {v["id"]: v["count"] for v in views}
    assert counts["all"] == 1 and counts["closed"] == 1 and counts[saved.json()["id"]] == 1
    # Another user's saved view is not visible.
    other = await client.get(
        "/api/v1/conversations", params={"view": saved.json()["id"]}, headers=tenant.admin_headers
    )
    assert other.status_code == 404
    assert other.json()["code"] == "unknown_view"


async def test_bot_messages_show_the_workflow_and_thread_pages_backwards(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    c = await new_contact(client, tenant, name="Botty", phones=[{"number": "+16505550182"}])
    conv_id = await open_thread(client, tenant, c["id"])

    async def bot_send(tx: Tx) -> None:
        for i in range(7):
            await outbound.send_message(
                tx,
                channel=runtime.channels["sms"],
                account_id=tenant.account_id,
                conversation_id=conv_id,
                author=Author.bot(workflow_name="Welcome series"),
                draft=Draft(body=f"m{i}"),
            )

    await run_tx(runtime, bot_send)
    first = (
        await client.get(
            f"/api/v1/conversations/{conv_id}/messages",
            params={"limit": 3},
            headers=tenant.admin_headers,
        )
    ).json()
    assert [m["body"] for m in first["items"]] == ["m4", "m5", "m6"]
    assert first["items"][0]["sender"] == {
        "type": "bot",
        "user_id": None,
        "workflow_id": None,
        "workflow_run_id": None,
        "name": "Welcome series",
        "avatar_url": None,
        "initials": "🤖",
    }
    older = (
        await client.get(
            f"/api/v1/conversations/{conv_id}/messages",
            params={"limit": 3, "before": first["older_cursor"]},
            headers=tenant.admin_headers,
        )
    ).json()
    assert [m["body"] for m in older["items"]] == ["m1", "m2", "m3"]


async def test_email_with_uploaded_attachments_reaches_the_provider(
    client: httpx.AsyncClient, tenant: Tenant, providers: Providers, other_tenant: Tenant
) -> None:
    from parlour.channels.email.console import ConsoleEmail

    c = await new_contact(client, tenant, name="Att", emails=[{"address": "att@example.com"}])
    conv_id = await open_thread(client, tenant, c["id"])
    up = await client.post(
        "/api/v1/attachments",
        files={"file": ("C:\\Users\\me\\quote.pdf", b"%PDF-1.4 quote", "application/pdf")},
        headers=tenant.agent_headers,
    )
    assert up.status_code == 201, up.text
    att = up.json()
    assert (att["filename"], att["content_type"], att["size"]) == (
        "quote.pdf",
        "application/pdf",
        14,
    )
    # Someone else's upload cannot be sent from here.
    theirs = await client.post(
        "/api/v1/attachments",
        files={"file": ("x.txt", b"secret", "text/plain")},
        headers=other_tenant.admin_headers,
    )
    bad = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "subject": "Quote", "attachment_ids": [theirs.json()["id"]]},
        headers=tenant.agent_headers,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "unknown_attachment"
    sms = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "x", "attachment_ids": [att["id"]]},
        headers=tenant.agent_headers,
    )
    assert sms.status_code == 422
    resp = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "subject": "Quote", "attachment_ids": [att["id"]]},
        headers=tenant.agent_headers,
    )
    assert resp.status_code == 201, resp.text
    assert [a["filename"] for a in resp.json()["attachments"]] == ["quote.pdf"]
    again = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "subject": "Again", "attachment_ids": [att["id"]]},
        headers=tenant.agent_headers,
    )
    assert again.json()["code"] == "unknown_attachment"
    download = await client.get(resp.json()["attachments"][0]["url"], headers=tenant.admin_headers)
    assert download.content == b"%PDF-1.4 quote"
    assert "attachment;" in download.headers["content-disposition"]

    console = providers.email["console"]
    assert isinstance(console, ConsoleEmail)

    async def delivered() -> Any:
        got = [e for e in console.sent if e.to == "att@example.com"]
        return got or None

    (email,) = await wait_for(delivered)
    assert [(a.filename, a.data) for a in email.attachments] == [("quote.pdf", b"%PDF-1.4 quote")]


async def test_per_number_opt_out_is_judged_against_the_chosen_number(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    scope = await client.patch(
        "/api/v1/account", json={"sms_opt_out_scope": "number"}, headers=tenant.admin_headers
    )
    assert scope.json()["sms_opt_out_scope"] == "number"
    numbers = (await client.get("/api/v1/phone-numbers", headers=tenant.admin_headers)).json()
    first = numbers[0]
    second = (
        await client.post(
            "/api/v1/phone-numbers",
            json={"number": "+16505550199", "label": "Second"},
            headers=tenant.admin_headers,
        )
    ).json()
    c = await new_contact(client, tenant, name="Stopper", phones=[{"number": "+16505550198"}])
    conv_id = await open_thread(client, tenant, c["id"])
    # The contact texted STOP to the first number only.
    from parlour.contacts.models import ContactPhone

    async def stop_at_first(tx: Tx) -> None:
        phone = await tx.session.get(ContactPhone, c["phones"][0]["id"])
        assert phone is not None
        phone.sms_opt_out = True
        phone.sms_opt_out_number = first["e164"]

    await run_tx(runtime, stop_at_first)

    async def sms_option(number_id: int) -> Any:
        resp = await client.get(
            f"/api/v1/conversations/{conv_id}/channels",
            params={"phone_number_id": number_id},
            headers=tenant.admin_headers,
        )
        assert resp.status_code == 200
        return next(o for o in resp.json()["channels"] if o["channel"] == "sms")

    assert (await sms_option(first["id"]))["reason_code"] == "contact_opted_out"
    assert (await sms_option(second["id"]))["available"] is True
    blocked = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "hi", "phone_number_id": first["id"]},
        headers=tenant.admin_headers,
    )
    assert blocked.json()["code"] == "contact_opted_out"
    allowed = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "hi", "phone_number_id": second["id"]},
        headers=tenant.admin_headers,
    )
    assert allowed.status_code == 201, allowed.text


async def test_thread_and_panel_pages_are_exactly_their_documented_shapes(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    # Pages are shaped as dicts and serialised once, not built as models (for speed): each
    # must still be exactly what the documented model gives, field for field.
    from parlour.conversations.schemas import ConversationPage, MessagePage

    c = await new_contact(
        client,
        tenant,
        name="Shape Ü",
        phones=[{"number": "+16505550183"}],
        emails=[{"address": "shape@example.com"}],
    )
    await inbound_sms(runtime, tenant, c["id"], "from the contact")
    conv_id = await open_thread(client, tenant, c["id"])
    up = await client.post(
        "/api/v1/attachments",
        files={"file": ("a.txt", b"hello", "text/plain")},
        headers=tenant.agent_headers,
    )
    sent = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={
            "channel": "email",
            "subject": "Files",
            "body": "see attached",
            "attachment_ids": [up.json()["id"]],
            "client_id": "c-1",
        },
        headers=tenant.agent_headers,
    )
    assert sent.status_code == 201, sent.text

    await send_as_bot(runtime, tenant, conv_id, "from the bot")
    page = (
        await client.get(f"/api/v1/conversations/{conv_id}/messages", headers=tenant.admin_headers)
    ).json()
    assert [m["sender"]["type"] for m in page["items"]] == ["contact", "user", "bot"]
    assert MessagePage.model_validate(page).model_dump(mode="json") == page
    mine = page["items"][1]
    assert set(mine) == set(sent.json())
    assert (mine["client_id"], mine["attachments"]) == ("c-1", sent.json()["attachments"])
    panel = (await client.get("/api/v1/conversations", headers=tenant.admin_headers)).json()
    assert ConversationPage.model_validate(panel).model_dump(mode="json") == panel
    one = await client.get(f"/api/v1/conversations/{conv_id}", headers=tenant.admin_headers)
    assert panel["items"][0] == one.json()


async def send_as_bot(runtime: Runtime, tenant: Tenant, conv_id: int, body: str) -> None:
    """A message from the "Welcome" workflow, on SMS."""

    async def send(tx: Tx) -> None:
        await outbound.send_message(
            tx,
            channel=runtime.channels["sms"],
            account_id=tenant.account_id,
            conversation_id=conv_id,
            author=Author.bot(workflow_name="Welcome"),
            draft=Draft(body=body),
        )

    await run_tx(runtime, send)


async def test_panel_names_who_wrote_the_newest_message(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """The panel's preview says "You:" only for the user's own messages: each row carries
    who wrote its newest message (the contact, which user, or which workflow)."""
    c = await new_contact(client, tenant, name="Prevue", phones=[{"number": "+16505550184"}])

    async def newest_sender() -> Any:
        panel = (
            await client.get(
                "/api/v1/conversations", params={"q": "Prevue"}, headers=tenant.admin_headers
            )
        ).json()
        one = (
            await client.get(f"/api/v1/conversations/{conv_id}", headers=tenant.admin_headers)
        ).json()
        assert panel["items"][0]["last_message_sender"] == one["last_message_sender"]
        return one["last_message_sender"]

    await inbound_sms(runtime, tenant, c["id"], "hello?")
    conv_id = await open_thread(client, tenant, c["id"])
    assert await newest_sender() == {"type": "contact", "user_id": None, "name": ""}

    sent = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "Hi from Sam"},
        headers=tenant.agent_headers,
    )
    assert sent.status_code == 201, sent.text
    sam = sent.json()["sender"]["user_id"]
    assert await newest_sender() == {"type": "user", "user_id": sam, "name": "Sam Agent"}

    await send_as_bot(runtime, tenant, conv_id, "from the bot")
    assert await newest_sender() == {"type": "bot", "user_id": None, "name": "Welcome"}
