"""`parlour demo`: a small company's inbox, full enough to show every feature."""

from __future__ import annotations

import hashlib
import random
import struct
import zlib
from datetime import timedelta

from parlour.accounts import service as accounts_service
from parlour.channels.email.models import Mailbox
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.webchat.models import Widget
from parlour.config import Settings
from parlour.contacts import service as contacts_service
from parlour.contacts.models import ContactPhone
from parlour.contacts.normalize import fold
from parlour.contacts.schemas import ContactIn, EmailIn, PhoneIn
from parlour.conversations import thread as conversations_thread
from parlour.conversations.models import Conversation, Message
from parlour.db.base import utcnow
from parlour.db.engine import make_database
from parlour.db.migrate import migrate
from parlour.db.tx import Tx, transaction
from parlour.realtime.memory import MemoryHub
from parlour.tasks.models import Task

PEOPLE = [
    ("Zoë Ólafsdóttir", "Reykjavik Roasters"),
    ("José Álvarez", "Álvarez & Hijos"),
    ("Björn Lindqvist", ""),
    ("Amélie Dubois", "Café Lumière"),
    ("Kenji Watanabe", ""),
    ("Priya Raman", "Raman Foods"),
    ("Liam O'Connor", ""),
    ("Chiara Bianchi", "Bianchi Bakery"),
    ("Noah Williams", ""),
    ("Fatima Haddad", "Haddad Imports"),
    ("Mateo Rossi", ""),
    ("Sofia Kowalska", "Kowalska Design"),
    ("Ethan Brown", ""),
    ("Aisha Bello", ""),
    ("Lucas Martin", "Martin Bikes"),
    ("Hannah Schmidt", ""),
    ("Omar Farouk", ""),
    ("Emma Johansson", "Nordic Tea Co."),
    ("Diego Fernández", ""),
    ("Mia Novak", ""),
    ("Ravi Shankar", "Shankar Spices"),
    ("Olivia Smith", ""),
    ("Yuki Tanaka", ""),
    ("Grace Kim", "Kim & Park"),
    ("Jonas Weber", ""),
    ("Léa Moreau", ""),
    ("Samuel Okafor", "Okafor Logistics"),
    ("Isabella Costa", ""),
    ("Felix Bauer", ""),
    ("Nora Andersen", ""),
    ("Arjun Mehta", "Mehta Studio"),
    ("Chloé Laurent", ""),
    ("Tomás Silva", ""),
    ("Elena Petrova", "Petrova Gallery"),
    ("Adam Nowak", ""),
    ("Ingrid Berg", ""),
]

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


def identicon_png(seed: str, size: int = 120) -> bytes:
    """A GitHub-style avatar: a symmetric 5x5 pattern in a colour drawn from ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    fg = (digest[0] // 2 + 60, digest[1] // 2 + 60, digest[2] // 2 + 60)
    bg = (242, 242, 247)
    cells = [[digest[3 + r * 3 + min(c, 4 - c)] % 2 == 0 for c in range(5)] for r in range(5)]
    cell = size // 6
    margin = (size - cell * 5) // 2
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            cx, cy = (x - margin) // cell, (y - margin) // cell
            on = 0 <= cx < 5 and 0 <= cy < 5 and x >= margin and y >= margin and cells[cy][cx]
            row += bytes(fg if on else bg)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


async def create_demo(settings: Settings, *, password: str) -> None:
    await migrate(settings.database_url)
    db = make_database(settings)
    try:
        async with transaction(db, MemoryHub()) as tx:
            await _fill(tx, settings, password)
            await tx.commit()
    finally:
        await db.dispose()


async def _fill(tx: Tx, settings: Settings, password: str) -> None:
    rng = random.Random(7)
    account = await accounts_service.get_or_create_account(tx, name="Northwind Coffee")
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
        address="hello@northwind.example",
        name="Northwind Coffee",
        provider="console",
        enabled=True,
    )
    widget = Widget(
        account_id=account.id,
        name="northwind.example",
        public_token="wgt_demo_northwind",
        enabled=True,
        allowed_origins=["https://northwind.example"],
        greeting="Hi! How can we help?",
        color="#4f46e5",
        identity_secret="demo-secret",
    )
    tx.session.add_all([main_line, ads_line, mailbox, widget])
    await tx.session.flush()

    now = utcnow()
    for i, (name, company) in enumerate(PEOPLE):
        slug = "".join(ch for ch in fold(name.split()[0]) if ch.isalnum())
        phone = f"+1415555{1000 + i * 7:04d}"
        contact = await contacts_service.create_contact(
            tx,
            account_id=account.id,
            data=ContactIn(
                name=name,
                company=company,
                phones=[PhoneIn(number=phone, label="mobile")],
                emails=[EmailIn(address=f"{slug}{i}@example.com", label="work")],
                tags=(["vip"] if i % 5 == 0 else []) + (["wholesale"] if company else []),
            ),
            region=settings.default_region,
            author_id=admin.id,
        )
        if i == 6:
            contact.phones[0].sms_opt_out = True
            contact.phones[0].sms_opt_out_at = now - timedelta(days=2)
            contact.phones[0].sms_opt_out_number = main_line.e164
        start = now - timedelta(hours=2 + i * 5 + rng.randint(0, 4))
        conv = await conversations_thread.get_or_open(
            tx, account_id=account.id, contact_id=contact.id
        )
        at = start
        cphone = contact.phones[0]
        cemail = contact.emails[0]

        def msg(conv: Conversation = conv, **kw: object) -> Message:
            nonlocal at
            at = at + timedelta(minutes=rng.randint(2, 40))
            base: dict[str, object] = dict(
                account_id=account.id,
                conversation_id=conv.id,
                body="",
                meta={},
                created_at=at,
                updated_at=at,
                attachments=[],
            )
            base.update(kw)
            m = Message(**base)
            tx.session.add(m)
            return m

        def sms_in(body: str, cphone: ContactPhone = cphone) -> None:
            msg(
                direction="in",
                channel="sms",
                sender_type="contact",
                body=body,
                from_address=cphone.e164,
                to_address=main_line.e164,
                endpoint_id=main_line.id,
                contact_endpoint_id=cphone.id,
                status="received",
            )

        def sms_out(
            body: str,
            cphone: ContactPhone = cphone,
            *,
            user_id: int | None,
            bot: bool = False,
            status: str = "delivered",
        ) -> Message:
            return msg(
                direction="out",
                channel="sms",
                sender_type="bot" if bot else "user",
                user_id=user_id,
                workflow_name="Welcome series" if bot else None,
                workflow_id=1 if bot else None,
                body=body,
                from_address=main_line.e164,
                to_address=cphone.e164,
                endpoint_id=main_line.id,
                contact_endpoint_id=cphone.id,
                status=status,
            )

        kind = i % 4
        if kind == 0:  # SMS, with a bot welcome
            sms_out(BOT_TEXT, user_id=None, bot=True)
            sms_in(SMS_IN[i % len(SMS_IN)])
            sms_out(SMS_OUT[i % len(SMS_OUT)], user_id=agent.id)
            if i % 8 == 0:
                sms_in("Perfect, thank you!")
        elif kind == 1:  # web chat then SMS: one thread, two channels
            msg(
                direction="in",
                channel="webchat",
                sender_type="contact",
                body=CHAT_IN[i % len(CHAT_IN)],
                endpoint_id=widget.id,
                status="received",
            )
            msg(
                direction="out",
                channel="webchat",
                sender_type="user",
                user_id=admin.id,
                body=CHAT_OUT[i % len(CHAT_OUT)],
                endpoint_id=widget.id,
                status="read",
            )
            sms_in("Following up by text: " + SMS_IN[(i + 1) % len(SMS_IN)].lower())
        elif kind == 2:  # email
            subject, question, answer = EMAIL_THREADS[i % len(EMAIL_THREADS)]
            msg(
                direction="in",
                channel="email",
                sender_type="contact",
                subject=subject,
                body=question,
                html="<p>" + question.replace("\n\n", "</p><p>") + "</p>",
                from_address=cemail.address,
                to_address=mailbox.address,
                endpoint_id=mailbox.id,
                contact_endpoint_id=cemail.id,
                status="received",
            )
            reply = msg(
                direction="out",
                channel="email",
                sender_type="user",
                user_id=agent.id,
                subject="Re: " + subject,
                body=answer,
                html=f"<p>{answer}</p>",
                from_address=mailbox.address,
                to_address=cemail.address,
                endpoint_id=mailbox.id,
                contact_endpoint_id=cemail.id,
                status="delivered",
            )
            await tx.session.flush()
            tx.session.add(
                Task(
                    account_id=account.id,
                    kind="email",
                    owner_id=agent.id,
                    title=f"Email to {cemail.address}: Re: {subject}",
                    status="completed",
                    message_id=reply.id,
                    created_at=reply.created_at,
                    completed_at=at,
                )
            )
        else:  # all three channels, one failed SMS
            msg(
                direction="in",
                channel="webchat",
                sender_type="contact",
                body="Hi, is anyone there?",
                endpoint_id=widget.id,
                status="received",
            )
            msg(
                direction="out",
                channel="webchat",
                sender_type="bot",
                workflow_id=2,
                workflow_name="Chat auto-reply",
                body="Thanks! We usually answer within minutes.",
                endpoint_id=widget.id,
                status="read",
            )
            failed = sms_out(
                "Hi! Following up on your chat: shall I call you?",
                user_id=admin.id,
                status="failed",
            )
            failed.error_code = "30003"
            failed.error_message = "The phone could not be reached (switched off or no signal)."
            msg(
                direction="in",
                channel="email",
                sender_type="contact",
                subject="Sorry, my phone is off",
                body="Please email me instead. Thanks!",
                from_address=cemail.address,
                to_address=mailbox.address,
                endpoint_id=mailbox.id,
                contact_endpoint_id=cemail.id,
                status="received",
            )
        if i % 3 == 0:
            conv.assignee_id = agent.id if i % 2 else admin.id
        if i >= len(PEOPLE) - 3:
            conv.status = "closed"
        await tx.session.flush()
        await conversations_thread.recompute_thread(tx, conv)

    # A few contacts with no conversation yet: "new conversation" finds them.
    for name, phone in (("Walter Gómez", "+14155559001"), ("Rosa Parks", "+14155559002")):
        await contacts_service.create_contact(
            tx,
            account_id=account.id,
            data=ContactIn(name=name, phones=[PhoneIn(number=phone, label="mobile")]),
            region=settings.default_region,
        )
    await tx.session.flush()
