"""The built-in SMTP receiver: mail for the accounts' mailboxes, straight from the sending
server (point a domain's MX here) or from a relay, into parlour.channels.email.inbound.

It runs on the serving process's own event loop (aiosmtpd's protocol on
``loop.create_server``, not its threaded Controller), so a mail is stored by the same
database pool and hub as everything else. A recipient that is none of our mailboxes is
refused at RCPT; a mail over ``email_max_bytes`` at DATA (552); a database that does not
answer is a temporary refusal (451), so the sending server tries again later rather than
losing the mail.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from parlour.channels.email import inbound, reply_token
from parlour.channels.email.mime import MailTooLarge
from parlour.channels.email.models import Mailbox
from parlour.db.outage import DatabaseUnavailable
from parlour.errors import NotFound
from parlour.runtime import Runtime

log = logging.getLogger(__name__)

# RFC 5321 §4.5.3.1.8 asks a server to take at least 100 recipients.
MAX_RECIPIENTS = 100
TEMPORARY = "451 4.3.0 Temporary problem here; please try again later"


class _Receiver(SMTP):
    # RFC 5322 lines are at most 998 octets, but real mail (HTML from some clients) has
    # longer ones, which other servers take; refusing them would lose real mail.
    line_length_limit = 64 * 1024


class Handler:
    """aiosmtpd's hooks: RCPT checks the address, DATA stores the mail."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # The mailboxes each mail transaction's recipients reached, found at RCPT, so
        # DATA need not look them up again (an envelope lives for one mail).
        self._reached: weakref.WeakKeyDictionary[Envelope, dict[int, None]] = (
            weakref.WeakKeyDictionary()
        )

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            mailbox = await self._mailbox_of(address)
        except Exception:
            log.exception("could not look up the recipient %r", address)
            return TEMPORARY
        if mailbox is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        if not mailbox[1]:
            return f"550 5.2.1 <{address}>: this mailbox is disabled"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        self._reached.setdefault(envelope, {})[mailbox[0]] = None
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mailbox_ids = self._reached.pop(envelope, {})
        try:
            for mailbox_id in mailbox_ids:
                await inbound.receive(
                    self.rt,
                    mailbox_id=mailbox_id,
                    raw=raw,
                    via="smtp",
                    envelope_from=envelope.mail_from or None,
                    envelope_to=tuple(envelope.rcpt_tos),
                )
        except MailTooLarge:
            return "552 5.3.4 Message too big for this system"
        except inbound.NoSender:
            return "550 5.1.7 The message names no sender address"
        except NotFound:
            return "550 5.1.1 The mailbox is gone"
        except DatabaseUnavailable:
            return TEMPORARY
        except Exception:
            log.exception("an incoming mail could not be stored")
            return TEMPORARY
        return "250 2.0.0 OK: queued"

    async def _mailbox_of(self, address: str) -> tuple[int, bool] | None:
        """The mailbox an address reaches: itself, or with its plus tag (a reply token)
        set aside."""
        exact, base = address.lower(), reply_token.base_address(address)
        async with self.rt.db.lookups() as conn:
            row = (
                await conn.execute(
                    select(Mailbox.id, Mailbox.enabled)
                    .where(Mailbox.address.in_([exact, base]))
                    # The exact address first: a mailbox may itself have a plus in it.
                    .order_by((Mailbox.address == exact).desc())
                    .limit(1)
                )
            ).first()
        return (row[0], bool(row[1])) if row else None


async def start(rt: Runtime, *, host: str, port: int) -> asyncio.Server:
    """Listens on ``host``:``port`` until the returned server is closed. Several
    processes may listen on one port (SO_REUSEPORT): the kernel spreads connections."""
    loop = asyncio.get_running_loop()
    handler = Handler(rt)
    # aiosmtpd logs every command at INFO; our own log says what matters.
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    def protocol() -> Any:
        return _Receiver(
            handler,
            data_size_limit=rt.settings.email_max_bytes,
            enable_SMTPUTF8=True,
            hostname=None,
            ident="Parlour ESMTP",
            timeout=60,
            loop=loop,
        )

    return await loop.create_server(protocol, host=host, port=port, reuse_port=True)
