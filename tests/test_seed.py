"""`parlour seed`: a bulk-inserted inbox whose panel, threads and search are all correct."""

from __future__ import annotations

import io
import uuid
from collections import Counter, defaultdict
from typing import Any

import httpx
import phonenumbers
from sqlalchemy import select

from parlour.accounts import service as accounts_service
from parlour.accounts.models import Account, User
from parlour.config import Settings
from parlour.contacts import service as contacts_service
from parlour.contacts.models import Contact, ContactEmail, ContactPhone
from parlour.contacts.normalize import fold
from parlour.conversations.models import Conversation, Message
from parlour.conversations.thread import preview_of
from parlour.db.tx import Tx
from parlour.runtime import Runtime
from parlour.sample.progress import progress
from parlour.sample.seed import seed
from parlour.sample.seed_company import ADMIN_PASSWORD, admin_email
from tests.conftest import run_tx

CONTACTS = 200
MESSAGES = 3000


async def _load(rt: Runtime, account: str) -> dict[str, Any]:
    async def go(tx: Tx) -> dict[str, Any]:
        s = tx.session
        acct = await s.scalar(select(Account).where(Account.name == account))
        assert acct is not None
        aid = acct.id
        return {
            "account": acct,
            "admin": await s.scalar(select(User).where(User.account_id == aid)),
            "contacts": list(await s.scalars(select(Contact).where(Contact.account_id == aid))),
            "phones": list(
                await s.scalars(select(ContactPhone.e164).where(ContactPhone.account_id == aid))
            ),
            "emails": list(
                await s.scalars(select(ContactEmail.address).where(ContactEmail.account_id == aid))
            ),
            "conversations": list(
                await s.scalars(select(Conversation).where(Conversation.account_id == aid))
            ),
            "messages": list(
                await s.scalars(
                    select(Message)
                    .where(Message.account_id == aid)
                    .order_by(Message.conversation_id, Message.created_at, Message.id)
                )
            ),
        }

    data: dict[str, Any] = await run_tx(rt, go)
    return data


async def test_seed_fills_an_account_whose_panel_threads_and_search_are_right(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    account = f"Seed {uuid.uuid4().hex[:8]}"
    summary = await seed(settings, account=account, contacts=CONTACTS, messages=MESSAGES)
    assert f"{CONTACTS} contacts" in summary and f"{MESSAGES} messages" in summary

    data = await _load(runtime, account)
    admin = data["admin"]
    assert admin.email == admin_email(account) and admin.role == "admin"
    assert len(data["contacts"]) == CONTACTS
    assert len(data["conversations"]) == CONTACTS
    assert len(data["messages"]) == MESSAGES

    # Every contact has one valid, unique phone number and one unique email address.
    phones, emails = data["phones"], data["emails"]
    assert len(set(phones)) == len(phones) == CONTACTS
    assert len(set(emails)) == len(emails) == CONTACTS
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)
    names = [c.name for c in data["contacts"]]
    assert any(fold(n) != n.lower() for n in names), "some names should carry accents"
    assert len(set(names)) > CONTACTS // 2

    # Threads: heavy-tailed, with one long thread and several long-ish ones.
    by_conv: dict[int, list[Message]] = defaultdict(list)
    for m in data["messages"]:
        by_conv[m.conversation_id].append(m)
    sizes = sorted((len(v) for v in by_conv.values()), reverse=True)
    assert sizes[0] >= 1000
    assert sum(1 for n in sizes if n >= 200) >= 5
    assert len(by_conv) == CONTACTS  # every conversation is on the panel
    assert Counter(m.channel for m in data["messages"]).keys() == {"sms", "webchat", "email"}
    assert Counter(m.direction for m in data["messages"]).keys() == {"in", "out"}

    # The denormalised panel fields agree with the messages they summarise.
    for conv in data["conversations"]:
        thread = by_conv[conv.id]
        times = [m.created_at for m in thread]
        assert times == sorted(times) and len(set(times)) == len(times)
        last = thread[-1]
        assert conv.last_message_at == last.created_at
        assert conv.last_message_channel == last.channel
        assert conv.last_message_direction == last.direction
        assert conv.last_message_preview == preview_of(last)
        inbound = [m.created_at for m in thread if m.direction == "in"]
        assert conv.last_inbound_at == (max(inbound) if inbound else None)
        used = {m.channel for m in thread}
        assert conv.channels == " ".join(sorted(used))
    assert any(c.assignee_id == admin.id for c in data["conversations"])

    # The seeded admin can use the API: the panel is newest first, and search finds people.
    async def token(tx: Tx) -> str:
        user = await accounts_service.get_user_by_email(tx, email=admin.email)
        return (await accounts_service.create_api_token(tx, user=user, name="test")).token

    headers = {"Authorization": f"Bearer {await run_tx(runtime, token)}"}
    page = await client.get("/api/v1/conversations?view=all&limit=50", headers=headers)
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    open_convs = sorted(
        (c for c in data["conversations"] if c.status == "open"),
        key=lambda c: (c.last_message_at, c.id),
        reverse=True,
    )
    assert [i["id"] for i in items] == [c.id for c in open_convs[:50]]

    # Following the cursors walks the whole panel once, in order; and the longest thread.
    seen: list[int] = [i["id"] for i in items]
    cursor = page.json()["next_cursor"]
    while cursor:
        more = await client.get(
            "/api/v1/conversations", params={"view": "all", "cursor": cursor}, headers=headers
        )
        assert more.status_code == 200, more.text
        seen += [i["id"] for i in more.json()["items"]]
        cursor = more.json()["next_cursor"]
    assert seen == [c.id for c in open_convs]

    longest = max(by_conv.values(), key=len)
    got: list[int] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"before": before} if before else {})}
        thread_page = await client.get(
            f"/api/v1/conversations/{longest[0].conversation_id}/messages",
            params=params,
            headers=headers,
        )
        assert thread_page.status_code == 200, thread_page.text
        got = [m["id"] for m in thread_page.json()["items"]] + got
        before = thread_page.json()["older_cursor"]
        if not before:
            break
    assert got == [m.id for m in longest]

    accented = next(
        c for c in data["contacts"] if fold(c.name.split()[-1]) != c.name.split()[-1].lower()
    )
    fragment = fold(accented.name.split()[-1])[:5]  # typed without the accents

    async def find(tx: Tx) -> list[int]:
        rows, _ = await contacts_service.search_contacts(
            tx, account_id=data["account"].id, q=fragment, cursor=None, limit=200
        )
        return [c["id"] for c in rows]

    assert accented.id in await run_tx(runtime, find)

    phone = phones[0]
    found = await client.get(f"/api/v1/contacts?q={phone[-7:]}", headers=headers)
    assert found.status_code == 200
    assert phone in {p["e164"] for c in found.json()["items"] for p in c["phones"]}


async def test_seeding_the_same_account_again_adds_contacts(
    settings: Settings, runtime: Runtime
) -> None:
    account = f"Seed {uuid.uuid4().hex[:8]}"
    heard: list[tuple[int, int]] = []
    await seed(
        settings, account=account, contacts=30, messages=60, report=lambda *a: heard.append(a)
    )
    assert heard[0] == (0, 60) and heard[-1] == (60, 60)  # what the progress bar shows
    summary = await seed(settings, account=account, contacts=20, messages=20)
    assert "20 contacts, 20 messages" in summary
    data = await _load(runtime, account)
    assert len(data["contacts"]) == 50
    assert len(data["messages"]) == 80
    assert len(data["conversations"]) == 50

    async def login(tx: Tx) -> object:
        return await accounts_service.login(
            tx, email=admin_email(account), password=ADMIN_PASSWORD, days=1
        )

    assert await run_tx(runtime, login)


def test_seeding_off_a_terminal_says_how_far_it_got_in_plain_lines() -> None:
    """In a CI log a redrawn bar is noise: a line at the start, then at most one every
    ``every_s`` seconds, and the end, once."""
    out = io.StringIO()
    with progress("seed", unit="messages", stream=out, every_s=3600) as report:
        report(0, 10_000_000)
        report(1_200_000, 10_000_000)  # within the hour: not printed
        report(10_000_000, 10_000_000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0] == "seed: 0 of 10,000,000 messages (0%)"
    assert lines[1].startswith("seed: 10,000,000 of 10,000,000 messages (100%), ")
    assert "/s, in " in lines[1]

    out = io.StringIO()
    with progress("seed", unit="messages", stream=out, every_s=0) as report:
        report(0, 100)
        report(25, 100)
    assert "25 of 100 messages (25%)" in out.getvalue() and "left" in out.getvalue()
