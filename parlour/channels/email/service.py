"""Mailboxes: add, list, change, remove; their outgoing relays, the password sealed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from parlour.channels.crypto import CannotDecrypt, seal, unseal
from parlour.channels.email.models import Mailbox
from parlour.channels.email.provider import Security, SmtpRelay
from parlour.channels.email.schemas import MailboxIn, MailboxPatch
from parlour.db.tx import Tx
from parlour.errors import Conflict, InvalidInput, NotFound

DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
IMAP_PORTS: dict[str, int] = {"starttls": 143, "tls": 993, "none": 143}


async def list_mailboxes(tx: Tx, *, account_id: int) -> list[Mailbox]:
    rows = await tx.session.scalars(
        select(Mailbox).where(Mailbox.account_id == account_id).order_by(Mailbox.id)
    )
    return list(rows)


async def get_mailbox(tx: Tx, *, account_id: int, mailbox_id: int) -> Mailbox:
    box = await tx.session.scalar(
        select(Mailbox).where(Mailbox.id == mailbox_id, Mailbox.account_id == account_id)
    )
    if box is None:
        raise NotFound("No such mailbox.")
    return box


async def add_mailbox(tx: Tx, *, account_id: int, data: MailboxIn, secret_key: str) -> Mailbox:
    address = data.address.lower()
    if await tx.session.scalar(select(Mailbox.id).where(Mailbox.address == address)):
        raise Conflict(f"{address} is already in use.", code="duplicate_mailbox")
    if data.provider == "smtp" and not data.smtp_host:
        raise _host_required()
    if data.provider == "console" and data.smtp_host:
        raise InvalidInput(
            "The console provider sends nothing; leave out the mail server or choose smtp.",
            code="relay_not_used",
            details={"field": "provider"},
        )
    box = Mailbox(
        account_id=account_id,
        address=address,
        name=data.name,
        enabled=data.enabled,
        signature=data.signature,
    )
    _set_relay(box, **_given(data, "smtp"), secret_key=secret_key)
    _set_imap(box, **_given(data, "imap"), folder=data.imap_folder, secret_key=secret_key)
    tx.session.add(box)
    await tx.session.flush()
    return box


async def update_mailbox(
    tx: Tx, *, account_id: int, mailbox_id: int, patch: MailboxPatch, secret_key: str
) -> Mailbox:
    box = await get_mailbox(tx, account_id=account_id, mailbox_id=mailbox_id)
    if patch.name is not None:
        box.name = patch.name
    if patch.enabled is not None:
        box.enabled = patch.enabled
    if patch.signature is not None:
        box.signature = patch.signature
    relay = _patched(box, patch, "smtp", default_security="starttls")
    if relay is not None:
        _set_relay(box, **relay, secret_key=secret_key)
    imap = _patched(box, patch, "imap", default_security="tls", more=("folder",))
    if imap is not None:
        folder = imap.pop("folder") or box.imap_folder or "INBOX"
        _set_imap(box, **imap, folder=folder, secret_key=secret_key)
    await tx.session.flush()
    return box


async def remove_mailbox(tx: Tx, *, account_id: int, mailbox_id: int) -> None:
    box = await get_mailbox(tx, account_id=account_id, mailbox_id=mailbox_id)
    await tx.session.delete(box)
    await tx.session.flush()


class CannotReadPassword(InvalidInput):
    code = "credentials_unreadable"
    status = 409


def relay_of(box: Mailbox, *, secret_key: str) -> SmtpRelay | None:
    """The mailbox's relay with its password unsealed, or None without one. Raises
    CannotReadPassword when the password was sealed under another secret key."""
    if not box.smtp_host:
        return None
    password = None
    if box.smtp_password_sealed is not None:
        try:
            password = unseal(secret_key, box.smtp_password_sealed)["password"]
        except CannotDecrypt as exc:
            raise CannotReadPassword(
                "The mail server password cannot be read with this server's "
                "PARLOUR_SECRET_KEY; enter it again in Settings → Mailboxes.",
            ) from exc
    security: Security = box.smtp_security or "starttls"  # type: ignore[assignment]
    return SmtpRelay(
        host=box.smtp_host,
        port=box.smtp_port or DEFAULT_PORTS[security],
        security=security,
        username=box.smtp_username or None,
        password=password,
    )


class _Keep:
    pass


_KEEP = _Keep()
# What a mailbox keeps of each of its mail servers (the outgoing relay, "smtp_*", and the
# IMAP account, "imap_*").
SERVER_FIELDS = ("host", "port", "security", "username", "password")


def _given(data: MailboxIn, prefix: str) -> dict[str, Any]:
    """A new mailbox's settings for one of its servers, by their unprefixed names."""
    return {name: getattr(data, f"{prefix}_{name}") for name in SERVER_FIELDS}


def _patched(
    box: Mailbox,
    patch: MailboxPatch,
    prefix: str,
    *,
    default_security: str,
    more: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """One server's settings after ``patch`` (fields left out stay as they are), or None
    when the patch names none of them. A password left out is kept."""
    given = {f for f in patch.model_fields_set if f.startswith(f"{prefix}_")}
    if not given:
        return None

    def now(name: str) -> Any:
        field = f"{prefix}_{name}"
        return getattr(patch, field) if field in given else getattr(box, field)

    host = now("host")
    if host is None and given - {f"{prefix}_host"}:
        raise _host_required(f"{prefix}_host")
    port = now("port")
    if f"{prefix}_security" in given and f"{prefix}_port" not in given:
        # A port chosen for the old security would rarely fit the new one.
        port = None
    password = getattr(patch, f"{prefix}_password") if f"{prefix}_password" in given else _KEEP
    return {
        "host": host,
        "port": port,
        "security": (
            getattr(patch, f"{prefix}_security")
            or getattr(box, f"{prefix}_security")
            or default_security
        ),
        "username": now("username"),
        "password": password,
        **{name: now(name) for name in more},
    }


def _set_relay(
    box: Mailbox,
    *,
    host: str | None,
    port: int | None,
    security: Security,
    username: str | None,
    password: str | None | _Keep,
    secret_key: str,
) -> None:
    if host is None:
        box.provider = "console"
        box.smtp_host = box.smtp_port = box.smtp_security = None
        box.smtp_username = box.smtp_password_sealed = None
        return
    box.provider = "smtp"
    box.smtp_host = host.lower()
    box.smtp_security = security
    box.smtp_port = port or DEFAULT_PORTS[security]
    box.smtp_username = username or None
    if not isinstance(password, _Keep):
        box.smtp_password_sealed = seal(secret_key, {"password": password}) if password else None


def _set_imap(
    box: Mailbox,
    *,
    host: str | None,
    port: int | None,
    security: Security,
    username: str | None,
    password: str | None | _Keep,
    folder: str,
    secret_key: str,
) -> None:
    if host is None:
        box.imap_host = box.imap_port = box.imap_security = box.imap_folder = None
        box.imap_username = box.imap_password_sealed = box.imap_error = None
        return
    moved = (host.lower(), folder) != (box.imap_host, box.imap_folder)
    box.imap_host = host.lower()
    box.imap_security = security
    box.imap_port = port or IMAP_PORTS[security]
    box.imap_username = username or None
    box.imap_folder = folder
    box.imap_error = None
    if moved:
        # Another server or folder: its UIDs are its own, so polling starts afresh there.
        box.imap_uidvalidity = box.imap_last_uid = None
    if not isinstance(password, _Keep):
        box.imap_password_sealed = seal(secret_key, {"password": password}) if password else None


def _host_required(field: str = "smtp_host") -> InvalidInput:
    which = "incoming (IMAP)" if field == "imap_host" else "outgoing"
    return InvalidInput(
        f"Give the {which} mail server's host name.",
        code=f"{field}_required",
        details={"field": field},
    )
