"""The demo's threads: four kinds, taken in turn down the cast, each showing features.

0. SMS opened by the bot's welcome;  1. web chat, then SMS: one thread, two channels;
2. an email and our reply, with its completed Email Task (the first time the contact
answers, quoting us; the fifth time our reply bounced);  3. all three channels, a bot's
chat reply and a failed SMS. tests/web/ and docs/screenshots open these threads by the
contact's name and look for what their kind shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any, NamedTuple

from parlour.channels.email import inbound as email_inbound
from parlour.channels.email import mime
from parlour.channels.email.models import Mailbox
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.webchat.models import Widget
from parlour.contacts.models import Contact
from parlour.conversations.models import Conversation, Message
from parlour.db.tx import Tx
from parlour.files import service as files_service
from parlour.sample import words
from parlour.tasks.models import Task


class Workflow(NamedTuple):
    """An automation that speaks as the bot (the demo has no workflow rows behind them)."""

    id: int
    name: str


WELCOME = Workflow(1, words.WELCOME_WORKFLOW)
CHAT_AUTO_REPLY = Workflow(2, "Chat auto-reply")


@dataclass
class Shop:
    """Northwind Coffee: the account, its two users and the endpoints its threads use."""

    account_id: int
    admin_id: int
    agent_id: int
    main_line: PhoneNumber
    mailbox: Mailbox
    widget: Widget


def _sender(by: int | Workflow) -> dict[str, Any]:
    """A reply's sender fields: a user (by id) or a workflow, speaking as the bot."""
    if isinstance(by, Workflow):
        return {"sender_type": "bot", "workflow_id": by.id, "workflow_name": by.name}
    return {"sender_type": "user", "user_id": by}


class ThreadWriter:
    """Adds one conversation's messages, each 2 to 40 minutes after the one before."""

    def __init__(
        self,
        tx: Tx,
        shop: Shop,
        conv: Conversation,
        contact: Contact,
        *,
        start: datetime,
        rng: random.Random,
    ) -> None:
        self.tx = tx
        self.shop = shop
        self.conv = conv
        self.phone = contact.phones[0]
        self.email = contact.emails[0]
        self.contact_name = contact.name
        self.at = start
        self.rng = rng

    def add(self, **fields: Any) -> Message:
        self.at = self.at + timedelta(minutes=self.rng.randint(2, 40))
        defaults: dict[str, Any] = {
            "account_id": self.shop.account_id,
            "conversation_id": self.conv.id,
            "body": "",
            "meta": {},
            "created_at": self.at,
            "updated_at": self.at,
            "attachments": [],
        }
        message = Message(**{**defaults, **fields})
        self.tx.session.add(message)
        return message

    def sms_in(self, body: str) -> Message:
        return self.add(
            direction="in",
            channel="sms",
            sender_type="contact",
            body=body,
            from_address=self.phone.e164,
            to_address=self.shop.main_line.e164,
            endpoint_id=self.shop.main_line.id,
            contact_endpoint_id=self.phone.id,
            status="received",
        )

    def sms_out(self, body: str, *, by: int | Workflow, status: str = "delivered") -> Message:
        return self.add(
            direction="out",
            channel="sms",
            **_sender(by),
            body=body,
            from_address=self.shop.main_line.e164,
            to_address=self.phone.e164,
            endpoint_id=self.shop.main_line.id,
            contact_endpoint_id=self.phone.id,
            status=status,
        )

    def chat_in(self, body: str) -> Message:
        return self.add(
            direction="in",
            channel="webchat",
            sender_type="contact",
            body=body,
            endpoint_id=self.shop.widget.id,
            status="received",
        )

    def chat_out(self, body: str, *, by: int | Workflow) -> Message:
        return self.add(
            direction="out",
            channel="webchat",
            **_sender(by),
            body=body,
            endpoint_id=self.shop.widget.id,
            status="read",
        )

    def email_in(self, subject: str, body: str, *, html: str | None = None) -> Message:
        return self.add(
            direction="in",
            channel="email",
            sender_type="contact",
            subject=subject,
            body=body,
            html=html,
            from_address=self.email.address,
            to_address=self.shop.mailbox.address,
            endpoint_id=self.shop.mailbox.id,
            contact_endpoint_id=self.email.id,
            status="received",
        )

    def email_out(self, subject: str, body: str, *, html: str, by: int) -> Message:
        return self.add(
            direction="out",
            channel="email",
            **_sender(by),
            subject=subject,
            body=body,
            html=html,
            from_address=self.shop.mailbox.address,
            to_address=self.email.address,
            endpoint_id=self.shop.mailbox.id,
            contact_endpoint_id=self.email.id,
            status="delivered",
        )


async def write_thread(w: ThreadWriter, i: int) -> None:
    """The ``i``-th contact's messages: a thread of the ``i % 4``-th kind."""
    kind = KINDS[i % len(KINDS)]
    # The n-th thread of a kind takes the n-th exchange (emails excepted, see below).
    await kind(w, i // len(KINDS))


async def _sms_with_welcome(w: ThreadWriter, n: int) -> None:
    """The bot's welcome, a question and the agent's answer; every other time, thanks."""
    w.sms_out(words.BOT_SMS[0], by=WELCOME)
    ask, answer = words.SMS_EXCHANGES[n % len(words.SMS_EXCHANGES)]
    w.sms_in(ask)
    w.sms_out(answer, by=w.shop.agent_id)
    if n % 2 == 0:
        w.sms_in("Perfect, thank you!")


async def _chat_then_sms(w: ThreadWriter, n: int) -> None:
    """A web chat the admin answers, then the contact's next question by SMS."""
    ask, answer = words.CHAT_EXCHANGES[n % len(words.CHAT_EXCHANGES)]
    w.chat_in(ask)
    w.chat_out(answer, by=w.shop.admin_id)
    then = words.SMS_EXCHANGES[n % len(words.SMS_EXCHANGES)].ask
    w.sms_in("Following up by text: " + then[0].lower() + then[1:])


async def _email_with_task(w: ThreadWriter, n: int) -> None:
    """The contact's email and the agent's reply, sent as a completed Email Task.

    Always the wholesale order, as before: tests/web/test_inbox.py's keyboard test clicks
    the middle of Yuki Tanaka's thread, where the shorter invoice emails would put an
    email's iframe, and key presses in an iframe never reach the app's shortcuts.
    """
    subject, ask, answer = words.EMAIL_EXCHANGES[0]
    html = "<p>" + ask.replace("\n\n", "</p><p>") + "</p>"
    w.email_in(subject, ask, html=html)
    reply = w.email_out("Re: " + subject, answer, html=f"<p>{answer}</p>", by=w.shop.agent_id)
    await w.tx.session.flush()
    task = Task(
        account_id=w.shop.account_id,
        kind="email",
        owner_id=w.shop.agent_id,
        title=f"Email to {w.email.address}: Re: {subject}",
        status="completed",
        message_id=reply.id,
        created_at=reply.created_at,
        completed_at=w.at,
    )
    w.tx.session.add(task)
    reply.meta = {"email": {"message_id": f"<msg-{reply.id}.demo@northwind.example>"}}
    if n == 0:
        await _quoted_reply(w, subject, reply)
    elif n == 4:
        _bounced(w, reply)
        # As a bounce does (parlour/channels/email/inbound.py): the task failed with it.
        task.status, task.error = "failed", reply.error_message


async def _quoted_reply(w: ThreadWriter, subject: str, ours: Message) -> None:
    """The contact answers from their mail client, quoting our reply below their own
    words: parsed as any incoming mail is, so the thread folds the quote away."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in ours.body.splitlines())
    mail = EmailMessage()
    mail["From"] = formataddr((w.contact_name, w.email.address))
    mail["To"] = w.shop.mailbox.address
    mail["Subject"] = f"Re: {subject}"
    mail["Message-ID"] = f"<reply-{ours.id}@mail.example>"
    mail["In-Reply-To"] = mail["References"] = ours.meta["email"]["message_id"]
    mail.set_content(
        "Wonderful, thank you! Please ship it to the shop, not the warehouse.\n\n"
        f"{w.contact_name.split()[0]}\n\n"
        f"On {ours.created_at:%a, %d %b %Y at %H:%M}, Northwind Coffee "
        f"<{w.shop.mailbox.address}> wrote:\n{quoted}\n"
    )
    raw = mail.as_bytes()
    parsed = mime.parse(raw)
    blob = await files_service.store(
        w.tx, account_id=w.shop.account_id, data=raw, content_type="message/rfc822"
    )
    message = w.email_in(parsed.subject, parsed.new_text)
    message.provider_message_id = email_inbound.message_key(
        w.shop.account_id, parsed.message_id, raw
    )
    message.meta = {"email": {**email_inbound.details_of(parsed), "raw_blob_id": blob.id}}


def _bounced(w: ThreadWriter, ours: Message) -> None:
    """Our reply came back: the contact's mailbox is gone. The message is failed with the
    report's reason and the address marked bounced (the composer offers email no more)."""
    ours.status, ours.error_code = "failed", "email_bounced"
    ours.error_message = "The address does not exist (5.1.1)."
    ours.meta = {
        "email": {
            **ours.meta["email"],
            "bounce": {
                "reason": ours.error_message,
                "status": "5.1.1",
                "diagnostic": f"smtp; 550 5.1.1 <{w.email.address}>: Recipient address "
                "rejected: User unknown in virtual mailbox table",
                "permanent": True,
                "received_at": (ours.created_at + timedelta(minutes=1)).isoformat(),
            },
        }
    }
    w.email.bounced = True


async def _three_channels(w: ThreadWriter, n: int) -> None:
    """A chat the bot answers, our SMS that fails, and the contact's email instead."""
    w.chat_in("Hi, is anyone there?")
    w.chat_out("Thanks! We usually answer within minutes.", by=CHAT_AUTO_REPLY)
    failed = w.sms_out(
        "Hi! Following up on your chat: shall I call you?", by=w.shop.admin_id, status="failed"
    )
    failed.error_code, failed.error_message = words.SMS_ERRORS[0]
    w.email_in("Sorry, my phone is off", "Please email me instead. Thanks!")


KINDS = (_sms_with_welcome, _chat_then_sms, _email_with_task, _three_channels)
