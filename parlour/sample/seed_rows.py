"""Rows for a synthetic inbox: contacts, their threads and how long each thread is.

Everything is drawn from a seeded random generator, so the same arguments give the same
names, threads and timestamps. Each thread's denormalised panel fields (last message,
preview, channels used, ...) are computed here while it is generated, so no ``UPDATE``
pass is needed after the rows are in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parlour.contacts.normalize import search_text
from parlour.conversations.models import Message
from parlour.conversations.thread import preview_of
from parlour.sample import words
from parlour.sample.seed_company import Company

# San Francisco, Peninsula and East Bay area codes: every exchange 200-999 is valid in them.
AREA_CODES = ("415", "650", "510")
# An odd multiplier not divisible by 5, hence coprime with 8_000_000: spreads consecutive
# contacts over the 8M seven-digit subscriber numbers of an area code without repeats.
_SUBSCRIBER_STRIDE = 2_718_281

CHANNELS = ("sms", "webchat", "email")


def contact_phone(index: int) -> str:
    """A valid, unique US number (E.164) for the ``index``-th seeded contact."""
    area = AREA_CODES[index % len(AREA_CODES)]
    subscriber = 2_000_000 + (index // len(AREA_CODES)) * _SUBSCRIBER_STRIDE % 8_000_000
    return f"+1{area}{subscriber}"


def thread_sizes(rng: random.Random, conversations: int, messages: int) -> list[int]:
    """How many messages each conversation gets: heavy-tailed, summing to ``messages``.

    Every conversation gets at least one message (so it is on the panel) when there are
    enough; the first has a long thread (>= 1000 messages) and the next few >= 200, so
    thread pages can be measured; the rest follow a Pareto distribution.
    """
    if conversations <= 0:
        return []
    if messages < conversations:
        sizes = [0] * conversations
        for i in rng.sample(range(conversations), messages):
            sizes[i] = 1
        return sizes
    sizes = [1] * conversations
    left = messages - conversations
    for i, want in enumerate((1200, 400, 300, 250, 220, 210, 200)):
        if i >= conversations:
            break
        take = min(want - 1, left)
        sizes[i] += take
        left -= take
    if left:
        weights = [min(rng.paretovariate(1.3), 150.0) for _ in range(conversations)]
        total = sum(weights)
        extra = [math.floor(left * w / total) for w in weights]
        for i in rng.choices(range(conversations), weights=weights, k=left - sum(extra)):
            extra[i] += 1
        sizes = [s + e for s, e in zip(sizes, extra, strict=True)]
    return sizes


@dataclass
class Thread:
    """One conversation's messages (without conversation_id yet) and its panel fields."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    panel: dict[str, Any] = field(default_factory=dict)


EMPTY_PANEL: dict[str, Any] = {
    "last_message_at": None,
    "last_inbound_at": None,
    "last_message_preview": "",
    "last_message_channel": None,
    "last_message_direction": None,
    "channels": "",
}


def _addresses(row: dict[str, Any], *, ours: str, theirs: str) -> None:
    """From and to, by the message's direction."""
    out = row["direction"] == "out"
    row["from_address"], row["to_address"] = (ours, theirs) if out else (theirs, ours)


class Generator:
    """Builds rows for contacts and their threads, deterministically from ``rng``."""

    def __init__(self, rng: random.Random, company: Company, now: datetime, run: str) -> None:
        self.rng = rng
        self.company = company
        self.now = now
        self.run = run
        self.message_seq = 0
        self._previews: dict[tuple[str, str | None, str], str] = {}

    def contact(self, index: int) -> tuple[dict[str, Any], str, str]:
        """The contact row (without id), its phone and its email address."""
        rng = self.rng
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        name = f"{first} {last}"
        company = rng.choice(words.COMPANIES) if rng.random() < 0.3 else ""
        local = f"{words.handle(first)}.{words.handle(last)}"
        email = f"{local}{index}@{rng.choice(words.EMAIL_DOMAINS)}"
        phone = contact_phone(index)
        created = self.now - timedelta(days=rng.uniform(400, 800))
        row = {
            "account_id": self.company.account_id,
            "name": name,
            "company": company,
            "avatar_blob_id": None,
            "preferred_channel": None,
            "search_text": search_text(name=name, company=company, emails=[email], phones=[phone]),
            "created_at": created,
            "updated_at": created,
        }
        return row, phone, email

    def thread(self, n: int, *, phone_id: int, phone: str, email_id: int, email: str) -> Thread:
        """``n`` messages mostly on one channel, switching direction like a conversation."""
        rng = self.rng
        primary = rng.choices(CHANNELS, weights=(55, 25, 20))[0]
        subject = rng.choice(words.EMAIL_SUBJECTS)
        emails = 0
        direction = "in" if rng.random() < 0.7 else "out"
        messages: list[dict[str, Any]] = []
        for i, at in enumerate(self._times(n)):
            if i and rng.random() < 0.6:
                direction = "out" if direction == "in" else "in"
            channel = primary if rng.random() < 0.85 else rng.choice(CHANNELS)
            row = self._message(direction, channel, at)
            if channel == "sms":
                self._sms(row, phone_id=phone_id, phone=phone)
            elif channel == "email":
                self._email(row, f"Re: {subject}" if emails else subject, email_id, email)
                emails += 1
            else:
                self._webchat(row)
            messages.append(row)
        return Thread(messages, self._panel(messages))

    def _times(self, n: int) -> list[datetime]:
        """``n`` strictly increasing timestamps, ending at a recent, heavy-tailed time."""
        rng = self.rng
        # Many threads were active today, most in the last weeks, a few months ago.
        at = self.now - timedelta(seconds=min(rng.expovariate(1 / (6 * 86400)), 360 * 86400))
        times = [at]
        for _ in range(n - 1):
            r = rng.random()
            if r < 0.65:  # a back-and-forth: seconds to minutes
                gap = rng.uniform(20, 900)
            elif r < 0.9:  # later that day
                gap = rng.uniform(3600, 12 * 3600)
            else:  # days later
                gap = rng.uniform(86400, 7 * 86400)
            at -= timedelta(seconds=gap, microseconds=rng.randrange(1_000_000))
            times.append(at)
        times.reverse()
        return times

    def _message(self, direction: str, channel: str, at: datetime) -> dict[str, Any]:
        """A message row, its sender and status set; the channel's fields are left empty."""
        self.message_seq += 1
        row: dict[str, Any] = {
            "account_id": self.company.account_id,
            "conversation_id": None,
            "direction": direction,
            "channel": channel,
            "sender_type": "contact",
            "user_id": None,
            "workflow_id": None,
            "workflow_name": None,
            "body": "",
            "subject": None,
            "html": None,
            "endpoint_id": None,
            "contact_endpoint_id": None,
            "from_address": None,
            "to_address": None,
            "provider_message_id": None,
            "status": "received",
            "error_code": None,
            "error_message": None,
            "meta": {},
            "created_at": at,
            "updated_at": at,
        }
        if direction == "out":
            bot = channel == "sms" and self.rng.random() < 0.12
            row["sender_type"] = "bot" if bot else "user"
            row["user_id"] = None if bot else self.company.admin_id
            row["workflow_name"] = words.WELCOME_WORKFLOW if bot else None
            row["status"] = "delivered"
            row["updated_at"] = at + timedelta(seconds=self.rng.uniform(1, 20))
        return row

    def _sms(self, row: dict[str, Any], *, phone_id: int, phone: str) -> None:
        """An SMS's body, numbers and provider id; now and then a failed delivery."""
        rng, co = self.rng, self.company
        out = row["direction"] == "out"
        if out:
            bot = row["sender_type"] == "bot"
            row["body"] = rng.choice(words.BOT_SMS if bot else words.SMS_OUT)
        else:
            row["body"] = rng.choice(words.SMS_IN)
        row["endpoint_id"] = co.phone_number_id
        row["contact_endpoint_id"] = phone_id
        row["provider_message_id"] = f"SM{self.run}{self.message_seq:010d}"
        if out and rng.random() < 0.03:
            row["status"] = "failed"
            row["error_code"], row["error_message"] = rng.choice(words.SMS_ERRORS)
        _addresses(row, ours=co.phone_e164, theirs=phone)

    def _email(self, row: dict[str, Any], subject: str, email_id: int, email: str) -> None:
        """An email's body, subject, addresses and Message-ID."""
        co = self.company
        out = row["direction"] == "out"
        row["body"] = self.rng.choice(words.EMAIL_OUT if out else words.EMAIL_IN)
        row["subject"] = subject
        row["endpoint_id"] = co.mailbox_id
        row["contact_endpoint_id"] = email_id
        row["provider_message_id"] = f"<{self.run}.{self.message_seq}@seed.example>"
        _addresses(row, ours=co.mailbox_address, theirs=email)

    def _webchat(self, row: dict[str, Any]) -> None:
        """A web-chat message's body and widget; most of our replies have been read."""
        rng = self.rng
        out = row["direction"] == "out"
        row["body"] = rng.choice(words.CHAT_OUT if out else words.CHAT_IN)
        row["endpoint_id"] = self.company.widget_id
        if out and rng.random() < 0.6:
            row["status"] = "read"

    def _panel(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The conversation's panel fields, as the service would compute them."""
        if not messages:
            return dict(EMPTY_PANEL)
        last = messages[-1]
        inbound = [m["created_at"] for m in messages if m["direction"] == "in"]
        return {
            "last_message_at": last["created_at"],
            "last_inbound_at": inbound[-1] if inbound else None,
            "last_message_preview": self._preview(last["channel"], last["subject"], last["body"]),
            "last_message_channel": last["channel"],
            "last_message_direction": last["direction"],
            "channels": " ".join(sorted({m["channel"] for m in messages})),
        }

    def _preview(self, channel: str, subject: str | None, body: str) -> str:
        """The panel's preview, as the service computes it (cached: bodies repeat)."""
        key = (channel, subject, body)
        if key not in self._previews:
            msg = Message(channel=channel, subject=subject, body=body, attachments=[])
            self._previews[key] = preview_of(msg)
        return self._previews[key]
