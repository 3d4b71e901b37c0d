"""The delivery worker: claims outbox rows, calls providers, records the outcome.

It runs inside `parlour serve` by default and as `parlour worker` when scaled out. The
provider call happens outside any transaction: a slow provider never holds a database lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from parlour.accounts.models import Account
from parlour.channels.delivery import (
    DeliveryError,
    PermanentFailure,
    ProviderReceipt,
    TransientFailure,
)
from parlour.channels.email.models import Mailbox
from parlour.channels.email.provider import EmailAttachment, OutgoingEmail
from parlour.channels.registry import Providers
from parlour.channels.sms import connections as sms_connections
from parlour.channels.sms import inbound as sms_inbound
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.sms.provider import LooksUpSent, OutgoingSms
from parlour.channels.webchat.delivery import OutgoingChat
from parlour.conversations import service as conversations_service
from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import Tx, transaction
from parlour.files import service as files_service
from parlour.outbox import service
from parlour.outbox.models import OutboxItem
from parlour.realtime import service as realtime_service
from parlour.runtime import Runtime
from parlour.tasks import service as tasks_service

log = logging.getLogger(__name__)

BATCH = 20
HOUSEKEEPING_SECONDS = 600.0
Send = Callable[[str], Awaitable[ProviderReceipt]]
# For providers without idempotency keys: what the provider already holds for a message.
Lookup = Callable[[], Awaitable[list[ProviderReceipt]]]


class OutboxWorker:
    def __init__(self, rt: Runtime, providers: Providers) -> None:
        self.rt = rt
        self.providers = providers

    async def run(self, stop: asyncio.Event) -> None:
        next_housekeeping = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if loop.time() >= next_housekeeping:
                next_housekeeping = loop.time() + HOUSEKEEPING_SECONDS
                await self._housekeeping()
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox pass failed")
                handled = 0
            if handled:
                continue
            self.rt.outbox_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.rt.outbox_wakeup.wait(), timeout=self.rt.settings.worker_poll_seconds
                )

    async def _housekeeping(self) -> None:
        try:
            async with transaction(self.rt.db, self.rt.hub) as tx:
                pruned = await realtime_service.prune_events(tx)
                await tx.commit()
            if pruned:
                log.info("pruned %d old events", pruned)
        except Exception:
            log.exception("housekeeping failed")

    async def run_once(self) -> int:
        async with transaction(self.rt.db, self.rt.hub) as tx:
            claimed = await service.claim(tx, limit=BATCH)
            jobs = [
                (item.id, item.message_id, item.attempts, interrupted)
                for item, interrupted in claimed
            ]
            await tx.commit()
        for item_id, message_id, attempts, interrupted in jobs:
            await self._deliver(item_id, message_id, attempts, interrupted)
        return len(jobs)

    async def _deliver(
        self, item_id: int, message_id: int, attempts: int, interrupted: bool
    ) -> None:
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            message = await tx.session.get(Message, message_id)
            if message is None:
                return
            send = await self._prepare(tx, message)
            known_id = message.provider_message_id
        idempotent, call, lookup = send
        if (interrupted or attempts > 1) and not idempotent:
            # An earlier attempt may have reached the provider (a worker died mid-send, or a
            # timeout hid the answer). Sending again could text the contact twice, so first
            # ask: a status callback may have recorded it, or the provider may list it.
            try:
                receipt = await self._reconcile(message_id, known_id, lookup)
            except DeliveryError as exc:
                await self._finish(item_id, message_id, error=exc, attempts=attempts)
                return
            if receipt is not None:
                await self._finish(item_id, message_id, receipt=receipt, attempts=attempts)
                return
            if lookup is None and interrupted:
                await self._finish(
                    item_id,
                    message_id,
                    error=PermanentFailure(
                        "Sending was interrupted and the provider cannot tell whether it went "
                        "out. Check before retrying.",
                        code="delivery_unknown",
                    ),
                    attempts=attempts,
                )
                return
        try:
            receipt = await call(f"msg-{message_id}")
        except DeliveryError as exc:
            await self._finish(item_id, message_id, error=exc, attempts=attempts)
        except Exception as exc:
            log.exception("provider crashed sending message %s", message_id)
            await self._finish(
                item_id, message_id, error=TransientFailure(str(exc)[:300]), attempts=attempts
            )
        else:
            await self._finish(item_id, message_id, receipt=receipt, attempts=attempts)

    async def _reconcile(
        self, message_id: int, known_id: str | None, lookup: Lookup | None
    ) -> ProviderReceipt | None:
        if known_id:
            return ProviderReceipt(provider_message_id=known_id)
        if lookup is None:
            return None
        candidates = await lookup()
        if not candidates:
            return None
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            taken = set(
                await tx.session.scalars(
                    select(Message.provider_message_id).where(
                        Message.channel == "sms",
                        Message.id != message_id,
                        Message.provider_message_id.in_(
                            [c.provider_message_id for c in candidates]
                        ),
                    )
                )
            )
        return next((c for c in candidates if c.provider_message_id not in taken), None)

    async def _prepare(self, tx: Tx, message: Message) -> tuple[bool, Send, Lookup | None]:
        """The provider call for this message, built from plain values only."""
        if message.channel == "sms":
            number = await tx.session.get(PhoneNumber, message.phone_number_id or 0)
            provider_name = number.provider if number else "console"
            sms = self.providers.sms.get(provider_name) or self.providers.sms["console"]
            out = OutgoingSms(
                from_number=message.from_address or "",
                to=message.to_address or "",
                body=message.body,
                message_id=message.id,
                credentials=await sms_connections.credentials_for(
                    tx,
                    account_id=message.account_id,
                    provider=provider_name,
                    secret_key=self.rt.settings.secret_key,
                ),
                # When it was (re)queued: a retried message is looked up from its retry on.
                created_at=message.updated_at,
            )
            lookup = (lambda: sms.find_sent(out)) if isinstance(sms, LooksUpSent) else None
            return sms.idempotent, lambda key: sms.send(out, idempotency_key=key), lookup
        if message.channel == "email":
            mailbox = await tx.session.get(Mailbox, message.mailbox_id or 0)
            account = await tx.session.get(Account, message.account_id)
            email = (
                self.providers.email.get(mailbox.provider if mailbox else "console")
                or (self.providers.email["console"])
            )
            domain = (message.from_address or "parlour.invalid").split("@")[-1]
            out_email = OutgoingEmail(
                from_address=message.from_address or "",
                from_name=(mailbox.name if mailbox else "") or (account.name if account else ""),
                to=message.to_address or "",
                subject=message.subject or "",
                text=message.body,
                html=message.html,
                message_id_header=f"<parlour-{message.id}@{domain}>",
                attachments=tuple(
                    [
                        EmailAttachment(
                            filename=att.filename,
                            content_type=att.content_type,
                            data=(
                                await files_service.load(
                                    tx, account_id=message.account_id, blob_id=att.blob_id
                                )
                            ).data,
                        )
                        for att in message.attachments
                        if att.blob_id is not None
                    ]
                ),
            )
            return (
                email.idempotent,
                lambda key: email.send(out_email, idempotency_key=key),
                None,
            )
        chat = OutgoingChat(
            widget_id=message.widget_id or 0, message_id=message.id, body=message.body
        )
        webchat = self.providers.webchat
        return webchat.idempotent, lambda key: webchat.send(chat, idempotency_key=key), None

    async def _finish(
        self,
        item_id: int,
        message_id: int,
        *,
        attempts: int,
        receipt: ProviderReceipt | None = None,
        error: DeliveryError | None = None,
    ) -> None:
        async with transaction(self.rt.db, self.rt.hub) as tx:
            item = await tx.session.get(OutboxItem, item_id)
            # Locked, as delivery callbacks lock it: one arriving meanwhile is not overwritten.
            message = await tx.session.get(
                Message, message_id, with_for_update=tx.dialect == "postgresql"
            )
            if item is None or message is None:
                return
            if receipt is not None:
                item.state = "done"
                item.lease_until = None
                if message.status in ("queued", "sending"):
                    await conversations_service.set_status(
                        tx,
                        message=message,
                        status=receipt.status,
                        provider_message_id=receipt.provider_message_id,
                    )
                elif not message.provider_message_id:
                    # A delivery callback got here first and already moved the status on.
                    message.provider_message_id = receipt.provider_message_id
                await tasks_service.finish_for_message(tx, message_id=message.id, error=None)
            elif isinstance(error, TransientFailure) and attempts < service.MAX_ATTEMPTS:
                item.state = "pending"
                item.lease_until = None
                item.last_error = error.message[:500]
                item.next_attempt_at = utcnow() + service.backoff(attempts)
            else:
                assert error is not None
                item.state = "dead"
                item.lease_until = None
                item.last_error = error.message[:500]
                await conversations_service.set_status(
                    tx,
                    message=message,
                    status="failed",
                    error_code=error.code,
                    error_message=error.message[:500],
                )
                await tasks_service.finish_for_message(
                    tx, message_id=message.id, error=error.message[:500]
                )
                if message.channel == "sms":
                    await sms_inbound.record_provider_opt_out(tx, message=message, code=error.code)
            await tx.commit()


async def pending_count(rt: Runtime) -> int:
    async with transaction(rt.db, rt.hub, write=False) as tx:
        rows = await tx.session.scalars(select(OutboxItem.id).where(OutboxItem.state != "done"))
        return len(list(rows))
