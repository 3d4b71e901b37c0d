"""Mailboxes: add, list, change, remove; their outgoing relays, the password sealed."""

from __future__ import annotations

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
    _set_relay(
        box,
        host=data.smtp_host,
        port=data.smtp_port,
        security=data.smtp_security,
        username=data.smtp_username,
        password=data.smtp_password,
        secret_key=secret_key,
    )
    _set_imap(
        box,
        host=data.imap_host,
        port=data.imap_port,
        security=data.imap_security,
        username=data.imap_username,
        password=data.imap_password,
        folder=data.imap_folder,
        secret_key=secret_key,
    )
    tx.session.add(box)
    await tx.session.flush()
    return box


async def update_mailbox(
    tx: Tx, *, account_id: int, mailbox_id: int, patch: MailboxPatch, secret_key: str
) -> Mailbox:
    box = await get_mailbox(tx, account_id=account_id, mailbox_id=mailbox_id)
    given = patch.model_fields_set
    if patch.name is not None:
        box.name = patch.name
    if patch.enabled is not None:
        box.enabled = patch.enabled
    if patch.signature is not None:
        box.signature = patch.signature
    relay_fields = {"smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password"}
    if given & relay_fields:
        host = patch.smtp_host if "smtp_host" in given else box.smtp_host
        if host is None and given & (relay_fields - {"smtp_host"}):
            raise _host_required()
        security = patch.smtp_security or box.smtp_security or "starttls"
        port = patch.smtp_port if "smtp_port" in given else box.smtp_port
        if "smtp_security" in given and "smtp_port" not in given:
            # A port chosen for the old security would rarely fit the new one.
            port = None
        password: str | None | _Keep = patch.smtp_password if "smtp_password" in given else _KEEP
        _set_relay(
            box,
            host=host,
            port=port,
            security=security,  # type: ignore[arg-type]
            username=patch.smtp_username if "smtp_username" in given else box.smtp_username,
            password=password,
            secret_key=secret_key,
        )
    imap_fields = {
        "imap_host", "imap_port", "imap_security", "imap_username", "imap_password", "imap_folder"
    }  # fmt: skip
    if given & imap_fields:
        host = patch.imap_host if "imap_host" in given else box.imap_host
        if host is None and given & (imap_fields - {"imap_host"}):
            raise _host_required("imap_host")
        security = patch.imap_security or box.imap_security or "tls"
        port = patch.imap_port if "imap_port" in given else box.imap_port
        if "imap_security" in given and "imap_port" not in given:
            port = None
        imap_password: str | None | _Keep = (
            patch.imap_password if "imap_password" in given else _KEEP
        )
        _set_imap(
            box,
            host=host,
            port=port,
            security=security,  # type: ignore[arg-type]
            username=patch.imap_username if "imap_username" in given else box.imap_username,
            password=imap_password,
            folder=patch.imap_folder or box.imap_folder or "INBOX",
            secret_key=secret_key,
        )
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
