"""The demo's threads: four kinds, taken in turn down the cast, each showing features.

0. SMS opened by the bot's welcome;  1. web chat, then SMS: one thread, two channels;
2. an email and our reply, with its completed Email Task;  3. all three channels, a bot's
chat reply and a failed SMS. tests/web/ and docs/screenshots open these threads by the
contact's name and look for what their kind shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from parlour.channels.email.models import Mailbox
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.webchat.models import Widget
from parlour.contacts.models import Contact
from parlour.conversations.models import Conversation, Message
from parlour.db.tx import Tx
from parlour.tasks.models import Task

SMS_IN = [
    "Hi! Do you have the Ethiopian beans in stock this week?",
    "Can I move my delivery to Friday?",
    "Thanks, got it 👍",
    "What time do you open on Sundays?",
    "Is the espresso machine repair done yet?",
    "Could you text me the invoice total?",
]
SMS_OUT = [
    "Yes, we have them! Want me to set a bag aside for you?",
    "Done, your delivery is now on Friday between 9 and 11.",
    "We open at 8am on Sundays. See you then!",
    "It's ready for pick-up any time after 2pm.",
]
CHAT_IN = [
    "Hello, I'm looking at the subscription page: can I pause it for a month?",
    "Do you ship to Canada?",
    "Is there a discount for offices?",
]
CHAT_OUT = [
    "Absolutely, you can pause from your account page or I can do it for you now.",
    "We do! Shipping to Canada takes 3 to 5 business days.",
    "Yes: 10% off for 5+ bags a month. Shall I send you the details by email?",
]
EMAIL_THREADS = [
    (
        "Wholesale order for next month",
        "Hello,\n\nWe'd like to order 20 kg of the house blend for March. Can you confirm the "
        "price and the delivery date?\n\nBest regards",
        "Thanks for your order! 20 kg of the house blend is confirmed for March 3rd. "
        "The invoice will follow.",
    ),
    (
        "Question about my invoice #1042",
        "Hi, the invoice shows two deliveries but I only received one. Could you check?",
        "You're right, sorry about that: a corrected invoice is attached to your account.",
    ),
]
BOT_TEXT = (
    "Welcome to Northwind Coffee! ☕ Reply to this number any time: a real person reads "
    "every message."
)


class Workflow(NamedTuple):
    """An automation that speaks as the bot (the demo has no workflow rows behind them)."""

    id: int
    name: str


WELCOME = Workflow(1, "Welcome series")
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
    """The ``i``-th contact's messages: the ``i % 4``-th kind of thread."""
    await KINDS[i % len(KINDS)](w, i)


async def _sms_with_welcome(w: ThreadWriter, i: int) -> None:
    w.sms_out(BOT_TEXT, by=WELCOME)
    w.sms_in(SMS_IN[i % len(SMS_IN)])
    w.sms_out(SMS_OUT[i % len(SMS_OUT)], by=w.shop.agent_id)
    if i % 8 == 0:
        w.sms_in("Perfect, thank you!")


async def _chat_then_sms(w: ThreadWriter, i: int) -> None:
    w.chat_in(CHAT_IN[i % len(CHAT_IN)])
    w.chat_out(CHAT_OUT[i % len(CHAT_OUT)], by=w.shop.admin_id)
    w.sms_in("Following up by text: " + SMS_IN[(i + 1) % len(SMS_IN)].lower())


async def _email_with_task(w: ThreadWriter, i: int) -> None:
    """The contact's email and the agent's reply, sent as a completed Email Task."""
    subject, question, answer = EMAIL_THREADS[i % len(EMAIL_THREADS)]
    html = "<p>" + question.replace("\n\n", "</p><p>") + "</p>"
    w.email_in(subject, question, html=html)
    reply = w.email_out("Re: " + subject, answer, html=f"<p>{answer}</p>", by=w.shop.agent_id)
    await w.tx.session.flush()
    w.tx.session.add(
        Task(
            account_id=w.shop.account_id,
            kind="email",
            owner_id=w.shop.agent_id,
            title=f"Email to {w.email.address}: Re: {subject}",
            status="completed",
            message_id=reply.id,
            created_at=reply.created_at,
            completed_at=w.at,
        )
    )


async def _three_channels(w: ThreadWriter, i: int) -> None:
    """A chat the bot answers, our SMS that fails, and the contact's email instead."""
    w.chat_in("Hi, is anyone there?")
    w.chat_out("Thanks! We usually answer within minutes.", by=CHAT_AUTO_REPLY)
    failed = w.sms_out(
        "Hi! Following up on your chat: shall I call you?", by=w.shop.admin_id, status="failed"
    )
    failed.error_code = "30003"
    failed.error_message = "The phone could not be reached (switched off or no signal)."
    w.email_in("Sorry, my phone is off", "Please email me instead. Thanks!")


KINDS = (_sms_with_welcome, _chat_then_sms, _email_with_task, _three_channels)
