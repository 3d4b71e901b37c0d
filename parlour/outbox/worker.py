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

from parlour.conversations import outbound
from parlour.conversations.channel import Outgoing
from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import Tx, transaction
from parlour.idempotency import service as idempotency_service
from parlour.outbox import service
from parlour.outbox.delivery import (
    DeliveryError,
    PermanentFailure,
    ProviderReceipt,
    TransientFailure,
)
from parlour.outbox.models import OutboxItem
from parlour.realtime import service as realtime_service
from parlour.runtime import Runtime
from parlour.tasks import service as tasks_service

log = logging.getLogger(__name__)

BATCH = 20
HOUSEKEEPING_SECONDS = 600.0
# For providers without idempotency keys: what the provider already holds for a message.
Lookup = Callable[[], Awaitable[list[ProviderReceipt]]]


class OutboxWorker:
    """Delivers through the runtime's channels: ``rt.channels[message.channel]``."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

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
                await idempotency_service.prune_keys(tx)
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
            known_id = message.provider_message_id
            channel = self.rt.channels.get(message.channel)
            out: Outgoing | DeliveryError
            try:
                if channel is None:
                    raise PermanentFailure(
                        f"This server does not send on '{message.channel}'.",
                        code="channel_not_configured",
                    )
                out = await channel.outgoing(tx, message=message)
            except DeliveryError as exc:
                # No provider can take it (its sender deleted, its provider not set up
                # here): failed with the reason, never handed to a stand-in.
                out = exc
        outcome = (
            out
            if isinstance(out, DeliveryError)
            else await self._send(
                message_id, known_id, out, attempts=attempts, interrupted=interrupted
            )
        )
        await self._finish(item_id, message_id, outcome, attempts=attempts)

    async def _send(
        self,
        message_id: int,
        known_id: str | None,
        out: Outgoing,
        *,
        attempts: int,
        interrupted: bool,
    ) -> ProviderReceipt | DeliveryError:
        if (interrupted or attempts > 1) and not out.idempotent:
            settled = await self._settle_earlier_attempt(
                message_id, known_id, out, interrupted=interrupted
            )
            if settled is not None:
                return settled
        try:
            return await out.send(f"msg-{message_id}")
        except DeliveryError as exc:
            return exc
        except Exception as exc:
            log.exception("provider crashed sending message %s", message_id)
            return TransientFailure(str(exc)[:300])

    async def _settle_earlier_attempt(
        self, message_id: int, known_id: str | None, out: Outgoing, *, interrupted: bool
    ) -> ProviderReceipt | DeliveryError | None:
        """An earlier attempt may have reached the provider (a worker died mid-send, or a
        timeout hid the answer), and sending again could text the contact twice. So first
        ask: a status callback may have recorded it, or the provider may list it. Returns
        how to finish the row, or None to send."""
        try:
            receipt = await self._reconcile(message_id, known_id, out.lookup)
        except DeliveryError as exc:
            return exc
        if receipt is not None:
            return receipt
        if out.lookup is None and interrupted:
            return PermanentFailure(
                "Sending was interrupted and the provider cannot tell whether it went out. "
                "Check before retrying.",
                code="delivery_unknown",
            )
        return None

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
            channel = await tx.session.scalar(
                select(Message.channel).where(Message.id == message_id)
            )
            taken = set(
                await tx.session.scalars(
                    select(Message.provider_message_id).where(
                        Message.channel == channel,
                        Message.id != message_id,
                        Message.provider_message_id.in_(
                            [c.provider_message_id for c in candidates]
                        ),
                    )
                )
            )
        return next((c for c in candidates if c.provider_message_id not in taken), None)

    async def _finish(
        self,
        item_id: int,
        message_id: int,
        outcome: ProviderReceipt | DeliveryError,
        *,
        attempts: int,
    ) -> None:
        async with transaction(self.rt.db, self.rt.hub) as tx:
            item = await tx.session.get(OutboxItem, item_id)
            # Locked, as delivery callbacks lock it: one arriving meanwhile is not overwritten.
            message = await tx.session.get(
                Message, message_id, with_for_update=tx.dialect == "postgresql"
            )
            if item is None or message is None:
                return
            item.lease_until = None
            if isinstance(outcome, ProviderReceipt):
                item.state = "done"
                await self._delivered(tx, message, outcome)
            elif isinstance(outcome, TransientFailure) and attempts < service.MAX_ATTEMPTS:
                item.state = "pending"
                item.last_error = outcome.message[:500]
                item.next_attempt_at = utcnow() + service.backoff(attempts)
            else:
                item.state = "dead"
                item.last_error = outcome.message[:500]
                await self._failed(tx, message, outcome)
            await tx.commit()

    async def _delivered(self, tx: Tx, message: Message, receipt: ProviderReceipt) -> None:
        if message.status in ("queued", "sending"):
            await outbound.set_status(
                tx,
                message=message,
                status=receipt.status,
                names=self.rt.channels.endpoint_names(message.channel),
                provider_message_id=receipt.provider_message_id,
            )
        elif not message.provider_message_id:
            # A delivery callback got here first and already moved the status on.
            message.provider_message_id = receipt.provider_message_id
        await tasks_service.finish_for_message(tx, message_id=message.id, error=None)

    async def _failed(self, tx: Tx, message: Message, error: DeliveryError) -> None:
        await outbound.set_status(
            tx,
            message=message,
            status="failed",
            names=self.rt.channels.endpoint_names(message.channel),
            error_code=error.code,
            error_message=error.message[:500],
        )
        await tasks_service.finish_for_message(tx, message_id=message.id, error=error.message[:500])
        channel = self.rt.channels.get(message.channel)
        if channel is not None:
            await channel.failed(tx, message=message, error_code=error.code)
