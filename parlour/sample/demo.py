"""`parlour demo`: Northwind Coffee, a small company's inbox, full enough to show every feature.

The browser tests (tests/web/) and docs/screenshots rely on it: the two users and their
login, the cast in ``words.CAST`` order (each one's phone number and email address follow
from their place), the opted-out contact, the two contacts without a conversation, and the
kind of thread each contact has (demo_threads.py).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from parlour.accounts import service as accounts_service
from parlour.channels.email.models import Mailbox
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.webchat.models import Widget
from parlour.config import Settings
from parlour.contacts import service as contacts_service
from parlour.contacts.models import Contact
from parlour.contacts.schemas import ContactIn, EmailIn, PhoneIn
from parlour.conversations import thread as conversations_thread
from parlour.db.base import utcnow
from parlour.db.engine import make_database
from parlour.db.migrate import migrate
from parlour.db.tx import Tx, transaction
from parlour.realtime.memory import MemoryHub
from parlour.sample import words
from parlour.sample.avatars import identicon_png
from parlour.sample.demo_threads import Shop, ThreadWriter, write_thread
from parlour.sample.demo_workflows import add_demo_workflows

# Where the demo's mail goes; `parlour demo` prints how to send it one.
DEMO_MAILBOX = "hello@northwind.example"
# The demo widget's public token (its snippet is on the demo company's website).
DEMO_WIDGET_TOKEN = "wgt_demo_northwind"
# Contacts with no conversation yet: "new conversation" finds them.
STRANGERS = (("Walter Gómez", "+14155559001"), ("Rosa Parks", "+14155559002"))
OPTED_OUT = 6  # Liam O'Connor no longer takes texts from the main line.


async def create_demo(
    settings: Settings, *, password: str, website_origins: Sequence[str] = ()
) -> None:
    """``website_origins``: where `parlour demo` serves the company's website (its chat
    widget must be allowed there)."""
    await migrate(settings.database_url)
    db = make_database(settings)
    try:
        async with transaction(db, MemoryHub()) as tx:
            await _fill(tx, settings, password, website_origins)
            await tx.commit()
    finally:
        await db.dispose()


async def _fill(
    tx: Tx, settings: Settings, password: str, website_origins: Sequence[str] = ()
) -> None:
    rng = random.Random(7)
    shop = await _northwind(tx, password, website_origins)
    now = utcnow()
    for i, person in enumerate(words.CAST):
        contact = await _contact(tx, settings, shop, i, person)
        if i == OPTED_OUT:
            _opt_out(contact, shop, at=now - timedelta(days=2))
        start = now - timedelta(hours=2 + i * 5 + rng.randint(0, 4))
        conv = await conversations_thread.get_or_open(
            tx, account_id=shop.account_id, contact_id=contact.id
        )
        await write_thread(ThreadWriter(tx, shop, conv, contact, start=start, rng=rng), i)
        if i % 3 == 0:
            conv.assignee_id = shop.agent_id if i % 2 else shop.admin_id
        if i >= len(words.CAST) - 3:
            conv.status = "closed"
        await tx.session.flush()
        await conversations_thread.recompute_thread(tx, conv)
    for name, phone in STRANGERS:
        await contacts_service.create_contact(
            tx,
            account_id=shop.account_id,
            data=ContactIn(name=name, phones=[PhoneIn(number=phone, label="mobile")]),
            region=settings.default_region,
        )
    await tx.session.flush()
    await add_demo_workflows(tx, account_id=shop.account_id, admin_id=shop.admin_id)


async def _northwind(tx: Tx, password: str, website_origins: Sequence[str] = ()) -> Shop:
    """The account, an admin and an agent with their avatars, two numbers, a mailbox, a widget."""
    account = await accounts_service.get_or_create_account(tx, name="Northwind Coffee")
    account.timezone = "Europe/London"  # its office hours and schedules
    admin = await accounts_service.create_user(
        tx,
        account_id=account.id,
        email="admin@example.com",
        name="Ada Lovelace",
        password=password,
        role="admin",
    )
    agent = await accounts_service.create_user(
        tx,
        account_id=account.id,
        email="agent@example.com",
        name="Sam Carter",
        password=password,
        role="agent",
    )
    for user in (admin, agent):
        await accounts_service.set_avatar(tx, user=user, data=identicon_png(user.email))
    main_line = PhoneNumber(
        account_id=account.id,
        e164="+14155550100",
        label="Main line",
        provider="console",
        sms_enabled=True,
    )
    ads_line = PhoneNumber(
        account_id=account.id,
        e164="+14155550101",
        label="Billboard ad (calls only)",
        provider="console",
        sms_enabled=False,
    )
    mailbox = Mailbox(
        account_id=account.id,
        address=DEMO_MAILBOX,
        name="Northwind Coffee",
        provider="console",
        enabled=True,
        signature="Northwind Coffee · 12 Harbour Lane · northwind.example",
    )
    widget = Widget(
        account_id=account.id,
        name="northwind.example",
        public_token=DEMO_WIDGET_TOKEN,
        enabled=True,
        allowed_origins=["https://northwind.example", *website_origins],
        greeting="Hi! How can we help?",
        color="#4f46e5",
        identity_secret="demo-secret",
    )
    tx.session.add_all([main_line, ads_line, mailbox, widget])
    await tx.session.flush()
    return Shop(account.id, admin.id, agent.id, main_line, mailbox, widget)


async def _contact(tx: Tx, settings: Settings, shop: Shop, i: int, person: words.Person) -> Contact:
    """The ``i``-th of the cast, with a mobile number and a work address drawn from ``i``."""
    return await contacts_service.create_contact(
        tx,
        account_id=shop.account_id,
        data=ContactIn(
            name=person.name,
            company=person.company,
            phones=[PhoneIn(number=f"+1415555{1000 + i * 7:04d}", label="mobile")],
            emails=[EmailIn(address=f"{words.handle(person.first)}{i}@example.com", label="work")],
            tags=(["vip"] if i % 5 == 0 else []) + (["wholesale"] if person.company else []),
        ),
        region=settings.default_region,
        author_id=shop.admin_id,
    )


def _opt_out(contact: Contact, shop: Shop, *, at: datetime) -> None:
    """The contact replied STOP to the main line."""
    phone = contact.phones[0]
    phone.sms_opt_out = True
    phone.sms_opt_out_at = at
    phone.sms_opt_out_number = shop.main_line.e164
