"""The SMTP provider: hands each email to its mailbox's relay with aiosmtplib.

SMTP has no idempotency key and no way to ask a relay what it already took, so this
provider is not idempotent and offers no lookup: a send interrupted mid-way is failed as
``delivery_unknown`` by the outbox worker rather than sent again blindly. For the same
reason a connection lost while the relay was answering the message's data is
``delivery_unknown`` too: the relay may have taken it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr

import aiosmtplib

from parlour.channels.email.provider import OutgoingEmail, SmtpRelay
from parlour.conversations.html import html_to_text
from parlour.outbox.delivery import (
    DeliveryError,
    PermanentFailure,
    ProviderReceipt,
    TransientFailure,
)

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpReply:
    """The relay's own answer to the message's data."""

    code: int
    message: str


def build_message(msg: OutgoingEmail) -> EmailMessage:
    """The MIME message: text/plain first, the HTML as its alternative, then attachments."""
    mime = EmailMessage(policy=SMTP_POLICY)
    mime["From"] = formataddr((msg.from_name, msg.from_address))
    mime["To"] = msg.to
    if msg.cc:
        mime["Cc"] = ", ".join(msg.cc)
    mime["Subject"] = msg.subject
    mime["Date"] = format_datetime(msg.date or datetime.now(UTC))
    mime["Message-ID"] = msg.message_id_header
    if msg.reply_to:
        mime["Reply-To"] = formataddr((msg.from_name, msg.reply_to))
    if msg.in_reply_to:
        mime["In-Reply-To"] = msg.in_reply_to
    if msg.references:
        mime["References"] = " ".join(msg.references)
    if msg.automatic:
        mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(msg.text or html_to_text(msg.html or ""))
    if msg.html:
        mime.add_alternative(msg.html, subtype="html")
    for att in msg.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        mime.add_attachment(
            att.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=att.filename or "attachment",
        )
    return mime


def failure(exc: Exception, *, data_sent: bool = False) -> DeliveryError:
    """What a relay's refusal or a network error means for the message: 4xx and network
    trouble are worth retrying, 5xx never succeeds as it is."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"The mail server answered {exc.code} {exc.message}".strip()[:500]
        if 400 <= exc.code < 500:
            return TransientFailure(text, code="smtp_temporary")
        return PermanentFailure(text, code="smtp_rejected")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentFailure(
            f"The mail server's TLS certificate was not accepted: {exc.verify_message}.",
            code="smtp_tls_failed",
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentFailure(f"The mail server cannot do this: {exc}", code="smtp_not_supported")
    if data_sent:
        return PermanentFailure(
            f"The connection to the mail server broke while it was taking the message ({exc}); "
            "it may have been sent. Check before retrying.",
            code="delivery_unknown",
        )
    return TransientFailure(f"The mail server could not be reached: {exc}", code="smtp_unreachable")


class SmtpEmail:
    idempotent = False

    def __init__(
        self, *, timeout: float = TIMEOUT_SECONDS, tls_context: ssl.SSLContext | None = None
    ) -> None:
        # ``tls_context``: whom to trust (tests trust their own throwaway certificate);
        # by default the system's certificate authorities.
        self.timeout = timeout
        self.tls_context = tls_context

    async def send(self, msg: OutgoingEmail, *, idempotency_key: str) -> ProviderReceipt:
        if msg.relay is None:
            raise PermanentFailure(
                "This mailbox has no outgoing mail server.", code="smtp_not_configured"
            )
        await self.submit(msg.relay, msg)
        # The relay took it; no delivery report follows.
        return ProviderReceipt(provider_message_id=msg.message_id_header, status="sent")

    async def submit(self, relay: SmtpRelay, msg: OutgoingEmail) -> SmtpReply:
        """Hands ``msg`` to ``relay``. Raises TransientFailure or PermanentFailure."""
        data = build_message(msg).as_bytes()
        client = aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            use_tls=relay.security == "tls",
            start_tls=relay.security == "starttls",
            tls_context=self.tls_context,
            timeout=self.timeout,
        )
        data_sent = False
        try:
            async with client:
                if relay.username:
                    await client.login(relay.username, relay.password or "")
                await client.mail(msg.from_address)
                # A refused Cc or Bcc fails the whole send: a partial delivery would be
                # marked sent while someone the agent chose never got it.
                for recipient in dict.fromkeys((msg.to, *msg.cc, *msg.bcc)):
                    await client.rcpt(recipient)
                data_sent = True
                answer = await client.data(data)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise failure(exc, data_sent=data_sent) from exc
        return SmtpReply(code=answer.code, message=answer.message)
