"""The company side of a seeded account: the account, its admin, a number, a mailbox, a widget.

Each is reused when the account already has one, so seeding an account again only adds
contacts.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from parlour.accounts.models import Account, User
from parlour.accounts.passwords import hash_password
from parlour.channels.email.models import Mailbox
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.webchat.models import Widget
from parlour.contacts.normalize import fold
from parlour.sample.bulk import insert_one, table_of

ADMIN_PASSWORD = "seed-password"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    return _NOT_SLUG.sub("-", fold(name)).strip("-") or "seed"


def admin_email(account: str) -> str:
    return f"seed-admin@{slug(account)}.example"


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


async def find_or_create_company(conn: AsyncConnection, account: str, now: datetime) -> Company:
    """The account named ``account`` and its endpoints: reused when present, else created."""
    account_id = await _account(conn, account, now)
    admin_id = await _admin(conn, account_id, account, now)
    number_id, e164 = await _phone_number(conn, account_id, now)
    mailbox_id, address = await _mailbox(conn, account_id, account, now)
    widget_id = await _widget(conn, account_id, account, now)
    return Company(
        account_id=account_id,
        admin_id=admin_id,
        phone_number_id=number_id,
        phone_e164=e164,
        mailbox_id=mailbox_id,
        mailbox_address=address,
        widget_id=widget_id,
    )


async def _account(conn: AsyncConnection, account: str, now: datetime) -> int:
    account_id = await conn.scalar(select(Account.id).where(Account.name == account))
    if account_id is not None:
        return account_id
    row = {
        "name": account,
        "event_seq": 0,
        "sms_opt_out_scope": "account",
        "timezone": "UTC",
        "created_at": now,
    }
    return await insert_one(conn, table_of(Account), row)


async def _admin(conn: AsyncConnection, account_id: int, account: str, now: datetime) -> int:
    email = admin_email(account)
    admin_id = await conn.scalar(
        select(User.id).where(User.email == email, User.account_id == account_id)
    )
    if admin_id is not None:
        return admin_id
    row = {
        "account_id": account_id,
        "email": email,
        "name": "Seed Admin",
        "role": "admin",
        "password_hash": hash_password(ADMIN_PASSWORD),
        "avatar_blob_id": None,
        "active": True,
        "created_at": now,
    }
    return await insert_one(conn, table_of(User), row)


async def _phone_number(conn: AsyncConnection, account_id: int, now: datetime) -> tuple[int, str]:
    """The account's first SMS-enabled number, or a new one."""
    number = (
        await conn.execute(
            select(PhoneNumber.id, PhoneNumber.e164)
            .where(PhoneNumber.account_id == account_id, PhoneNumber.sms_enabled.is_(True))
            .order_by(PhoneNumber.id)
            .limit(1)
        )
    ).first()
    if number is not None:
        return number[0], number[1]
    # 555-01xx: the exchange set aside for fiction; unique across accounts.
    taken = set(
        await conn.scalars(select(PhoneNumber.e164).where(PhoneNumber.e164.like("+1415555%")))
    )
    e164 = next(e for e in (f"+1415555{n:04d}" for n in range(100, 10_000)) if e not in taken)
    row = {
        "account_id": account_id,
        "e164": e164,
        "label": "Main line",
        "provider": "console",
        "sms_enabled": True,
        "created_at": now,
    }
    return await insert_one(conn, table_of(PhoneNumber), row), e164


async def _mailbox(
    conn: AsyncConnection, account_id: int, account: str, now: datetime
) -> tuple[int, str]:
    """The account's first mailbox, or a new one."""
    mailbox = (
        await conn.execute(
            select(Mailbox.id, Mailbox.address)
            .where(Mailbox.account_id == account_id)
            .order_by(Mailbox.id)
            .limit(1)
        )
    ).first()
    if mailbox is not None:
        return mailbox[0], mailbox[1]
    address = f"support@{slug(account)}.example"
    if await conn.scalar(select(Mailbox.id).where(Mailbox.address == address)):
        address = f"support-{account_id}@{slug(account)}.example"
    row = {
        "account_id": account_id,
        "address": address,
        "name": f"{account} support",
        "provider": "console",
        "enabled": True,
        "created_at": now,
    }
    return await insert_one(conn, table_of(Mailbox), row), address


async def _widget(conn: AsyncConnection, account_id: int, account: str, now: datetime) -> int:
    """The account's first web-chat widget, or a new one."""
    widget_id = await conn.scalar(
        select(Widget.id).where(Widget.account_id == account_id).order_by(Widget.id).limit(1)
    )
    if widget_id is not None:
        return widget_id
    row = {
        "account_id": account_id,
        "name": "Website",
        "public_token": "wgt_" + secrets.token_urlsafe(24),
        "enabled": True,
        "allowed_origins": [f"https://{slug(account)}.example"],
        "greeting": "Hi! How can we help?",
        "color": "#4f46e5",
        "identity_secret": secrets.token_hex(32),
        "created_at": now,
    }
    return await insert_one(conn, table_of(Widget), row)
