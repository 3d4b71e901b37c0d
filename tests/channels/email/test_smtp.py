"""Mailboxes that really send: through an SMTP relay, with stable threading headers."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parlour.channels.crypto import unseal
from parlour.channels.email.models import Mailbox
from parlour.channels.email.provider import OutgoingEmail
from parlour.channels.email.smtp import build_message
from parlour.conversations import outbound
from parlour.conversations.channel import Author, Draft
from parlour.db.tx import transaction
from parlour.errors import InvalidInput
from parlour.outbox import service as outbox_service
from parlour.outbox.models import OutboxItem
from parlour.runtime import Runtime
from tests.channels.email.conftest import add_mailbox, relay_mailbox, unique_address
from tests.conftest import Tenant, wait_for
from tests.fakes.smtp import Certificate, FakeSmtp


async def email_thread(client: httpx.AsyncClient, tenant: Tenant) -> tuple[int, int]:
    made = await client.post(
        "/api/v1/contacts",
        json={"name": "Grace", "emails": [{"address": "grace@example.org"}]},
        headers=tenant.admin_headers,
    )
    assert made.status_code == 201, made.text
    conv = await client.post(
        f"/api/v1/contacts/{made.json()['id']}/conversation", headers=tenant.admin_headers
    )
    return conv.json()["id"], made.json()["emails"][0]["id"]


async def send_email(
    client: httpx.AsyncClient, tenant: Tenant, conv_id: int, mailbox_id: int, **fields: Any
) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "mailbox_id": mailbox_id, **fields},
        headers=tenant.agent_headers,
    )
    assert r.status_code == 201, r.text
    sent: dict[str, Any] = r.json()
    return sent


async def message_when(
    client: httpx.AsyncClient, tenant: Tenant, conv_id: int, msg_id: int, status: str
) -> Any:
    async def check() -> Any:
        thread = await client.get(
            f"/api/v1/conversations/{conv_id}/messages", headers=tenant.agent_headers
        )
        m = next(x for x in thread.json()["items"] if x["id"] == msg_id)
        return m if m["status"] == status else None

    return await wait_for(check, within=10)


async def task_of(client: httpx.AsyncClient, tenant: Tenant, msg_id: int) -> Any:
    r = await client.get("/api/v1/tasks", params={"owner": "any"}, headers=tenant.admin_headers)
    return next(t for t in r.json() if t["message_id"] == msg_id)


async def test_an_email_arrives_with_its_headers_and_a_reply_threads_under_it(
    client: httpx.AsyncClient, tenant: Tenant, sink: FakeSmtp
) -> None:
    address = unique_address()
    box = await add_mailbox(
        client, tenant, address, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_security="none"
    )
    assert box["provider"] == "smtp"
    conv_id, _ = await email_thread(client, tenant)
    up = await client.post(
        "/api/v1/attachments",
        files={"file": ("quote.pdf", b"%PDF-1.4 quote", "application/pdf")},
        headers=tenant.agent_headers,
    )
    first = await send_email(
        client,
        tenant,
        conv_id,
        box["id"],
        subject="Your quote",
        body="",
        html="<p>Hello <b>Grace</b> &amp; team</p>",
        attachment_ids=[up.json()["id"]],
    )
    await message_when(client, tenant, conv_id, first["id"], "sent")
    assert (await task_of(client, tenant, first["id"]))["status"] == "completed"

    [got] = sink.received
    assert (got.mail_from, got.rcpt_tos) == (address, ["grace@example.org"])
    mail = got.message
    assert mail["From"] == f"Support <{address}>"
    assert mail["To"] == "grace@example.org"
    assert mail["Subject"] == "Your quote"
    local, domain = address.split("@")
    assert mail["Message-ID"].startswith(f"<msg-{first['id']}.")
    assert mail["Message-ID"].endswith(f"@{domain}>")
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith(f"{local}+c{conv_id}.")
    assert reply_to.endswith(f"@{domain}")
    assert parsedate_to_datetime(mail["Date"]).tzinfo is not None
    assert mail["In-Reply-To"] is None
    assert mail.get_content_type() == "multipart/mixed"
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    assert body.get_content().strip() == "Hello Grace & team"
    html = mail.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage)
    assert "<b>Grace</b>" in html.get_content()
    [att] = list(mail.iter_attachments())
    assert isinstance(att, EmailMessage)
    assert (att.get_filename(), att.get_content_type()) == ("quote.pdf", "application/pdf")
    assert att.get_content() == b"%PDF-1.4 quote"

    second = await send_email(client, tenant, conv_id, box["id"], body="And the invoice.")
    await message_when(client, tenant, conv_id, second["id"], "sent")
    reply = sink.received[1].message
    assert reply["Subject"] == "Re: Your quote"
    assert reply["In-Reply-To"] == mail["Message-ID"]
    assert reply["References"] == mail["Message-ID"]
    assert reply.get_content_type() == "text/plain"
    assert reply.get_content().strip() == "And the invoice."


async def test_cc_is_shown_to_all_and_bcc_only_reaches_the_envelope(
    client: httpx.AsyncClient, tenant: Tenant, sink: FakeSmtp
) -> None:
    box = await relay_mailbox(client, tenant, sink)
    conv_id, _ = await email_thread(client, tenant)
    sent = await send_email(
        client,
        tenant,
        conv_id,
        box["id"],
        subject="Minutes",
        body="Attached below.",
        cc=["Boss@Example.org", "boss@example.org", "team@example.org"],
        bcc=["archive@example.org"],
    )
    assert (sent["email"]["cc"], sent["email"]["bcc"]) == (
        ["boss@example.org", "team@example.org"],
        ["archive@example.org"],
    )
    await message_when(client, tenant, conv_id, sent["id"], "sent")
    [got] = sink.received
    assert got.rcpt_tos == [
        "grace@example.org",
        "boss@example.org",
        "team@example.org",
        "archive@example.org",
    ]
    assert got.message["Cc"] == "boss@example.org, team@example.org"
    assert got.message["Bcc"] is None
    assert b"archive@example.org" not in got.data


async def test_copies_and_too_many_files_are_refused_where_they_cannot_go(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sink: FakeSmtp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = await relay_mailbox(client, tenant, sink)
    conv_id, _ = await email_thread(client, tenant)
    sms = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "sms", "body": "Hi", "cc": ["boss@example.org"]},
        headers=tenant.agent_headers,
    )
    assert (sms.status_code, sms.json()["code"]) == (422, "copies_not_supported")
    bad = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "subject": "x", "body": "Hi", "cc": ["not an address"]},
        headers=tenant.agent_headers,
    )
    assert bad.status_code == 422
    # The limit is PARLOUR_EMAIL_MAX_ATTACHMENTS_BYTES (18 MB); ten bytes here.
    monkeypatch.setattr(runtime.channels.get("email"), "_max_attachment_bytes", 10)
    up = await client.post(
        "/api/v1/attachments",
        files={"file": ("big.pdf", b"%PDF-1.4 more than ten bytes", "application/pdf")},
        headers=tenant.agent_headers,
    )
    big = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={
            "channel": "email",
            "mailbox_id": box["id"],
            "subject": "x",
            "body": "Hi",
            "attachment_ids": [up.json()["id"]],
        },
        headers=tenant.agent_headers,
    )
    assert (big.status_code, big.json()["code"]) == (422, "attachments_too_large")


async def test_a_temporary_refusal_is_retried_with_the_same_message_id(
    client: httpx.AsyncClient,
    tenant: Tenant,
    sink: FakeSmtp,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_service, "backoff", lambda attempts: timedelta(seconds=0.3))
    box = await relay_mailbox(client, tenant, sink)
    conv_id, _ = await email_thread(client, tenant)
    sink.answer_data = "451 4.3.0 Mailbox busy, try later"
    sent = await send_email(client, tenant, conv_id, box["id"], subject="Hi", body="Hello")

    async def refused_once() -> bool:
        async with transaction(runtime.db, runtime.hub, write=False) as tx:
            item = await tx.session.scalar(
                select(OutboxItem).where(OutboxItem.message_id == sent["id"])
            )
            return item is not None and (item.last_error or "").startswith(
                "The mail server answered 451"
            )

    await wait_for(refused_once)
    waiting = await task_of(client, tenant, sent["id"])
    assert waiting["status"] in ("queued", "running")
    assert waiting["error"].startswith("Will retry: The mail server answered 451")
    sink.answer_data = None
    await message_when(client, tenant, conv_id, sent["id"], "sent")
    [got] = sink.received
    assert got.message["Message-ID"].startswith(f"<msg-{sent['id']}.")
    assert (await task_of(client, tenant, sent["id"]))["status"] == "completed"


async def test_a_permanent_refusal_fails_the_message_and_its_task_with_the_reply(
    client: httpx.AsyncClient, tenant: Tenant, sink: FakeSmtp
) -> None:
    box = await relay_mailbox(client, tenant, sink)
    conv_id, _ = await email_thread(client, tenant)
    sink.answer_rcpt = "550 5.1.1 No such user here"
    sent = await send_email(client, tenant, conv_id, box["id"], subject="Hi", body="Hello")
    failed = await message_when(client, tenant, conv_id, sent["id"], "failed")
    text = "The mail server answered 550 5.1.1 No such user here"
    assert (failed["error_code"], failed["error_message"]) == ("smtp_rejected", text)
    task = await task_of(client, tenant, sent["id"])
    assert (task["status"], task["error"]) == ("failed", text)
    assert sink.received == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_tls_relays_with_a_login(
    client: httpx.AsyncClient, tenant: Tenant, certificate: Certificate, security: str
) -> None:
    sink = FakeSmtp(security=security, certificate=certificate, users={"ada": "s3cret"}).start()
    try:
        box = await add_mailbox(
            client,
            tenant,
            unique_address(),
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security=security,
            smtp_username="ada",
            smtp_password="s3cret",
        )
        conv_id, _ = await email_thread(client, tenant)
        sent = await send_email(client, tenant, conv_id, box["id"], subject="Hi", body="Hello")
        await message_when(client, tenant, conv_id, sent["id"], "sent")
        [got] = sink.received
        assert (got.login, got.tls) == ("ada", True)
    finally:
        sink.stop()


async def test_a_wrong_password_fails_with_the_relays_answer(
    client: httpx.AsyncClient, tenant: Tenant, certificate: Certificate
) -> None:
    sink = FakeSmtp(security="starttls", certificate=certificate, users={"ada": "s3cret"}).start()
    try:
        box = await add_mailbox(
            client,
            tenant,
            unique_address(),
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_username="ada",
            smtp_password="wrong",
        )
        conv_id, _ = await email_thread(client, tenant)
        sent = await send_email(client, tenant, conv_id, box["id"], subject="Hi", body="Hello")
        failed = await message_when(client, tenant, conv_id, sent["id"], "failed")
        assert failed["error_code"] == "smtp_rejected"
        assert failed["error_message"].startswith("The mail server answered 535")
    finally:
        sink.stop()


async def test_the_password_is_sealed_and_never_shown(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    box = await add_mailbox(
        client,
        tenant,
        unique_address(),
        smtp_host="Mail.Example.com",
        smtp_username="ada",
        smtp_password="s3cret",
    )
    assert {k: v for k, v in box.items() if k.startswith("smtp")} == {
        "smtp_host": "mail.example.com",
        "smtp_port": 587,
        "smtp_security": "starttls",
        "smtp_username": "ada",
        "smtp_password_set": True,
    }
    listed = await client.get("/api/v1/mailboxes", headers=tenant.admin_headers)
    assert "s3cret" not in listed.text
    async with transaction(runtime.db, runtime.hub, write=False) as tx:
        stored = await tx.session.get(Mailbox, box["id"])
        assert stored is not None and stored.smtp_password_sealed is not None
        assert "s3cret" not in stored.smtp_password_sealed
        assert unseal("test-secret", stored.smtp_password_sealed) == {"password": "s3cret"}

    # Changing other fields keeps the password; null forgets it; no host, no relay.
    kept = await client.patch(
        f"/api/v1/mailboxes/{box['id']}",
        json={"smtp_security": "tls"},
        headers=tenant.admin_headers,
    )
    assert (kept.json()["smtp_port"], kept.json()["smtp_password_set"]) == (465, True)
    forgot = await client.patch(
        f"/api/v1/mailboxes/{box['id']}", json={"smtp_password": None}, headers=tenant.admin_headers
    )
    assert forgot.json()["smtp_password_set"] is False
    gone = await client.patch(
        f"/api/v1/mailboxes/{box['id']}", json={"smtp_host": None}, headers=tenant.admin_headers
    )
    assert (gone.json()["provider"], gone.json()["smtp_host"]) == ("console", None)


@pytest.mark.parametrize(
    ("relay", "field"),
    [
        ({"smtp_host": "mail.example.com", "smtp_port": 0}, "smtp_port"),
        ({"smtp_host": "mail.example.com", "smtp_port": 70000}, "smtp_port"),
        ({"smtp_host": "not a host!"}, "smtp_host"),
        ({"smtp_host": "mail.example.com", "smtp_security": "ssl"}, "smtp_security"),
    ],
)
async def test_bad_relay_settings_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, relay: dict[str, Any], field: str
) -> None:
    r = await client.post(
        "/api/v1/mailboxes",
        json={"address": unique_address(), **relay},
        headers=tenant.admin_headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    assert [d["field"] for d in r.json()["details"]] == [field]


async def test_relay_settings_without_a_host_are_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    r = await client.post(
        "/api/v1/mailboxes",
        json={"address": unique_address(), "provider": "smtp"},
        headers=tenant.admin_headers,
    )
    assert (r.status_code, r.json()["code"]) == (422, "smtp_host_required")
    box = await add_mailbox(client, tenant, unique_address())
    r = await client.patch(
        f"/api/v1/mailboxes/{box['id']}", json={"smtp_port": 25}, headers=tenant.admin_headers
    )
    assert (r.status_code, r.json()["code"]) == (422, "smtp_host_required")


async def test_send_test_email_answers_the_relays_own_reply(
    client: httpx.AsyncClient, tenant: Tenant, sink: FakeSmtp
) -> None:
    box = await relay_mailbox(client, tenant, sink)
    url = f"/api/v1/mailboxes/{box['id']}/test-email"
    ok = await client.post(url, json={"to": "ops@example.org"}, headers=tenant.admin_headers)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"smtp_code": 250, "smtp_message": "2.0.0 Ok: queued as 1"}
    assert sink.received[0].rcpt_tos == ["ops@example.org"]

    sink.answer_rcpt = "550 5.7.1 Relaying denied"
    refused = await client.post(url, json={"to": "ops@example.org"}, headers=tenant.admin_headers)
    assert (refused.status_code, refused.json()["code"]) == (502, "relay_refused")
    assert refused.json()["message"] == "The mail server answered 550 5.7.1 Relaying denied"

    sink.stop()
    away = await client.post(url, json={"to": "ops@example.org"}, headers=tenant.admin_headers)
    assert (away.status_code, away.json()["code"]) == (502, "relay_unreachable")

    agent = await client.post(url, json={"to": "ops@example.org"}, headers=tenant.agent_headers)
    assert agent.status_code == 403
    console = await add_mailbox(client, tenant, unique_address())
    none = await client.post(
        f"/api/v1/mailboxes/{console['id']}/test-email",
        json={"to": "ops@example.org"},
        headers=tenant.admin_headers,
    )
    assert (none.status_code, none.json()["code"]) == (409, "no_relay")


@pytest.mark.parametrize("automatic", [True, False])
def test_the_bots_mail_says_it_is_automatic_so_auto_replies_leave_it_alone(
    automatic: bool,
) -> None:
    """RFC 3834 §5: an automatic message carries Auto-Submitted, and a responder must
    not answer it; a person's mail carries none."""
    mime = build_message(
        OutgoingEmail(
            from_address="help@example.com",
            from_name="Support",
            to="grace@example.org",
            subject="Your order shipped",
            text="It is on its way.",
            html=None,
            message_id_header="<msg-1.a@example.com>",
            automatic=automatic,
        )
    )
    assert mime["Auto-Submitted"] == ("auto-generated" if automatic else None)


async def test_the_imap_account_is_kept_and_patched_like_the_relay(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    box = await add_mailbox(
        client, tenant, unique_address(), imap_host="IMAP.Example.com", imap_password="s3cret"
    )
    assert (box["imap_host"], box["imap_port"], box["imap_security"]) == (
        "imap.example.com",
        993,
        "tls",
    )
    assert (box["imap_password_set"], box["imap_folder"]) == (True, "INBOX")
    url = f"/api/v1/mailboxes/{box['id']}"
    moved = await client.patch(
        url,
        json={"imap_security": "starttls", "imap_folder": "Support"},
        headers=tenant.admin_headers,
    )
    assert moved.status_code == 200, moved.text
    got = moved.json()
    assert (got["imap_port"], got["imap_folder"], got["imap_password_set"]) == (
        143,
        "Support",
        True,
    )
    # The relay is untouched by an IMAP change, and the other way round.
    assert got["smtp_host"] is None
    gone = await client.patch(url, json={"imap_host": None}, headers=tenant.admin_headers)
    assert (gone.json()["imap_host"], gone.json()["imap_password_set"]) == (None, False)
    orphan = await client.patch(url, json={"imap_folder": "X"}, headers=tenant.admin_headers)
    assert (orphan.status_code, orphan.json()["code"]) == (422, "imap_host_required")


async def test_a_subject_with_a_line_break_is_refused_and_nothing_is_queued(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    conv_id, _ = await email_thread(client, tenant)
    # CR LF would start a header of the sender's choosing; the others are line breaks to
    # some mail clients.
    for brk in ("\r\n", "\n", "\r", "\v", "\x85", "\u2028", "\u2029"):
        r = await client.post(
            f"/api/v1/conversations/{conv_id}/messages",
            json={"channel": "email", "subject": f"Invoice{brk}Bcc: all@example.net", "body": "Hi"},
            headers=tenant.agent_headers,
        )
        assert r.status_code == 422, (brk, r.text)
        if brk in ("\v", "\x85"):  # control characters: refused at the edge, in any field
            assert r.json()["code"] == "control_characters"
            continue
        assert r.json()["code"] == "validation_error"
        assert [(d["field"], d["type"]) for d in r.json()["details"]] == [
            ("subject", "subject_line_break")
        ]
    # A caller that did not come through the API (a workflow's step) is refused too.
    async with transaction(runtime.db, runtime.hub) as tx:
        with pytest.raises(InvalidInput) as refused:
            await outbound.send_message(
                tx,
                channel=runtime.channels.get("email"),
                account_id=tenant.account_id,
                conversation_id=conv_id,
                author=Author.bot(workflow_name="w", workflow_id=1, run_id=1),
                draft=Draft(body="Hi", subject="Invoice\u2028Bcc: all@example.net"),
            )
    assert refused.value.code == "subject_line_break"
    thread = await client.get(
        f"/api/v1/conversations/{conv_id}/messages", headers=tenant.agent_headers
    )
    assert thread.json()["items"] == []
    # A pasted subject's trailing newline is only trimmed.
    ok = await client.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"channel": "email", "subject": "Invoice\n", "body": "Hi"},
        headers=tenant.agent_headers,
    )
    assert (ok.status_code, ok.json()["subject"]) == (201, "Invoice")


async def test_a_reply_to_a_mail_whose_subject_hides_line_breaks_has_a_one_line_subject(
    client: httpx.AsyncClient, tenant: Tenant, sink: FakeSmtp
) -> None:
    box = await relay_mailbox(client, tenant, sink)
    # Encoded words carry any character: here CR LF, then U+2028.
    raw = (
        f"From: Ann <ann@example.org>\r\nTo: {box['address']}\r\n"
        "Subject: =?utf-8?q?Hello=0D=0ABcc:_all@example.net?= =?utf-8?b?4oCoYWdhaW4=?=\r\n"
        "Message-ID: <in-1@example.org>\r\n\r\nAre you open?\r\n"
    ).encode()
    stored = await client.post(
        box["inbound_webhook_path"], content=raw, headers={"Content-Type": "message/rfc822"}
    )
    assert stored.status_code == 200, stored.text
    panel = await client.get("/api/v1/conversations", headers=tenant.agent_headers)
    conv_id = next(c["id"] for c in panel.json()["items"] if c["contact"]["name"] == "Ann")
    reply = await send_email(client, tenant, conv_id, box["id"], body="We are.")
    assert reply["subject"] == "Re: Hello Bcc: all@example.net again"
    await message_when(client, tenant, conv_id, reply["id"], "sent")
    [got] = sink.received
    assert got.rcpt_tos == ["ann@example.org"]
    assert got.message["Subject"] == "Re: Hello Bcc: all@example.net again"
    assert got.message["Bcc"] is None
