"""The widget's HTTP API: a visitor's message lands in the agents' inbox live, an agent's
reply reaches the visitor, and the widget's settings (origins, switched off, office
hours) and limits hold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from parlour.channels.webchat import limits, offline
from parlour.channels.webchat.models import Widget
from parlour.db.tx import transaction
from parlour.realtime.events import Event, account_topic
from parlour.runtime import Runtime
from tests.channels.webchat.conftest import (
    ORIGIN,
    bearer,
    say,
    site_of,
    start,
    thread_of_agent,
    visitor_messages,
)
from tests.conftest import Tenant, wait_for


async def next_event(queue: asyncio.Queue[object], kind: str) -> Event:
    while True:
        item = await asyncio.wait_for(queue.get(), timeout=5)
        if isinstance(item, Event) and item.type == kind:
            return item


async def test_a_visitors_message_reaches_the_agents_live_as_web_chat(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    visitor = await start(client, site)
    async with runtime.hub.subscribe(account_topic(tenant.account_id)) as sub:
        sent = await say(
            client, visitor["visitor_token"], "Is the shop open on Sunday?", client_id="c1"
        )
        event = await next_event(sub.queue, "message.created")
    assert sent["direction"] == "in" and sent["client_id"] == "c1"
    assert sent["sender"] == {"type": "contact", "name": visitor["name"], "avatar_url": None}
    live = event.data["message"]
    assert (live["id"], live["channel"], live["direction"]) == (sent["id"], "webchat", "in")
    assert live["sender_id"] == site.widget_id
    thread = await thread_of_agent(client, tenant)
    assert thread["contact"]["name"] == visitor["name"]
    assert thread["last_message_channel"] == "webchat"
    page = await client.get(
        f"/api/v1/conversations/{thread['id']}/messages", headers=tenant.agent_headers
    )
    assert [(m["body"], m["channel"]) for m in page.json()["items"]] == [
        ("Is the shop open on Sunday?", "webchat")
    ]


async def test_the_same_message_sent_twice_is_stored_once(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    headers = {**bearer(token), "Idempotency-Key": "k-1"}
    first = await client.post("/widget/v1/messages", json={"body": "once"}, headers=headers)
    again = await client.post("/widget/v1/messages", json={"body": "once"}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert len((await visitor_messages(client, token))["items"]) == 1


async def test_an_agents_reply_is_read_by_the_visitor_and_the_agent_sees_it_read(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    await say(client, token, "Hello?")
    thread = await thread_of_agent(client, tenant)
    # The contact's other channels never reach the widget.
    reply = await client.post(
        f"/api/v1/conversations/{thread['id']}/messages",
        json={"channel": "webchat", "body": "Hi! <b>How can I help?</b>"},
        headers=tenant.agent_headers,
    )
    assert reply.status_code == 201, reply.text
    reply_id = reply.json()["id"]

    async def sent() -> bool:
        page = await client.get(
            f"/api/v1/conversations/{thread['id']}/messages", headers=tenant.agent_headers
        )
        return any(m["id"] == reply_id and m["status"] == "sent" for m in page.json()["items"])

    await wait_for(sent)
    seen = await visitor_messages(client, token)
    assert seen["unread"] == 1
    out = seen["items"][-1]
    assert (out["id"], out["direction"], out["body"], out["read"]) == (
        reply_id,
        "out",
        "Hi! <b>How can I help?</b>",
        False,
    )
    assert out["sender"]["type"] == "user" and out["sender"]["name"] == "Sam Agent"
    assert set(out) == {
        "id",
        "direction",
        "body",
        "sender",
        "attachments",
        "created_at",
        "read",
        "client_id",
    }
    first_id = seen["items"][0]["id"]
    assert (await visitor_messages(client, token, after=first_id))["items"] == [out]

    async with runtime.hub.subscribe(account_topic(tenant.account_id)) as sub:
        resp = await client.post("/widget/v1/read", json={"up_to": reply_id}, headers=bearer(token))
        assert resp.status_code == 204
        event = await next_event(sub.queue, "message.updated")
    assert (event.data["message"]["id"], event.data["message"]["status"]) == (reply_id, "read")
    seen = await visitor_messages(client, token)
    assert seen["unread"] == 0 and seen["items"][-1]["read"] is True


async def test_origins_and_cors(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant, allowed_origins=[ORIGIN])
    token = (await start(client, site))["visitor_token"]
    ok = await client.get("/widget/v1/messages", headers=bearer(token))
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in ok.headers["vary"]
    assert "access-control-allow-credentials" not in ok.headers

    for origin in ("https://evil.example", None):
        headers = {"Authorization": f"Bearer {token}"}
        if origin:
            headers["Origin"] = origin
        resp = await client.get("/widget/v1/messages", headers=headers)
        assert resp.status_code == 403, origin
        assert resp.json()["code"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in resp.headers
        conf = await client.get(f"/widget/v1/{site.public_token}/config", headers=headers)
        assert conf.status_code == 403

    pre = await client.options(
        "/widget/v1/messages",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == ORIGIN
    allowed = pre.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed
    # The agents' API stays closed to other sites.
    api = await client.get(
        "/api/v1/conversations", headers={**tenant.agent_headers, "Origin": ORIGIN}
    )
    assert "access-control-allow-origin" not in api.headers
    # A readable error for a bad token, so the widget can start afresh.
    bad = await client.get("/widget/v1/messages", headers=bearer("nope"))
    assert bad.status_code == 401 and bad.headers["access-control-allow-origin"] == ORIGIN


async def test_a_switched_off_or_unknown_widget_refuses_everything(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    await site_of(runtime, tenant, enabled=False)
    for resp in (
        await client.get(f"/widget/v1/{site.public_token}/config", headers={"Origin": ORIGIN}),
        await client.post(
            f"/widget/v1/{site.public_token}/visitors", json={}, headers={"Origin": ORIGIN}
        ),
        await client.get("/widget/v1/messages", headers=bearer(token)),
        await client.post("/widget/v1/messages", json={"body": "hi"}, headers=bearer(token)),
    ):
        assert resp.status_code == 403
        assert resp.json()["code"] == "widget_disabled"
    unknown = await client.get("/widget/v1/wgt_nope/config", headers={"Origin": ORIGIN})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_widget"


async def test_bad_bodies_are_refused_cleanly(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    long = await client.post(
        "/widget/v1/messages", json={"body": "x" * 5001}, headers=bearer(token)
    )
    assert long.status_code == 422
    huge = await client.post(
        "/widget/v1/messages",
        content=b'{"body": "' + b"x" * (runtime.settings.max_body_bytes + 10) + b'"}',
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    empty = await client.post("/widget/v1/messages", json={"body": "  "}, headers=bearer(token))
    assert empty.status_code == 422 and empty.json()["code"] == "empty_message"
    assert (await visitor_messages(client, token))["items"] == []


async def test_a_flood_is_told_to_wait(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    answers = []
    # 20 at once, then (refilled at two a second) the next few are refused.
    for i in range(limits.VISITOR_MESSAGES[0] + 10):
        resp = await client.post(
            "/widget/v1/messages", json={"body": f"spam {i}"}, headers=bearer(token)
        )
        answers.append(resp.status_code)
        if resp.status_code == 429:
            break
    assert answers[: limits.VISITOR_MESSAGES[0]] == [201] * limits.VISITOR_MESSAGES[0]
    assert answers[-1] == 429
    assert resp.json()["code"] == "rate_limited"
    assert int(resp.headers["retry-after"]) >= 1
    assert resp.headers["access-control-allow-origin"] == ORIGIN


async def test_config_says_when_nobody_answers(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant, greeting="Hi there")
    url = f"/widget/v1/{site.public_token}/config"
    conf = (await client.get(url, headers={"Origin": ORIGIN})).json()
    assert conf == {
        "name": "site",
        "greeting": "Hi there",
        "color": "#4f46e5",
        "online": True,
        "ask_email": False,
        "max_attachment_bytes": runtime.settings.max_upload_bytes,
    }
    await site_of(runtime, tenant, offline_mode="no_agent_online")
    conf = (await client.get(url, headers={"Origin": ORIGIN})).json()
    assert (conf["online"], conf["ask_email"]) == (False, True)
    async with runtime.presence.agent(tenant.account_id):  # an agent's socket
        conf = (await client.get(url, headers={"Origin": ORIGIN})).json()
        assert conf["online"] is True

    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        widget = await tx.session.get(Widget, site.widget_id)
        assert widget is not None
    widget.offline_mode = "office_hours"
    widget.timezone = "Europe/Paris"
    widget.office_hours = {"wed": ["09:00", "17:00"]}
    # Wednesday 2 December 2026: 08:30 UTC is 09:30 in Paris; 16:30 UTC is 17:30.
    assert await offline.is_online(widget, runtime, now=datetime(2026, 12, 2, 8, 30, tzinfo=UTC))
    assert not await offline.is_online(
        widget, runtime, now=datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    )
    assert not await offline.is_online(
        widget, runtime, now=datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    )


def test_office_hours_that_end_before_they_start_run_past_midnight() -> None:
    widget = Widget(timezone="UTC", office_hours={"fri": ["18:00", "02:00"], "sat": []})

    def at(day: int, hour: int, minute: int = 0) -> bool:
        # December 2026: the 4th is a Friday.
        now = datetime(2026, 12, day, hour, minute, tzinfo=UTC)
        return offline.within_office_hours(widget, now=now)

    assert not at(4, 17, 59)
    assert at(4, 18) and at(4, 23, 59)
    assert at(5, 0) and at(5, 1, 59)  # Saturday small hours: Friday's evening
    assert not at(5, 2) and not at(5, 12)
    assert not at(3, 1)  # Thursday's small hours: Wednesday is closed


async def test_office_hours_are_settings(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    patch = {
        "offline_mode": "office_hours",
        "office_hours": {"mon": ["09:00", "17:30"]},
        "timezone": "America/New_York",
    }
    resp = await client.patch(
        f"/api/v1/widgets/{site.widget_id}", json=patch, headers=tenant.admin_headers
    )
    assert resp.status_code == 200, resp.text
    assert {k: resp.json()[k] for k in patch} == patch
    for bad in (
        {"offline_mode": "sometimes"},
        {"office_hours": {"mon": ["09:00", "09:00"]}},  # (17:00-09:00 runs past midnight)
        {"office_hours": {"someday": ["09:00", "17:00"]}},
        {"timezone": "Mars/Olympus"},
    ):
        resp = await client.patch(
            f"/api/v1/widgets/{site.widget_id}", json=bad, headers=tenant.admin_headers
        )
        assert resp.status_code == 422, bad


async def test_files_email_and_typing(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    up = await client.post(
        "/widget/v1/attachments",
        files={"file": ("shot.png", png, "image/png")},
        headers=bearer(token),
    )
    assert up.status_code == 201, up.text
    att = up.json()
    assert (att["filename"], att["content_type"], att["size"]) == (
        "shot.png",
        "image/png",
        len(png),
    )
    html = await client.post(
        "/widget/v1/attachments",
        files={"file": ("x.html", b"<script>alert(1)</script>", "text/html")},
        headers=bearer(token),
    )
    assert html.status_code == 415
    fake = await client.post(
        "/widget/v1/attachments",
        files={"file": ("x.png", b"<svg></svg>", "image/png")},
        headers=bearer(token),
    )
    assert fake.status_code == 422

    other = (await start(client, site))["visitor_token"]
    stolen = await client.post(
        "/widget/v1/messages", json={"attachment_ids": [att["id"]]}, headers=bearer(other)
    )
    assert stolen.status_code == 422 and stolen.json()["code"] == "unknown_attachment"
    sent = await say(client, token, "see this", attachment_ids=[att["id"]])
    (shown,) = sent["attachments"]
    assert shown["filename"] == "shot.png"
    file = await client.get(shown["url"].removeprefix("http://test"))
    assert file.status_code == 200 and file.content == png
    assert file.headers["content-disposition"].startswith("attachment")
    forged = await client.get(f"/widget/v1/files/{shown['id']}/{'0' * 32}")
    assert forged.status_code == 404

    resp = await client.post(
        "/widget/v1/email", json={"email": "Visitor@Example.org"}, headers=bearer(token)
    )
    assert resp.status_code == 204
    thread = await thread_of_agent(client, tenant)
    contact = await client.get(
        f"/api/v1/contacts/{thread['contact']['id']}", headers=tenant.agent_headers
    )
    assert [e["address"] for e in contact.json()["emails"]] == ["visitor@example.org"]

    async with runtime.hub.subscribe(account_topic(tenant.account_id)) as sub:
        resp = await client.post("/widget/v1/typing", headers=bearer(token))
        assert resp.status_code == 204
        event = await next_event(sub.queue, "typing")
    assert event.data["conversation_id"] == thread["id"] and event.data["from"] == "visitor"


async def test_the_visitor_never_sees_the_contacts_other_channels(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    await say(client, token, "Call me back?")
    thread = await thread_of_agent(client, tenant)
    phone = await client.post(
        f"/api/v1/contacts/{thread['contact']['id']}/phones",
        json={"number": "+16505550123"},
        headers=tenant.agent_headers,
    )
    assert phone.status_code == 201, phone.text
    text = await client.post(
        f"/api/v1/conversations/{thread['id']}/messages",
        json={"channel": "sms", "body": "A text, not a chat"},
        headers=tenant.agent_headers,
    )
    assert text.status_code == 201, text.text
    chat = await client.post(
        f"/api/v1/conversations/{thread['id']}/messages",
        json={"channel": "webchat", "body": "On it"},
        headers=tenant.agent_headers,
    )
    seen = await visitor_messages(client, token)
    assert [m["body"] for m in seen["items"]] == ["Call me back?", "On it"]
    assert seen["items"][-1]["id"] == chat.json()["id"]


async def test_the_window_opens_on_the_newest_messages_and_pages_forward(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    ids = [(await say(client, token, f"m{i}"))["id"] for i in range(5)]
    newest = await visitor_messages(client, token, limit=3)
    assert [m["id"] for m in newest["items"]] == ids[2:]
    after = await visitor_messages(client, token, after=ids[0], limit=2)
    assert [m["id"] for m in after["items"]] == ids[1:3]
    assert (await visitor_messages(client, token, after=ids[-1]))["items"] == []


async def test_a_visitor_leaving_a_lookalike_of_a_contacts_email_is_not_given_it(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    real = await client.post(
        "/api/v1/contacts",
        json={"name": "Grace", "emails": [{"address": "grace@navy.example"}]},
        headers=tenant.agent_headers,
    )
    assert real.status_code == 201
    site = await site_of(runtime, tenant)
    token = (await start(client, site))["visitor_token"]
    await say(client, token, "Hi, it's Grace")
    # With a Cyrillic "a": answered as any address is, and not kept.
    resp = await client.post(
        "/widget/v1/email", json={"email": "gr\u0430ce@navy.example"}, headers=bearer(token)
    )
    assert resp.status_code == 204
    thread = await thread_of_agent(client, tenant)
    contact = await client.get(
        f"/api/v1/contacts/{thread['contact']['id']}", headers=tenant.agent_headers
    )
    assert contact.json()["emails"] == []
