"""`parlour seed`: a large synthetic inbox, bulk-inserted fast, for benchmarks.

Rows go in through SQLAlchemy Core ``insert()`` executemany batches, a few transactions in
all, never through the ORM unit of work: 100k contacts and 1M messages take a minute or two
instead of an hour. The rows come from ``seed_rows.Generator``, their panel fields already
computed, so no slow ``UPDATE`` pass is needed afterwards. The same arguments give the same
names, threads and timestamps.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from parlour.config import Settings
from parlour.contacts.models import Contact, ContactEmail, ContactPhone
from parlour.conversations.models import Conversation, Message, ReadMarker
from parlour.db.engine import make_database
from parlour.sample.bulk import insert_returning, insert_rows, table_of
from parlour.sample.progress import Report
from parlour.sample.seed_company import ADMIN_PASSWORD, admin_email, find_or_create_company
from parlour.sample.seed_rows import Generator, Thread, thread_sizes

# Contacts (with their threads) per transaction.
CHUNK = 10_000


@dataclass
class Reachable:
    """A seeded contact's id, and its phone and email address with their ids."""

    contact_id: int
    phone: str
    phone_id: int
    email: str
    email_id: int


async def seed(
    settings: Settings,
    *,
    account: str,
    contacts: int,
    messages: int,
    random_seed: int = 1,
    report: Report | None = None,
) -> str:
    """Fill ``account`` with ``contacts`` contacts, each in a thread, and ``messages`` messages.

    Seeding the same account again adds more contacts (numbered after the existing ones).
    ``report`` hears how many messages are stored (contacts, when there are no messages)
    after each transaction.
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
            company = await find_or_create_company(conn, account, now)
            existing = await conn.scalar(
                select(func.count(Contact.id)).where(Contact.account_id == company.account_id)
            )
        base = int(existing or 0)
        gen = Generator(rng, company, now, run=secrets.token_hex(4))
        sizes = thread_sizes(rng, contacts, messages)
        total = sum(sizes) or contacts
        if report is not None:
            report(0, total)
        for start in range(0, contacts, CHUNK):
            stop = min(start + CHUNK, contacts)
            async with engine.begin() as conn:
                people = await _insert_contacts(conn, gen, range(base + start, base + stop))
                written += await _insert_threads(conn, gen, people, sizes[start:stop])
            if report is not None:
                report(written if sum(sizes) else stop, total)
        if engine.dialect.name == "postgresql":
            # VACUUM as well, as autovacuum would soon: until then an index-only scan (the
            # panel's walk) visits the table for every entry, its pages not yet marked
            # all-visible. VACUUM runs outside a transaction.
            async with engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM (ANALYZE)"))
        else:
            async with engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
    finally:
        await db.dispose()
    seconds = time.perf_counter() - started
    return (
        f"Seeded account '{account}': {contacts} contacts, {written} messages "
        f"in {seconds:.1f} s. Log in as {admin_email(account)} / {ADMIN_PASSWORD}."
    )


async def _insert_contacts(
    conn: AsyncConnection, gen: Generator, indexes: range
) -> list[Reachable]:
    """Contacts ``indexes``, each with one phone number and one email address."""
    account_id = gen.company.account_id
    contacts: list[dict[str, Any]] = []
    endpoints: list[tuple[str, str]] = []
    for index in indexes:
        row, phone, email = gen.contact(index)
        contacts.append(row)
        endpoints.append((phone, email))
    # search_text holds the (unique) email address, so it identifies the row.
    contact_ids = await insert_returning(conn, table_of(Contact), "search_text", contacts)
    phones: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    for row, (phone, email) in zip(contacts, endpoints, strict=True):
        common = {
            "account_id": account_id,
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
    phone_ids = await insert_returning(conn, table_of(ContactPhone), "e164", phones)
    email_ids = await insert_returning(conn, table_of(ContactEmail), "address", emails)
    return [
        Reachable(p["contact_id"], phone, phone_ids[phone], email, email_ids[email])
        for p, (phone, email) in zip(phones, endpoints, strict=True)
    ]


async def _insert_threads(
    conn: AsyncConnection, gen: Generator, people: Sequence[Reachable], sizes: Sequence[int]
) -> int:
    """One conversation per contact, with ``sizes`` messages; the admin's read markers."""
    threads: list[Thread] = []
    conversations: list[dict[str, Any]] = []
    for n, who in zip(sizes, people, strict=True):
        thread = gen.thread(
            n, phone_id=who.phone_id, phone=who.phone, email_id=who.email_id, email=who.email
        )
        threads.append(thread)
        conversations.append(_conversation(gen, who.contact_id, thread))
    conv_ids = await insert_returning(conn, table_of(Conversation), "contact_id", conversations)
    messages: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    for conv, thread in zip(conversations, threads, strict=True):
        conv_id = conv_ids[conv["contact_id"]]
        for m in thread.messages:
            m["conversation_id"] = conv_id
        messages.extend(thread.messages)
        # The admin has read most threads up to their newest message; the rest are unread.
        if conv["last_message_at"] is not None and gen.rng.random() < 0.8:
            markers.append(
                {
                    "conversation_id": conv_id,
                    "user_id": gen.company.admin_id,
                    "last_read_at": conv["last_message_at"],
                }
            )
    await insert_rows(conn, table_of(Message), messages)
    await insert_rows(conn, table_of(ReadMarker), markers)
    return len(messages)


def _conversation(gen: Generator, contact_id: int, thread: Thread) -> dict[str, Any]:
    """The conversation row of ``thread``: open or closed, assigned or not."""
    rng = gen.rng
    # Closed threads are ones we answered last (a contact writing again reopens them).
    closed = thread.panel["last_message_direction"] == "out" and rng.random() < 0.3
    first_at = thread.messages[0]["created_at"] if thread.messages else gen.now
    return {
        "account_id": gen.company.account_id,
        "contact_id": contact_id,
        "status": "closed" if closed else "open",
        "assignee_id": gen.company.admin_id if rng.random() < 0.3 else None,
        **thread.panel,
        "created_at": first_at,
    }
