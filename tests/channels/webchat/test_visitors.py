"""Visitors and their tokens: one visitor per browser, the same on every device once the
website vouches for them, and nobody else's thread for a forged or stale token."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import select

from parlour.channels.webchat import visitors
from parlour.channels.webchat.models import Visitor
from parlour.contacts.models import Contact
from parlour.db.base import utcnow
from parlour.db.tx import transaction
from parlour.runtime import Runtime
from tests.channels.webchat.conftest import (
    ORIGIN,
    bearer,
    say,
    site_of,
    start,
    thread_of_agent,
    visitor_messages,
    vouch,
)
from tests.conftest import Tenant


async def test_a_new_visitor_keeps_their_token(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    first = await start(client, site)
    assert first["name"].startswith("Visitor ") and len(first["name"]) == len("Visitor 1a2b")
    again = await start(client, site, visitor_token=first["visitor_token"])
    assert again["visitor_id"] == first["visitor_id"]
    assert again["name"] == first["name"]
    # No contact until they write.
    resp = await client.get("/api/v1/conversations", headers=tenant.agent_headers)
    assert resp.json()["items"] == []


async def test_forged_expired_revoked_and_other_widgets_tokens_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other_tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    other = await site_of(runtime, other_tenant)
    mine = (await start(client, site))["visitor_token"]
    theirs = (await start(client, other))["visitor_token"]
    await say(client, theirs, "hello from the other site")

    head, _, sig = mine.rpartition(".")
    forged = f"{head}.{'0' * len(sig)}"
    parts = mine.split(".")
    parts[2] = str(int(parts[2]) + 1)  # another visitor's number, the old signature
    renumbered = ".".join(parts)
    secret = runtime.settings.secret_key
    async with transaction(runtime.db, runtime.hub) as tx:
        visitor = await tx.session.get(Visitor, int(mine.split(".")[2]))
        assert visitor is not None
        claims = visitors.claims_for(visitor, now=utcnow().replace(year=2020))
        expired = visitors.encode_token(secret, claims)
    for token in (forged, renumbered, expired, "garbage", ""):
        resp = await client.get("/widget/v1/messages", headers=bearer(token))
        assert resp.status_code == 401, token
        assert resp.json()["code"] == "visitor_token_invalid"

    # A token of another widget's visitor reads their thread only through their widget;
    # presented with this widget's public token it is not honoured either.
    again = await start(client, site, visitor_token=theirs)
    assert again["visitor_token"] != theirs

    async with transaction(runtime.db, runtime.hub) as tx:
        visitor = await tx.session.get(Visitor, int(mine.split(".")[2]))
        assert visitor is not None
        visitors.revoke(visitor)
        await tx.commit()
    resp = await client.get("/widget/v1/messages", headers=bearer(mine))
    assert resp.status_code == 401


async def test_a_vouched_identity_is_one_thread_on_every_device(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    ident = vouch(site, "user-42", name="Grace Hopper", email="grace@example.org")
    laptop = await start(client, site, identity=ident)
    phone = await start(client, site, identity=vouch(site, "user-42"))
    assert laptop["visitor_id"] == phone["visitor_id"]
    assert phone["name"] == "Grace Hopper"
    await say(client, laptop["visitor_token"], "from the laptop")
    await say(client, phone["visitor_token"], "from the phone")
    seen = await visitor_messages(client, phone["visitor_token"])
    assert [m["body"] for m in seen["items"]] == ["from the laptop", "from the phone"]
    thread = await thread_of_agent(client, tenant)
    assert thread["contact"]["name"] == "Grace Hopper"
    contact = await client.get(
        f"/api/v1/contacts/{thread['contact']['id']}", headers=tenant.agent_headers
    )
    assert [e["address"] for e in contact.json()["emails"]] == ["grace@example.org"]


async def test_a_wrong_or_stale_hash_is_refused_and_joins_nothing(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    owner = await start(client, site, identity=vouch(site, "user-7"))
    await say(client, owner["visitor_token"], "private")
    wrong = {**vouch(site, "user-7"), "hash": "ab" * 32}
    stale = vouch(site, "user-7", at=int(time.time()) - 3600)
    for ident in (wrong, stale):
        resp = await client.post(
            f"/widget/v1/{site.public_token}/visitors",
            json={"visitor_token": None, "identity": ident},
            headers={"Origin": ORIGIN},
        )
        assert resp.status_code == 403
        assert resp.json()["code"] == "identity_invalid"
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        found = await tx.session.scalars(select(Visitor).where(Visitor.widget_id == site.widget_id))
        count = len(list(found))
    assert count == 1


async def test_an_anonymous_visitor_who_identifies_is_merged_into_the_known_contact(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    known = await start(client, site, identity=vouch(site, "user-9", name="Ada"))
    await say(client, known["visitor_token"], "yesterday, logged in")
    anon = await start(client, site)
    await say(client, anon["visitor_token"], "today, not logged in yet")
    resp = await client.get("/api/v1/conversations", headers=tenant.agent_headers)
    assert len(resp.json()["items"]) == 2

    logged_in = await start(
        client, site, visitor_token=anon["visitor_token"], identity=vouch(site, "user-9")
    )
    assert logged_in["visitor_id"] == known["visitor_id"]
    thread = await thread_of_agent(client, tenant)
    assert thread["contact"]["name"] == "Ada"
    seen = await visitor_messages(client, logged_in["visitor_token"])
    assert [m["body"] for m in seen["items"]] == [
        "yesterday, logged in",
        "today, not logged in yet",
    ]
    # The anonymous visitor's token is spent: it named a contact that is gone.
    resp = await client.get("/widget/v1/messages", headers=bearer(anon["visitor_token"]))
    assert resp.status_code == 401
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        names = list(
            await tx.session.scalars(
                select(Contact.name).where(Contact.account_id == tenant.account_id)
            )
        )
    assert names == ["Ada"]


async def test_an_anonymous_visitor_who_identifies_first_keeps_their_thread(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    anon = await start(client, site)
    await say(client, anon["visitor_token"], "hello")
    named = await start(
        client,
        site,
        visitor_token=anon["visitor_token"],
        identity=vouch(site, "user-10", name="Linus"),
    )
    assert named["visitor_id"] == anon["visitor_id"]
    assert named["name"] == "Linus"
    thread = await thread_of_agent(client, tenant)
    assert thread["contact"]["name"] == "Linus"


async def test_only_admins_read_the_identity_secret(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    url = f"/api/v1/widgets/{site.widget_id}/identity-secret"
    resp = await client.get(url, headers=tenant.admin_headers)
    assert resp.status_code == 200 and resp.json() == {"identity_secret": site.secret}
    assert (await client.get(url, headers=tenant.agent_headers)).status_code == 403
    listed = await client.get("/api/v1/widgets", headers=tenant.agent_headers)
    assert "identity_secret" not in listed.json()[0]
