"""Mail that comes in: raw MIME over HTTP and the built-in SMTP receiver, into the right
thread, once, with the quoted history set aside and the original kept."""

from __future__ import annotations

import asyncio
import smtplib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from parlour.channels.email import inbound, receiver
from parlour.conversations.models import Message
from parlour.db.migrate import migrate
from parlour.db.tx import transaction
from parlour.runtime import Runtime
from tests.channels.email.conftest import add_mailbox, relay_mailbox, unique_address
from tests.channels.email.test_smtp import email_thread, message_when, send_email
from tests.conftest import Tenant
from tests.fakes.smtp import FakeSmtp
from tests.services import free_port

REPLY = """Yes, Thursday works for me.

Grace

On Mon, 30 Nov 2026 at 10:02, Support <help@example.com> wrote:
> Would Thursday suit you for the visit?
> Best, Support
"""


def mail(
    *,
    sender: str = "Grace Hopper <grace@example.org>",
    to: str = "help@example.com",
    subject: str = "Visit",
    body: str = REPLY,
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="mail.example.org")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


async def mailbox(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    return await add_mailbox(client, tenant, unique_address())


async def post(
    client: httpx.AsyncClient, box: dict[str, Any], data: bytes, **kw: Any
) -> httpx.Response:
    return await client.post(
        box["inbound_webhook_path"],
        content=data,
        headers={"Content-Type": "message/rfc822", **kw.pop("headers", {})},
        **kw,
    )


async def thread_items(client: httpx.AsyncClient, tenant: Tenant, conv_id: int) -> list[Any]:
    r = await client.get(f"/api/v1/conversations/{conv_id}/messages", headers=tenant.agent_headers)
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


async def conversation_of(runtime: Runtime, message_id: int) -> int:
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        found = await tx.session.get(Message, message_id)
        assert found is not None
        return found.conversation_id


async def test_a_mail_from_a_new_sender_opens_their_thread_with_the_quote_set_aside(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    box = await mailbox(client, tenant)
    raw = mail(to=box["address"]).as_bytes()
    r = await post(client, box, raw)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "stored"
    conv_id = await conversation_of(runtime, r.json()["message_id"])
    [message] = await thread_items(client, tenant, conv_id)
    assert message["body"] == "Yes, Thursday works for me.\n\nGrace"
    assert "Would Thursday suit you" in message["email"]["quoted_text"]
    assert (message["direction"], message["from_address"]) == ("in", "grace@example.org")
    assert message["sender"]["name"] == "Grace Hopper"
    assert message["mailbox_id"] == box["id"]
    thread = await client.get(f"/api/v1/conversations/{conv_id}", headers=tenant.agent_headers)
    contact = await client.get(
        f"/api/v1/contacts/{thread.json()['contact']['id']}", headers=tenant.agent_headers
    )
    assert contact.json()["name"] == "Grace Hopper"
    assert [e["address"] for e in contact.json()["emails"]] == ["grace@example.org"]
    original = await client.get(message["email"]["raw_url"], headers=tenant.agent_headers)
    assert (original.status_code, original.content) == (200, raw)
    assert original.headers["content-type"].startswith("message/rfc822")


async def test_the_same_mail_twice_is_stored_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    box = await mailbox(client, tenant)
    raw = mail(to=box["address"]).as_bytes()
    first = await post(client, box, raw)
    again = await post(client, box, raw)
    assert again.json() == {"outcome": "duplicate", "message_id": first.json()["message_id"]}
    conv_id = await conversation_of(runtime, first.json()["message_id"])
    assert len(await thread_items(client, tenant, conv_id)) == 1


async def test_a_reply_by_references_alone_joins_the_thread_it_answers(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sink: FakeSmtp
) -> None:
    """A colleague Grace forwarded our mail to answers it; their client keeps only
    References, and not our Message-ID last (chatwoot#10028)."""
    box = await relay_mailbox(client, tenant, sink)
    conv_id, _ = await email_thread(client, tenant)
    sent = await send_email(client, tenant, conv_id, box["id"], subject="Visit", body="Thursday?")
    await message_when(client, tenant, conv_id, sent["id"], "sent")
    ours = sink.received[-1].message["Message-ID"]
    reply = mail(
        sender="Linus <linus@elsewhere.example>",
        to=box["address"],
        subject="Re: Visit",
        References=f"{ours} <other.1@mail.example.org>",
    )
    r = await post(client, box, reply.as_bytes())
    assert await conversation_of(runtime, r.json()["message_id"]) == conv_id


async def test_a_reply_to_the_reply_address_in_cc_joins_its_thread(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sink: FakeSmtp
) -> None:
    """No In-Reply-To, no References: the signed reply address, copied (chatwoot#15365)."""
    box = await relay_mailbox(client, tenant, sink)
    conv_id, _ = await email_thread(client, tenant)
    sent = await send_email(client, tenant, conv_id, box["id"], subject="Visit", body="Thursday?")
    await message_when(client, tenant, conv_id, sent["id"], "sent")
    reply_to = sink.received[-1].message["Reply-To"].addresses[0].addr_spec
    reply = mail(sender="linus@elsewhere.example", to="someone@else.example", Cc=reply_to)
    r = await post(client, box, reply.as_bytes())
    assert await conversation_of(runtime, r.json()["message_id"]) == conv_id
    # The thread number in it cannot be changed without breaking its signature.
    local, _, domain = reply_to.partition("@")
    forged = local.replace(f"+c{conv_id}.", f"+c{conv_id + 1}.")
    other = mail(sender="mallory@elsewhere.example", to=f"{forged}@{domain}")
    r = await post(client, box, other.as_bytes())
    assert await conversation_of(runtime, r.json()["message_id"]) != conv_id


async def test_a_reply_to_the_bots_mailing_from_someone_else_gets_its_own_thread(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """chatwoot PR #13502: a mass mailing's replies never merge into one person's thread."""
    box = await mailbox(client, tenant)
    conv_id, _ = await email_thread(client, tenant)
    async with transaction(runtime.db, runtime.hub) as tx:
        tx.session.add(
            Message(
                account_id=tenant.account_id,
                conversation_id=conv_id,
                direction="out",
                channel="email",
                sender_type="bot",
                workflow_name="Newsletter",
                body="Our November news",
                subject="News",
                endpoint_id=box["id"],
                from_address=box["address"],
                to_address="grace@example.org",
                provider_message_id="<news.1@parlour.example>",
                status="sent",
                meta={},
            )
        )
        await tx.commit()
    reply = mail(
        sender="Linus <linus@elsewhere.example>",
        to=box["address"],
        In_Reply_To="<news.1@parlour.example>",
    )
    r = await post(client, box, reply.as_bytes())
    assert await conversation_of(runtime, r.json()["message_id"]) != conv_id


async def test_an_auto_reply_does_not_reopen_a_closed_thread(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    box = await mailbox(client, tenant)
    first = await post(client, box, mail(to=box["address"]).as_bytes())
    conv_id = await conversation_of(runtime, first.json()["message_id"])
    closed = await client.patch(
        f"/api/v1/conversations/{conv_id}", json={"status": "closed"}, headers=tenant.agent_headers
    )
    assert closed.status_code == 200, closed.text
    away = mail(to=box["address"], subject="Out of office", body="I am away until Monday.")
    away["Auto-Submitted"] = "auto-replied"
    r = await post(client, box, away.as_bytes())
    assert r.json()["outcome"] == "stored"
    thread = await client.get(f"/api/v1/conversations/{conv_id}", headers=tenant.agent_headers)
    assert thread.json()["status"] == "closed"
    items = await thread_items(client, tenant, conv_id)
    assert items[-1]["email"]["auto_reply"] is True
    # Grace herself writing again does reopen it.
    await post(client, box, mail(to=box["address"], body="One more thing.").as_bytes())
    thread = await client.get(f"/api/v1/conversations/{conv_id}", headers=tenant.agent_headers)
    assert thread.json()["status"] == "open"


async def test_inline_images_and_attachments_are_kept(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    box = await mailbox(client, tenant)
    msg = mail(to=box["address"], body="See the picture.")
    msg.add_alternative(
        '<p>See <img src="cid:logo@x"> and <img src="https://tracker.example/p.gif"></p>',
        subtype="html",
    )
    html_part = msg.get_payload()[1]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    html_part.add_related(png, maintype="image", subtype="png", cid="<logo@x>")
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="sums.csv")
    r = await post(client, box, msg.as_bytes())
    conv_id = await conversation_of(runtime, r.json()["message_id"])
    [message] = await thread_items(client, tenant, conv_id)
    files = {a["filename"]: a for a in message["attachments"]}
    assert set(files) == {"image.png", "sums.csv"}
    assert message["email"]["inline_images"] == {"logo@x": files["image.png"]["url"]}
    assert message["email"]["remote_images"] is True
    got = await client.get(files["image.png"]["url"], headers=tenant.agent_headers)
    assert got.content == png
    assert 'src="cid:logo@x"' in message["html"]


@pytest.mark.parametrize(
    ("content_type", "wrap"),
    [
        ("application/json", lambda raw: {"json": {"RawEmail": raw.decode()}}),
        ("form", lambda raw: {"data": {"email": raw.decode()}}),
        ("multipart", lambda raw: {"files": {"body-mime": ("m.eml", raw, "message/rfc822")}}),
    ],
)
async def test_relays_post_the_mail_in_their_own_wrappers(
    client: httpx.AsyncClient, tenant: Tenant, content_type: str, wrap: Any
) -> None:
    box = await mailbox(client, tenant)
    raw = mail(to=box["address"]).as_bytes()
    r = await client.post(box["inbound_webhook_path"], **wrap(raw))
    assert (r.status_code, r.json()["outcome"]) == (200, "stored"), r.text


async def test_bad_posts_are_refused_and_store_nothing(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    box = await mailbox(client, tenant)
    forged = await client.post("/webhooks/email/not-a-token", content=b"x")
    assert (forged.status_code, forged.json()["code"]) == (404, "unknown_mailbox_token")
    empty = await post(client, box, b"  ")
    assert (empty.status_code, empty.json()["code"]) == (422, "no_mail")
    nobody = await post(client, box, b"Subject: hi\r\n\r\nno sender at all\r\n")
    assert (nobody.status_code, nobody.json()["code"]) == (422, "no_sender")
    bad_json = await client.post(
        box["inbound_webhook_path"], content=b"{", headers={"Content-Type": "application/json"}
    )
    assert (bad_json.status_code, bad_json.json()["code"]) == (422, "no_mail")
    runtime.settings.email_max_bytes = 5000
    huge = mail(to=box["address"], body="x" * 8000).as_bytes()
    too_big = await post(client, box, huge)
    assert (too_big.status_code, too_big.json()["code"]) == (413, "mail_too_large")
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        stored = await tx.session.scalar(
            select(Message.id).where(
                Message.channel == "email",
                Message.endpoint_id == box["id"],
                Message.direction == "in",
            )
        )
    assert stored is None


HOSTILE = {
    "a hundred thousand recipients": (
        b"From: grace@example.org\r\nTo: "
        + b", ".join(b"r%d@example.org" % i for i in range(100_000))
        + b"\r\nSubject: all of you\r\n\r\nHello\r\n"
    ),
    "NUL bytes": b"From: grace@example.org\r\nSubject: a\x00b\r\n\r\nHel\x00lo\r\n",
    "an invalid charset": (
        b"From: grace@example.org\r\nSubject: =?x-nonsense?Q?caf=E9?=\r\n"
        b"Content-Type: text/plain; charset=x-nonsense\r\n\r\ncaf\xe9\r\n"
    ),
    "a huge header": b"From: grace@example.org\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\nHi\r\n",
    "a subject of 5000 characters": (
        b"From: grace@example.org\r\nSubject: " + b"s" * 5000 + b"\r\n\r\nHi\r\n"
    ),
    "a multipart without a boundary": (
        b"From: grace@example.org\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nHi\r\n"
    ),
    "a sender address of 1000 characters": (
        b"From: " + b"g" * 1000 + b"@example.org\r\n\r\nHi\r\n"
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_mail_is_stored_best_effort_or_refused_with_a_code(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, name: str
) -> None:
    box = await mailbox(client, tenant)
    r = await post(client, box, HOSTILE[name])
    if name.startswith("a sender address"):
        assert (r.status_code, r.json()["code"]) == (422, "no_sender")
        return
    assert (r.status_code, r.json()["outcome"]) == (200, "stored"), r.text
    conv_id = await conversation_of(runtime, r.json()["message_id"])
    [message] = await thread_items(client, tenant, conv_id)
    assert message["from_address"] == "grace@example.org"
    assert "\x00" not in message["body"] + (message["subject"] or "")
    assert len(message["subject"] or "") <= 998
    if name in ("NUL bytes", "an invalid charset", "a huge header"):
        assert message["email"]["defects"]


# --- the SMTP receiver ----------------------------------------------------------------


@pytest.fixture
async def smtp_port(runtime: Runtime) -> AsyncIterator[int]:
    port = free_port()
    server = await receiver.start(runtime, host="127.0.0.1", port=port)
    yield port
    server.close()


def _talk(port: int, commands: list[tuple[str, str]]) -> list[tuple[int, bytes]]:
    """Runs SMTP ``commands`` (verb, argument) and returns each reply."""
    replies = []
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo("client.example")
        for verb, arg in commands:
            if verb == "data":
                replies.append(smtp.data(arg.encode()))
            else:
                replies.append(smtp.docmd(verb, arg))
    return replies


async def test_the_receiver_takes_mail_for_our_mailboxes_and_refuses_others_at_rcpt(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, smtp_port: int
) -> None:
    box = await mailbox(client, tenant)
    local, _, domain = box["address"].partition("@")
    raw = mail(to=box["address"]).as_string()
    replies = await asyncio.to_thread(
        _talk,
        smtp_port,
        [
            ("mail", "FROM:<grace@example.org>"),
            ("rcpt", "TO:<nobody@nowhere.example>"),
            ("rcpt", f"TO:<{local}+sales@{domain}>"),
            ("data", raw),
        ],
    )
    assert [code for code, _ in replies] == [250, 550, 250, 250]
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        stored = list(
            await tx.session.scalars(
                select(Message).where(Message.endpoint_id == box["id"], Message.channel == "email")
            )
        )
    assert [m.body for m in stored] == ["Yes, Thursday works for me.\n\nGrace"]
    assert stored[0].meta["email"]["via"] == "smtp"


async def test_the_receiver_refuses_a_mail_too_big_and_too_many_recipients(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, smtp_port: int
) -> None:
    box = await mailbox(client, tenant)
    runtime.settings.email_max_bytes = 5000
    big = mail(to=box["address"], body="y" * 9000).as_string()
    many = [("rcpt", f"TO:<{box['address']}>")] * 101
    replies = await asyncio.to_thread(
        _talk, smtp_port, [("mail", "FROM:<grace@example.org>"), *many, ("data", big)]
    )
    codes = [code for code, _ in replies]
    assert codes[1:101] == [250] * 100
    assert codes[101] == 452
    assert codes[102] == 552


# --- bounces -----------------------------------------------------------------------------


def postfix_dsn(original: bytes, *, recipient: str, status: str, action: str) -> bytes:
    """A delivery status notification as Postfix writes one (RFC 3464), returning
    ``original`` whole."""
    return (
        b"Return-Path: <>\r\n"
        b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"To: help@example.com\r\n"
        b"Auto-Submitted: auto-replied\r\n"
        b"Message-Id: <dsn." + status.encode() + b"@mx.example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        b"\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
        b"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        b"\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.org\r\n\r\n"
        b"Final-Recipient: rfc822; " + recipient.encode() + b"\r\n"
        b"Action: " + action.encode() + b"\r\n"
        b"Status: " + status.encode() + b"\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <" + recipient.encode() + b">: "
        b"Recipient address rejected: User unknown\r\n"
        b"\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n" + original + b"\r\n--B--\r\n"
    )


async def test_a_bounce_fails_the_mail_it_reports_and_marks_the_address_bounced(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sink: FakeSmtp
) -> None:
    box = await relay_mailbox(client, tenant, sink)
    conv_id, email_id = await email_thread(client, tenant)
    sent = await send_email(client, tenant, conv_id, box["id"], subject="Visit", body="Thursday?")
    await message_when(client, tenant, conv_id, sent["id"], "sent")
    original = sink.received[-1].data
    delayed = postfix_dsn(original, recipient="grace@example.org", status="4.4.1", action="delayed")
    r = await post(client, box, delayed)
    assert r.json() == {"outcome": "bounce", "message_id": sent["id"]}
    still = await message_when(client, tenant, conv_id, sent["id"], "sent")
    assert still["email"]["bounce"]["permanent"] is False

    dsn = postfix_dsn(original, recipient="grace@example.org", status="5.1.1", action="failed")
    r = await post(client, box, dsn)
    assert r.json() == {"outcome": "bounce", "message_id": sent["id"]}
    failed = await message_when(client, tenant, conv_id, sent["id"], "failed")
    assert failed["error_code"] == "email_bounced"
    assert failed["email"]["bounce"]["status"] == "5.1.1"
    assert "User unknown" in failed["email"]["bounce"]["diagnostic"]
    report = await client.get(failed["email"]["bounce"]["raw_url"], headers=tenant.agent_headers)
    assert report.content == dsn
    # Not a message from the contact: the thread holds only our email.
    assert [m["id"] for m in await thread_items(client, tenant, conv_id)] == [sent["id"]]
    task = await client.get("/api/v1/tasks", params={"owner": "any"}, headers=tenant.admin_headers)
    assert next(t for t in task.json() if t["message_id"] == sent["id"])["status"] == "failed"

    # Sending to the address is refused until an agent clears it.
    again = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "mailbox_id": box["id"], "subject": "Visit", "body": "Hello?"},
        headers=tenant.agent_headers,
    )
    assert (again.status_code, again.json()["code"]) == (422, "email_bounced"), again.text
    thread = await client.get(f"/api/v1/conversations/{conv_id}", headers=tenant.agent_headers)
    contact_id = thread.json()["contact"]["id"]
    cleared = await client.patch(
        f"/api/v1/contacts/{contact_id}/emails/{email_id}",
        json={"bounced": False},
        headers=tenant.agent_headers,
    )
    assert cleared.status_code == 200, cleared.text
    await send_email(client, tenant, conv_id, box["id"], subject="Visit", body="Hello?")


async def test_a_bounce_for_mail_not_sent_from_here_only_marks_the_address(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    box = await mailbox(client, tenant)
    conv_id, _ = await email_thread(client, tenant)
    stranger = mail(sender="help@example.com", to="grace@example.org").as_bytes()
    dsn = postfix_dsn(stranger, recipient="grace@example.org", status="5.1.1", action="failed")
    r = await post(client, box, dsn)
    assert r.json() == {"outcome": "bounce", "message_id": None}
    thread = await client.get(f"/api/v1/conversations/{conv_id}", headers=tenant.agent_headers)
    contact = await client.get(
        f"/api/v1/contacts/{thread.json()['contact']['id']}", headers=tenant.agent_headers
    )
    assert contact.json()["emails"][0]["bounced"] is True
    assert await thread_items(client, tenant, conv_id) == []


async def test_a_mailbox_whose_own_address_has_a_plus_is_found_by_it(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, smtp_port: int
) -> None:
    plain = await mailbox(client, tenant)
    local, _, domain = plain["address"].partition("@")
    plus = await add_mailbox(client, tenant, f"{local}+eu@{domain}")
    raw = mail(to=plus["address"]).as_string()
    replies = await asyncio.to_thread(
        _talk,
        smtp_port,
        [("mail", "FROM:<grace@example.org>"), ("rcpt", f"TO:<{plus['address']}>"), ("data", raw)],
    )
    assert [code for code, _ in replies] == [250, 250, 250]
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        reached = await tx.session.scalar(
            # endpoint_id numbers each channel's endpoints apart: a text can share it.
            select(Message.endpoint_id).where(
                Message.channel == "email",
                Message.endpoint_id.in_([plain["id"], plus["id"]]),
                Message.direction == "in",
            )
        )
    assert reached == plus["id"]


async def test_a_reply_finds_its_thread_by_the_unique_index_on_a_fresh_sqlite_database(
    tmp_path: Path,
) -> None:
    """A migrated SQLite database has no planner statistics; the lookup of a reply's
    thread must still use the (channel, provider id) index, not scan the account's
    messages (bench/email/thread_lookup.py: 308 ms at a million messages)."""
    path = tmp_path / "fresh.db"
    await migrate(f"sqlite+aiosqlite:///{path}")
    # An In-Reply-To and two References, each under both forms of key.
    query = inbound.emails_by_id([k for n in range(3) for k in (f"<{n}@x>", f"1:<{n}@x>")])
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with closing(sqlite3.connect(path)) as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "uq_messages_provider_id" in plan, plan
