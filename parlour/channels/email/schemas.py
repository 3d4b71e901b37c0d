"""Mailboxes, as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from parlour.channels.email.models import Mailbox
from parlour.types import ShortText

Address = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A host name or an IPv4 address (the same shape), or an IPv6 address.
SmtpHost = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=253,
        pattern=rf"^(?:{_LABEL}(?:\.{_LABEL})*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$",
    ),
]
SmtpPort = Annotated[int, Field(ge=1, le=65535)]
SmtpSecurity = Literal["starttls", "tls", "none"]


SmtpUsername = Annotated[str, StringConstraints(max_length=320)]
SmtpPassword = Annotated[str, StringConstraints(max_length=500)]
Signature = Annotated[str, StringConstraints(max_length=5000)]
ImapFolder = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
]


class MailboxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: Address
    name: ShortText = ""
    # Which provider sends: "smtp" when a relay is given, "console" (logs only) otherwise.
    provider: Literal["console", "smtp"] | None = None
    enabled: bool = True
    smtp_host: SmtpHost | None = None
    # Defaults by security: 587 for STARTTLS, 465 for implicit TLS, 25 for none.
    smtp_port: SmtpPort | None = None
    smtp_security: SmtpSecurity = "starttls"
    smtp_username: SmtpUsername | None = None
    smtp_password: SmtpPassword | None = None
    signature: Signature = ""
    # The IMAP account to poll for incoming mail (optional).
    imap_host: SmtpHost | None = None
    # Defaults by security: 993 for implicit TLS, 143 for STARTTLS or none.
    imap_port: SmtpPort | None = None
    imap_security: SmtpSecurity = "tls"
    imap_username: SmtpUsername | None = None
    imap_password: SmtpPassword | None = None
    imap_folder: ImapFolder = "INBOX"


class MailboxPatch(BaseModel):
    """Fields left out stay as they are; ``smtp_host: null`` removes the relay, and
    ``smtp_password: null`` (or "") forgets the password."""

    model_config = ConfigDict(extra="forbid")
    name: ShortText | None = None
    enabled: bool | None = None
    smtp_host: SmtpHost | None = None
    smtp_port: SmtpPort | None = None
    smtp_security: SmtpSecurity | None = None
    smtp_username: SmtpUsername | None = None
    smtp_password: SmtpPassword | None = None
    signature: Signature | None = None
    # ``imap_host: null`` stops polling.
    imap_host: SmtpHost | None = None
    imap_port: SmtpPort | None = None
    imap_security: SmtpSecurity | None = None
    imap_username: SmtpUsername | None = None
    imap_password: SmtpPassword | None = None
    imap_folder: ImapFolder | None = None


class MailboxOut(BaseModel):
    id: int
    address: str
    name: str
    provider: str
    enabled: bool
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: str | None
    smtp_username: str | None
    # The password itself is never shown again.
    smtp_password_set: bool
    signature: str
    # Where a relay posts raw MIME for this mailbox: POST {inbound_webhook_path}. The token
    # in it is the mailbox's secret; only admins see it.
    inbound_webhook_path: str | None
    imap_host: str | None
    imap_port: int | None
    imap_security: str | None
    imap_username: str | None
    imap_password_set: bool
    imap_folder: str | None
    # The last poll: when, and its failure (None when it worked).
    imap_checked_at: datetime | None
    imap_error: str | None

    @classmethod
    def from_model(cls, m: Mailbox, *, admin: bool = True) -> MailboxOut:
        return cls(
            id=m.id,
            address=m.address,
            name=m.name,
            provider=m.provider,
            enabled=m.enabled,
            smtp_host=m.smtp_host,
            smtp_port=m.smtp_port,
            smtp_security=m.smtp_security,
            smtp_username=m.smtp_username,
            smtp_password_set=m.smtp_password_sealed is not None,
            signature=m.signature or "",
            inbound_webhook_path=f"/webhooks/email/{m.inbound_token}" if admin else None,
            imap_host=m.imap_host,
            imap_port=m.imap_port,
            imap_security=m.imap_security,
            imap_username=m.imap_username,
            imap_password_set=m.imap_password_sealed is not None,
            imap_folder=m.imap_folder,
            imap_checked_at=m.imap_checked_at,
            imap_error=m.imap_error,
        )


class SendTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Address


class SendTestOut(BaseModel):
    """The relay's own answer."""

    smtp_code: int
    smtp_message: str
