"""Web-chat visitors: the token a widget keeps for its visitor, the identity a website
vouches for, and the contact behind a visitor.

A visitor token is ``v1.<widget>.<visitor>.<nonce>.<expires>.<signature>``: the
signature is an HMAC-SHA256, under a key derived from ``PARLOUR_SECRET_KEY`` for this use
only, of everything before it. It names its widget (a token of another widget is
refused), expires (``TOKEN_DAYS``, refreshed each time the widget opens), and carries the
visitor's nonce, so revoking a visitor (or rotating the nonce) kills every token they hold.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from parlour.channels.webchat.models import Visitor, Widget
from parlour.contacts import service as contacts_service
from parlour.contacts.models import Contact, ContactEmail
from parlour.contacts.normalize import normalize_email
from parlour.contacts.schemas import EmailIn
from parlour.conversations import merge as conversations_merge
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import Conflict, Forbidden, Unauthorized

TOKEN_DAYS = 180
# How far a vouched identity's timestamp may be from our clock, either way.
IDENTITY_WINDOW_SECONDS = 600

_TOKEN = re.compile(
    r"^v1\.(?P<widget>\d{1,18})\.(?P<visitor>\d{1,18})\.(?P<nonce>[0-9a-f]{32})"
    r"\.(?P<exp>\d{1,12})\.(?P<sig>[0-9a-f]{64})$"
)
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class TokenInvalid(Unauthorized):
    code = "visitor_token_invalid"

    def __init__(self) -> None:
        super().__init__("The visitor token is invalid or expired. Ask for a new one.")


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"parlour webchat visitor tokens v1", "sha256").digest()


def _sign(secret_key: str, payload: str) -> str:
    return hmac.new(_key(secret_key), payload.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TokenClaims:
    widget_id: int
    visitor_id: int
    nonce: str
    expires_at: datetime


def claims_for(visitor: Visitor, *, now: datetime | None = None) -> TokenClaims:
    expires = (now or utcnow()) + timedelta(days=TOKEN_DAYS)
    return TokenClaims(
        widget_id=visitor.widget_id,
        visitor_id=visitor.id,
        nonce=visitor.nonce,
        expires_at=expires.replace(microsecond=0),
    )


def encode_token(secret_key: str, claims: TokenClaims) -> str:
    payload = (
        f"v1.{claims.widget_id}.{claims.visitor_id}.{claims.nonce}."
        f"{int(claims.expires_at.timestamp())}"
    )
    return f"{payload}.{_sign(secret_key, payload)}"


def decode_token(secret_key: str, token: str, *, now: datetime | None = None) -> TokenClaims:
    """The claims of a token whose signature holds and which has not expired; whether its
    visitor still exists and holds the nonce is ``visitor_of_token``'s business."""
    found = _TOKEN.match(token or "")
    if found is None:
        raise TokenInvalid()
    payload = token.rsplit(".", 1)[0]
    if not hmac.compare_digest(found["sig"], _sign(secret_key, payload)):
        raise TokenInvalid()
    expires = datetime.fromtimestamp(int(found["exp"]), tz=(now or utcnow()).tzinfo)
    if expires <= (now or utcnow()):
        raise TokenInvalid()
    return TokenClaims(
        widget_id=int(found["widget"]),
        visitor_id=int(found["visitor"]),
        nonce=found["nonce"],
        expires_at=expires,
    )


async def visitor_of_token(tx: Tx, claims: TokenClaims, *, widget: Widget) -> Visitor:
    visitor = await tx.session.get(Visitor, claims.visitor_id)
    if (
        visitor is None
        or visitor.widget_id != widget.id
        or claims.widget_id != widget.id
        or visitor.revoked_at is not None
        or not hmac.compare_digest(visitor.nonce, claims.nonce)
    ):
        raise TokenInvalid()
    return visitor


def revoke(visitor: Visitor) -> None:
    visitor.revoked_at = utcnow()
    visitor.nonce = secrets.token_hex(16)


@dataclass(frozen=True)
class Identity:
    identifier: str
    timestamp: int
    hash: str
    name: str | None = None
    email: str | None = None


def check_identity(widget: Widget, identity: Identity, *, now: datetime | None = None) -> None:
    """The website vouched for this identifier: its HMAC holds and is recent."""
    moment = (now or utcnow()).timestamp()
    expected = hmac.new(
        widget.identity_secret.encode(),
        f"{identity.identifier}:{identity.timestamp}".encode(),
        hashlib.sha256,
    ).hexdigest()
    if (
        not _HEX.match(identity.hash)
        or not hmac.compare_digest(identity.hash.lower(), expected)
        or abs(moment - identity.timestamp) > IDENTITY_WINDOW_SECONDS
    ):
        raise Forbidden(
            "The identity's hash is wrong or its timestamp too old.", code="identity_invalid"
        )


def default_name(visitor_id: int) -> str:
    return f"Visitor {hashlib.sha256(f'visitor:{visitor_id}'.encode()).hexdigest()[:4]}"


def new_visitor(widget: Widget, *, identifier: str | None = None) -> Visitor:
    now = utcnow()
    return Visitor(
        widget_id=widget.id,
        account_id=widget.account_id,
        identifier=identifier,
        nonce=secrets.token_hex(16),
        created_at=now,
        last_seen_at=now,
    )


async def contact_of(tx: Tx, visitor: Visitor, *, name: str | None = None) -> Contact:
    """The visitor's contact, created ("Visitor 1a2b") if they have none yet."""
    if visitor.contact_id is not None:
        found = await tx.session.get(Contact, visitor.contact_id)
        if found is not None:
            return await contacts_service.get_contact(
                tx, account_id=visitor.account_id, contact_id=found.id
            )
    contact = Contact(
        account_id=visitor.account_id,
        name=name or default_name(visitor.id),
        company="",
        phones=[],
        emails=[],
        tags=[],
    )
    contacts_service.reindex(contact)
    tx.session.add(contact)
    await tx.session.flush()
    visitor.contact_id = contact.id
    await tx.session.flush()
    contacts_service.emit_contact_updated(tx, contact, created=True)
    return contact


async def add_email(tx: Tx, contact: Contact, address: str) -> None:
    """Adds ``address`` to the visitor's contact, unverified. An address another contact
    already has stays theirs: a visitor typing it proves nothing."""
    address = normalize_email(address)
    owner = await tx.session.scalar(
        select(ContactEmail.contact_id).where(
            ContactEmail.account_id == contact.account_id, ContactEmail.address == address
        )
    )
    if owner is not None:
        return
    try:
        await contacts_service.add_email(
            tx,
            account_id=contact.account_id,
            contact_id=contact.id,
            item=EmailIn(address=address),
        )
    except Conflict as exc:
        # A look-alike of another contact's address is not kept either, and the visitor,
        # who may mean no harm, is not told about that other contact.
        if exc.code != "lookalike_email":
            raise


async def identify(tx: Tx, widget: Widget, current: Visitor | None, identity: Identity) -> Visitor:
    """The visitor the website vouches for: the same one (contact, thread) on every
    device. An anonymous ``current`` visitor becomes them; if they already exist, what
    the anonymous one wrote is merged into their contact and its tokens are revoked."""
    known = await tx.session.scalar(
        select(Visitor).where(
            Visitor.widget_id == widget.id, Visitor.identifier == identity.identifier
        )
    )
    if known is None and current is not None and current.identifier is None:
        current.identifier = identity.identifier
        known = current
    elif known is None:
        known = new_visitor(widget, identifier=identity.identifier)
        tx.session.add(known)
        await tx.session.flush()
    if current is not None and current.id != known.id and current.identifier is None:
        if current.contact_id is not None:
            if known.contact_id is None:
                known.contact_id = current.contact_id
            elif known.contact_id != current.contact_id:
                await conversations_merge.merge_contacts(
                    tx,
                    account_id=widget.account_id,
                    keep_id=known.contact_id,
                    other_id=current.contact_id,
                )
        current.contact_id = None
        revoke(current)
    if known.revoked_at is not None:
        known.revoked_at = None
    contact = await contact_of(tx, known, name=identity.name)
    if identity.name and contact.name != identity.name:
        contact.name = identity.name
        contacts_service.reindex(contact)
        await tx.session.flush()
        contacts_service.emit_contact_updated(tx, contact)
    if identity.email:
        await add_email(tx, contact, identity.email)
    known.last_seen_at = utcnow()
    await tx.session.flush()
    return known
