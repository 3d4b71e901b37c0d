"""`parlour seed`: a large synthetic inbox, bulk-inserted fast, for benchmarks.

Rows go in through SQLAlchemy Core ``insert()`` executemany batches, a few transactions in
all, never through the ORM unit of work: 100k contacts and 1M messages take a minute or two
instead of an hour. Each conversation's denormalised panel fields (last message, preview,
channels used, ...) are computed in Python while its thread is generated, so no slow
``UPDATE`` pass is needed afterwards. Everything is drawn from a seeded random generator:
the same arguments give the same names, threads and timestamps.
"""

from __future__ import annotations

import math
import random
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from parlour.accounts.models import Account, User
from parlour.accounts.passwords import hash_password
from parlour.channels.email.models import Mailbox
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.webchat.models import Widget
from parlour.config import Settings
from parlour.contacts.models import Contact, ContactEmail, ContactPhone
from parlour.contacts.normalize import fold, search_text
from parlour.conversations.models import Conversation, Message, ReadMarker
from parlour.conversations.thread import preview_of
from parlour.db.engine import make_database

ADMIN_PASSWORD = "seed-password"
# Rows per executemany call, and contacts (with their threads) per transaction.
BATCH = 5_000
CHUNK = 10_000

FIRST_NAMES = (
    "Zoë", "José", "Björn", "Amélie", "Kenji", "Priya", "Liam", "Chiara", "Noah", "Fatima",
    "Mateo", "Sofia", "Ethan", "Aisha", "Lucas", "Hannah", "Omar", "Emma", "Diego", "Mia",
    "Ravi", "Olivia", "Yuki", "Grace", "Jonas", "Léa", "Samuel", "Isabella", "Felix", "Nora",
    "Arjun", "Chloé", "Tomás", "Elena", "Adam", "Ingrid", "Søren", "Małgorzata", "Renée",
    "Zoltán", "Ayşe", "Thanh", "François", "Inés", "Jürgen", "Ana", "Wei", "Olga", "Kwame",
    "Sven", "María", "Joël", "Anaïs", "Ciarán", "Dagný", "Nguyễn", "Raúl", "Andrés", "Mónica",
    "Pål", "Ümit", "Hélène", "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer",
    "David", "Linda", "William", "Elizabeth", "Daniel", "Susan", "Matthew", "Jessica",
    "Anthony", "Sarah", "Mark", "Karen", "Steven", "Nancy", "Paul", "Lisa", "Andrew", "Betty",
)  # fmt: skip
LAST_NAMES = (
    "Ólafsdóttir", "Álvarez", "Lindqvist", "Dubois", "Watanabe", "Raman", "O'Connor",
    "Bianchi", "Williams", "Haddad", "Rossi", "Kowalska", "Brown", "Bello", "Martin",
    "Schmidt", "Farouk", "Johansson", "Fernández", "Novak", "Shankar", "Smith", "Tanaka",
    "Kim", "Weber", "Moreau", "Okafor", "Costa", "Bauer", "Andersen", "Mehta", "Laurent",
    "Silva", "Petrova", "Nowak", "Berg", "Müller", "Gonçalves", "Øvrebø", "Núñez", "Żukowski",
    "Dvořák", "Šimić", "Öztürk", "Lefèvre", "Brontë", "García", "Hernández", "López",
    "González", "Pérez", "Sánchez", "Ramírez", "Jiménez", "Johnson", "Jones", "Miller",
    "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris",
    "Thompson", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Nguyen", "Hill", "Green", "Adams", "Nelson", "Baker", "Hall", "Campbell",
)  # fmt: skip
COMPANIES = (
    "Reykjavik Roasters", "Álvarez & Hijos", "Café Lumière", "Raman Foods", "Bianchi Bakery",
    "Haddad Imports", "Kowalska Design", "Martin Bikes", "Nordic Tea Co.", "Shankar Spices",
    "Kim & Park", "Okafor Logistics", "Petrova Gallery", "Mehta Studio", "Bäckerei Müller",
    "Crème de la Crème", "Acme Plumbing", "Blue Fern Florist", "Golden Gate Dental",
    "Mission Yoga", "Harbor Freight Lines", "Sunset Realty", "Pacific Vet Clinic",
    "Oakland Auto Body", "Bay Area Movers", "Ñandú Tours", "Fjörð Outdoor", "Zürich Watches",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "fastmail.com")
# San Francisco, Peninsula and East Bay area codes: every exchange 200-999 is valid in them.
AREA_CODES = ("415", "650", "510")
# An odd multiplier not divisible by 5, hence coprime with 8_000_000: spreads consecutive
# contacts over the 8M seven-digit subscriber numbers of an area code without repeats.
_SUBSCRIBER_STRIDE = 2_718_281

SMS_IN = (
    "Hi! Do you have the Ethiopian beans in stock this week?",
    "Can I move my delivery to Friday?",
    "Thanks, got it 👍",
    "What time do you open on Sundays?",
    "Is the repair done yet?",
    "Could you text me the invoice total?",
    "Running 10 min late, sorry!",
    "Yes please",
    "Perfect, see you tomorrow.",
    "Can you call me back when you have a minute?",
    "Is parking available near the shop?",
    "No more promos please, but keep the order updates coming 🙂",
)
SMS_OUT = (
    "Yes, we have them! Want me to set a bag aside for you?",
    "Done, your delivery is now on Friday between 9 and 11.",
    "We open at 8am on Sundays. See you then!",
    "It's ready for pick-up any time after 2pm.",
    "No problem at all, thanks for letting us know.",
    "Your total is $42.50. You can pay on pick-up.",
    "Sure, I'll call you in about 15 minutes.",
    "There's free parking behind the building.",
)
BOT_OUT = (
    "Welcome! Reply to this number any time: a real person reads every message.",
    "Reminder: your appointment is tomorrow at 10:00. Reply C to confirm.",
    "Thanks for your message! We're closed right now and will reply first thing tomorrow.",
)
CHAT_IN = (
    "Hello, I'm looking at the subscription page: can I pause it for a month?",
    "Do you ship to Canada?",
    "Is there a discount for offices?",
    "My order number is 10442, where is it?",
    "Can I change the grind to espresso?",
    "ok thanks!",
)
CHAT_OUT = (
    "Absolutely, you can pause from your account page or I can do it for you now.",
    "We do! Shipping to Canada takes 3 to 5 business days.",
    "Yes: 10% off for 5+ bags a month. Shall I send you the details by email?",
    "It left our warehouse this morning, you'll get a tracking link shortly.",
    "Done! The next bag will be ground for espresso.",
)
EMAIL_SUBJECTS = (
    "Wholesale order for next month",
    "Question about my invoice #1042",
    "Catering for our office party",
    "Partnership enquiry",
    "Damaged package",
    "Gift cards for the team",
    "Réservation pour samedi",
)
EMAIL_IN = (
    "Hello,\n\nWe'd like to order 20 kg of the house blend. Can you confirm the price and "
    "the delivery date?\n\nBest regards",
    "Hi, the invoice shows two deliveries but I only received one. Could you check?",
    "Thanks for the quick answer. One more question: do you also deliver on Saturdays?",
    "Please find attached the photos of the damaged box.",
    "Great, that works for us. Talk soon!",
)
EMAIL_OUT = (
    "Thanks for your order! It is confirmed for the 3rd. The invoice will follow.",
    "You're right, sorry about that: a corrected invoice is attached to your account.",
    "Yes, Saturday deliveries are possible between 9am and noon.",
    "I'm so sorry about that. A replacement is on its way today, no charge.",
)
WORKFLOW_NAME = "Welcome SMS"
SMS_ERRORS = (
    ("30003", "Unreachable destination handset."),
    ("30005", "Unknown destination handset."),
    ("30007", "Message filtered by the carrier."),
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    return _NOT_SLUG.sub("-", fold(name)).strip("-") or "seed"


def admin_email(account: str) -> str:
    return f"seed-admin@{slug(account)}.example"


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
class Company:
    """The company side: the account, its admin and its three channel endpoints."""

    account_id: int
    admin_id: int
    phone_number_id: int
    phone_e164: str
    mailbox_id: int
    mailbox_address: str
    widget_id: int


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
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        company = rng.choice(COMPANIES) if rng.random() < 0.3 else ""
        local = _NOT_SLUG.sub("", fold(first)) + "." + _NOT_SLUG.sub("", fold(last))
        email = f"{local}{index}@{rng.choice(EMAIL_DOMAINS)}"
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

    def _preview(self, channel: str, subject: str | None, body: str) -> str:
        """The panel's preview, as the service computes it (cached: bodies repeat)."""
        key = (channel, subject, body)
        if key not in self._previews:
            msg = Message(channel=channel, subject=subject, body=body, attachments=[])
            self._previews[key] = preview_of(msg)
        return self._previews[key]

    def _message(self, direction: str, channel: str, at: datetime) -> dict[str, Any]:
        self.message_seq += 1
        return {
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

    def thread(self, n: int, *, phone_id: int, phone: str, email_id: int, email: str) -> Thread:
        """``n`` messages mostly on one channel, switching direction like a conversation."""
        rng = self.rng
        co = self.company
        primary = rng.choices(("sms", "webchat", "email"), weights=(55, 25, 20))[0]
        subject = rng.choice(EMAIL_SUBJECTS)
        emails = 0
        direction = "in" if rng.random() < 0.7 else "out"
        thread = Thread()
        used: set[str] = set()
        last_in: datetime | None = None
        for i, at in enumerate(self._times(n)):
            if i and rng.random() < 0.6:
                direction = "out" if direction == "in" else "in"
            channel = primary if rng.random() < 0.85 else rng.choice(("sms", "webchat", "email"))
            used.add(channel)
            out = direction == "out"
            row = self._message(direction, channel, at)
            bot = out and channel == "sms" and rng.random() < 0.12
            if out:
                row["sender_type"] = "bot" if bot else "user"
                row["user_id"] = None if bot else co.admin_id
                row["workflow_name"] = WORKFLOW_NAME if bot else None
                row["status"] = "delivered"
                row["updated_at"] = at + timedelta(seconds=rng.uniform(1, 20))
            else:
                last_in = at
            if channel == "sms":
                row["body"] = rng.choice((BOT_OUT if bot else SMS_OUT) if out else SMS_IN)
                row["endpoint_id"] = co.phone_number_id
                row["contact_endpoint_id"] = phone_id
                ours, theirs = co.phone_e164, phone
                row["provider_message_id"] = f"SM{self.run}{self.message_seq:010d}"
                if out and rng.random() < 0.03:
                    row["status"] = "failed"
                    row["error_code"], row["error_message"] = rng.choice(SMS_ERRORS)
            elif channel == "email":
                row["body"] = rng.choice(EMAIL_OUT if out else EMAIL_IN)
                row["subject"] = f"Re: {subject}" if emails else subject
                emails += 1
                row["endpoint_id"] = co.mailbox_id
                row["contact_endpoint_id"] = email_id
                ours, theirs = co.mailbox_address, email
                row["provider_message_id"] = f"<{self.run}.{self.message_seq}@seed.example>"
            else:
                row["body"] = rng.choice(CHAT_OUT if out else CHAT_IN)
                row["endpoint_id"] = co.widget_id
                if out and rng.random() < 0.6:
                    row["status"] = "read"
            if channel != "webchat":
                row["from_address"], row["to_address"] = (ours, theirs) if out else (theirs, ours)
            thread.messages.append(row)
        if not thread.messages:
            thread.panel = dict(EMPTY_PANEL)
            return thread
        last = thread.messages[-1]
        thread.panel = {
            "last_message_at": last["created_at"],
            "last_inbound_at": last_in,
            "last_message_preview": self._preview(last["channel"], last["subject"], last["body"]),
            "last_message_channel": last["channel"],
            "last_message_direction": last["direction"],
            "channels": " ".join(sorted(used)),
        }
        return thread


def _batches(rows: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield list(rows[start : start + BATCH])


async def _insert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        await conn.execute(insert(table), batch)


async def _insert_returning(
    conn: AsyncConnection, table: Table, key: str, rows: Sequence[dict[str, Any]]
) -> dict[Any, int]:
    """Insert ``rows``; map each row's ``key`` value (unique in ``rows``) to its new id.

    Neither backend promises RETURNING rows in VALUES order, so ids are matched by key.
    """
    ids: dict[Any, int] = {}
    stmt = insert(table).returning(table.c.id, table.c[key])
    for batch in _batches(rows):
        result = await conn.execute(stmt, batch)
        ids.update({k: i for i, k in result.tuples()})
    return ids


async def _insert_one(conn: AsyncConnection, table: Table, row: dict[str, Any]) -> int:
    new_id: int = (await conn.execute(insert(table).returning(table.c.id), row)).scalar_one()
    return new_id


async def _company(conn: AsyncConnection, account: str, now: datetime) -> Company:
    """The account, its admin, a number, a mailbox and a widget: reused when present."""
    account_id = await conn.scalar(select(Account.id).where(Account.name == account))
    if account_id is None:
        account_id = await _insert_one(
            conn,
            Account.__table__,  # type: ignore[arg-type]
            {"name": account, "event_seq": 0, "sms_opt_out_scope": "account", "created_at": now},
        )
    email = admin_email(account)
    admin_id = await conn.scalar(
        select(User.id).where(User.email == email, User.account_id == account_id)
    )
    if admin_id is None:
        admin_id = await _insert_one(
            conn,
            User.__table__,  # type: ignore[arg-type]
            {
                "account_id": account_id,
                "email": email,
                "name": "Seed Admin",
                "role": "admin",
                "password_hash": hash_password(ADMIN_PASSWORD),
                "avatar_blob_id": None,
                "active": True,
                "created_at": now,
            },
        )

    number = (
        await conn.execute(
            select(PhoneNumber.id, PhoneNumber.e164)
            .where(PhoneNumber.account_id == account_id, PhoneNumber.sms_enabled.is_(True))
            .order_by(PhoneNumber.id)
            .limit(1)
        )
    ).first()
    if number is None:
        # 555-01xx: the exchange set aside for fiction; unique across accounts.
        taken = set(
            await conn.scalars(select(PhoneNumber.e164).where(PhoneNumber.e164.like("+1415555%")))
        )
        e164 = next(e for e in (f"+1415555{n:04d}" for n in range(100, 10_000)) if e not in taken)
        number_id = await _insert_one(
            conn,
            PhoneNumber.__table__,  # type: ignore[arg-type]
            {
                "account_id": account_id,
                "e164": e164,
                "label": "Main line",
                "provider": "console",
                "sms_enabled": True,
                "created_at": now,
            },
        )
        number_row = (number_id, e164)
    else:
        number_row = (number[0], number[1])

    mailbox = (
        await conn.execute(
            select(Mailbox.id, Mailbox.address)
            .where(Mailbox.account_id == account_id)
            .order_by(Mailbox.id)
            .limit(1)
        )
    ).first()
    if mailbox is None:
        address = f"support@{slug(account)}.example"
        if await conn.scalar(select(Mailbox.id).where(Mailbox.address == address)):
            address = f"support-{account_id}@{slug(account)}.example"
        mailbox_id = await _insert_one(
            conn,
            Mailbox.__table__,  # type: ignore[arg-type]
            {
                "account_id": account_id,
                "address": address,
                "name": f"{account} support",
                "provider": "console",
                "enabled": True,
                "created_at": now,
            },
        )
        mailbox_row = (mailbox_id, address)
    else:
        mailbox_row = (mailbox[0], mailbox[1])

    widget_id = await conn.scalar(
        select(Widget.id).where(Widget.account_id == account_id).order_by(Widget.id).limit(1)
    )
    if widget_id is None:
        widget_id = await _insert_one(
            conn,
            Widget.__table__,  # type: ignore[arg-type]
            {
                "account_id": account_id,
                "name": "Website",
                "public_token": "wgt_" + secrets.token_urlsafe(24),
                "enabled": True,
                "allowed_origins": [f"https://{slug(account)}.example"],
                "greeting": "Hi! How can we help?",
                "color": "#4f46e5",
                "identity_secret": secrets.token_hex(32),
                "created_at": now,
            },
        )
    return Company(
        account_id=account_id,
        admin_id=admin_id,
        phone_number_id=number_row[0],
        phone_e164=number_row[1],
        mailbox_id=mailbox_row[0],
        mailbox_address=mailbox_row[1],
        widget_id=widget_id,
    )


async def _seed_chunk(
    conn: AsyncConnection, gen: Generator, indexes: range, sizes: Sequence[int]
) -> int:
    """Contacts ``indexes`` with their phone, email, conversation and ``sizes`` messages."""
    co = gen.company
    rng = gen.rng
    contacts: list[dict[str, Any]] = []
    endpoints: list[tuple[str, str]] = []
    for index in indexes:
        row, phone, email = gen.contact(index)
        contacts.append(row)
        endpoints.append((phone, email))
    # search_text holds the (unique) email address, so it identifies the row.
    contact_ids = await _insert_returning(conn, Contact.__table__, "search_text", contacts)  # type: ignore[arg-type]
    phones: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    for row, (phone, email) in zip(contacts, endpoints, strict=True):
        common = {
            "account_id": co.account_id,
            "contact_id": contact_ids[row["search_text"]],
            "created_at": row["created_at"],
        }
        phones.append(
            {
                **common,
                "e164": phone,
                "label": "mobile",
                "sms_opt_out": False,
                "sms_opt_out_at": None,
                "sms_opt_out_number": None,
            }
        )
        emails.append({**common, "address": email, "label": "", "bounced": False})
    phone_ids = await _insert_returning(conn, ContactPhone.__table__, "e164", phones)  # type: ignore[arg-type]
    email_ids = await _insert_returning(conn, ContactEmail.__table__, "address", emails)  # type: ignore[arg-type]

    threads: list[Thread] = []
    conversations: list[dict[str, Any]] = []
    for n, (phone, email), prow in zip(sizes, endpoints, phones, strict=True):
        thread = gen.thread(
            n, phone_id=phone_ids[phone], phone=phone, email_id=email_ids[email], email=email
        )
        threads.append(thread)
        # Closed threads are ones we answered last (a contact writing again reopens them).
        closed = thread.panel["last_message_direction"] == "out" and rng.random() < 0.3
        first_at = thread.messages[0]["created_at"] if thread.messages else gen.now
        conversations.append(
            {
                "account_id": co.account_id,
                "contact_id": prow["contact_id"],
                "status": "closed" if closed else "open",
                "assignee_id": co.admin_id if rng.random() < 0.3 else None,
                **thread.panel,
                "created_at": first_at,
            }
        )
    conv_ids = await _insert_returning(conn, Conversation.__table__, "contact_id", conversations)  # type: ignore[arg-type]

    messages: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    for conv, thread in zip(conversations, threads, strict=True):
        conv_id = conv_ids[conv["contact_id"]]
        for m in thread.messages:
            m["conversation_id"] = conv_id
        messages.extend(thread.messages)
        # The admin has read most threads up to their newest message; the rest are unread.
        if conv["last_message_at"] is not None and rng.random() < 0.8:
            markers.append(
                {
                    "conversation_id": conv_id,
                    "user_id": co.admin_id,
                    "last_read_at": conv["last_message_at"],
                }
            )
    await _insert(conn, Message.__table__, messages)  # type: ignore[arg-type]
    await _insert(conn, ReadMarker.__table__, markers)  # type: ignore[arg-type]
    return len(messages)


async def seed(
    settings: Settings, *, account: str, contacts: int, messages: int, random_seed: int = 1
) -> str:
    """Fill ``account`` with ``contacts`` contacts, each in a thread, and ``messages`` messages.

    Seeding the same account again adds more contacts (numbered after the existing ones).
    """
    if contacts < 0 or messages < 0:
        raise ValueError("contacts and messages must not be negative")
    started = time.perf_counter()
    rng = random.Random(random_seed)
    now = datetime.now(UTC).replace(microsecond=0)
    db = make_database(settings)
    engine = db.writer
    written = 0
    try:
        async with engine.begin() as conn:
            if db.dialect == "sqlite":
                # A bigger page cache for this connection keeps the index pages in memory.
                await conn.exec_driver_sql("PRAGMA cache_size=-262144")
            company = await _company(conn, account, now)
            existing = await conn.scalar(
                select(func.count(Contact.id)).where(Contact.account_id == company.account_id)
            )
        base = int(existing or 0)
        gen = Generator(rng, company, now, run=secrets.token_hex(4))
        sizes = thread_sizes(rng, contacts, messages)
        for start in range(0, contacts, CHUNK):
            stop = min(start + CHUNK, contacts)
            async with engine.begin() as conn:
                written += await _seed_chunk(
                    conn, gen, range(base + start, base + stop), sizes[start:stop]
                )
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    finally:
        await db.dispose()
    seconds = time.perf_counter() - started
    return (
        f"Seeded account '{account}': {contacts} contacts, {written} messages "
        f"in {seconds:.1f} s. Log in as {admin_email(account)} / {ADMIN_PASSWORD}."
    )
