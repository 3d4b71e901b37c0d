"""The delivery worker: claims outbox rows, calls providers, records the outcome.

It runs inside `parlour serve` by default and as `parlour worker` when scaled out. The
provider call happens outside any transaction: a slow provider never holds a database lock.

Each claimed job is handled on its own: whatever goes wrong with one (a database error, a
bug, an event that could not be published) is logged and the rest of the batch goes on.
A write the database refused is kept and made again once it answers: an outcome the
provider already gave is recorded late rather than sent again, and a job that failed
before its provider call is handed back to be taken up within seconds, not after its lease.

A worker holds a slot (parlour.outbox.slots) for as long as it runs. When it takes one, and
every ``ADOPT_SECONDS`` after, it has the rows of dead workers' slots (its own slot's
earlier holder included: itself before a crash) reconciled at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, text

from parlour.conversations import outbound
from parlour.conversations.channel import ChecksStatus, Outgoing, RecordStatus, StatusLookup
from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.outage import describe, is_unavailable
from parlour.db.tx import Tx, transaction
from parlour.idempotency import service as idempotency_service
from parlour.outbox import service, slots
from parlour.outbox.delivery import (
    DeliveryError,
    PermanentFailure,
    ProviderReceipt,
    TransientFailure,
)
from parlour.outbox.models import OutboxItem
from parlour.outbox.service import Claimed
from parlour.realtime import service as realtime_service
from parlour.runtime import Runtime
from parlour.tasks import service as tasks_service

log = logging.getLogger(__name__)

BATCH = 20
# Jobs of different threads handled at once: provider calls are mostly waiting. One
# thread's texts go out one after another, in the order they were written.
LANES = 8
HOUSEKEEPING_SECONDS = 600.0
# How often a running worker looks for rows of workers that died and did not come back.
ADOPT_SECONDS = 10.0
# The longest wait before a write the database refused is tried again, and between
# passes while passes fail.
LONGEST_RETRY = 2.0
# How long a failed write waits for the database to answer "SELECT 1" before it is taken
# to be away.
PROBE_SECONDS = 2.0
# For providers without idempotency keys: what the provider already holds for a message.
Lookup = Callable[[], Awaitable[list[ProviderReceipt]]]
Write = Callable[[], Awaitable[None]]


class Problems:
    """One log line when a kind of failure starts and one when it ends: a database outage
    is logged twice, not once per job and poll."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def failed(self, kind: str, exc: BaseException) -> None:
        count = self._counts.get(kind, 0) + 1
        self._counts[kind] = count
        if count == 1 and (is_unavailable(exc) or isinstance(exc, OSError | TimeoutError)):
            # An outage, not a bug: parlour.db.outage logs it too, without a traceback.
            log.warning("outbox: %s failed (%s); trying again", kind, describe(exc))
        elif count == 1:
            log.error("outbox: %s failed: %s", kind, exc, exc_info=exc)

    def ok(self, kind: str) -> None:
        count = self._counts.pop(kind, 0)
        if count:
            log.warning("outbox: %s works again, after %d failures", kind, count)

    def count(self, kind: str) -> int:
        return self._counts.get(kind, 0)


@dataclass
class _Unsaved:
    """A write the database refused, kept until it answers."""

    kind: str
    write: Write
    tries: int
    due: float
    # When it was first refused.
    since: float


def _retry_delay(tries: int) -> float:
    return float(min(LONGEST_RETRY, 0.1 * 2 ** min(tries, 10)))


class OutboxWorker:
    """Delivers through the runtime's channels: ``rt.channels[message.channel]``."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # Taken by ``run``; a worker driven by ``run_once`` alone (tests) claims without one,
        # and the rows it leaves behind wait out their lease.
        self.slot: slots.Slot | None = None
        self._problems = Problems()
        # Rows this worker is handling, or holds a write for: never adopted from under it.
        self._busy: set[int] = set()
        self._unsaved: dict[int, _Unsaved] = {}
        self._next_adopt = 0.0

    @property
    def claimed_by(self) -> str | None:
        return self.slot.claimed_by if self.slot else None

    async def run(self, stop: asyncio.Event) -> None:
        next_housekeeping = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                if loop.time() >= next_housekeeping:
                    next_housekeeping = loop.time() + HOUSEKEEPING_SECONDS
                    await self._housekeeping()
                if await self._pass():
                    continue
                self.rt.outbox_wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.rt.outbox_wakeup.wait(), timeout=self._pause())
        finally:
            await self._leave()

    async def _pass(self) -> int:
        try:
            await self._keep_slot()
            handled = await self.run_once()
        except Exception as exc:
            self._problems.failed("a pass", exc)
            return 0
        self._problems.ok("a pass")
        return handled

    def _pause(self) -> float:
        pause = self.rt.settings.worker_poll_seconds
        failures = self._problems.count("a pass")
        if failures:
            pause = min(max(pause, LONGEST_RETRY), pause * 2 ** min(failures, 10))
        if self._unsaved:
            now = asyncio.get_running_loop().time()
            pause = min(pause, max(0.0, min(u.due for u in self._unsaved.values()) - now))
        return pause

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

    # --- the slot -------------------------------------------------------------------------

    async def _keep_slot(self) -> None:
        loop = asyncio.get_running_loop()
        if self.slot is None:
            self.slot = await slots.take_slot(self.rt.db)
            self._next_adopt = 0.0
            log.info("outbox worker %s started", self.slot.id)
        if loop.time() < self._next_adopt:
            return
        try:
            await self._adopt(self.slot)
        except Exception as exc:
            self._problems.failed("reconciling dead workers' rows", exc)
            self._next_adopt = loop.time() + LONGEST_RETRY
            return
        self._problems.ok("reconciling dead workers' rows")
        self._next_adopt = loop.time() + ADOPT_SECONDS

    async def _adopt(self, slot: slots.Slot) -> None:
        """Rows left "sending" under a slot whose holder is gone are due now, as
        interrupted sends: the next claim reconciles them before any resend."""
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            claimers = await service.claimers(tx)
        for other in claimers:
            async with slot.holding(other) as dead:
                if not dead:
                    continue
                keep = self._busy | set(self._unsaved)
                async with transaction(self.rt.db, self.rt.hub) as tx:
                    adopted = await service.adopt(tx, claimed_by=other, keep=keep)
                    await tx.commit()
            if adopted:
                log.warning("reconciling %d sends interrupted when %s stopped", adopted, other)
                self.rt.outbox_wakeup.set()

    async def _leave(self) -> None:
        with contextlib.suppress(Exception):
            await self._save_unsaved(everything=True)
        slot, self.slot = self.slot, None
        if slot is not None:
            with contextlib.suppress(Exception):
                await slot.release()

    # --- a pass ---------------------------------------------------------------------------

    async def run_once(self) -> int:
        """One pass: the writes kept from earlier ones, then a batch of due rows, each
        handled on its own, several threads' at once. Returns how many rows it claimed."""
        await self._save_unsaved()
        jobs = await self._claim()
        threads: dict[int, list[Claimed]] = {}
        for job in jobs:
            threads.setdefault(job.conversation_id, []).append(job)
        turns = asyncio.Semaphore(LANES)
        unreachable = False

        async def lane(queue: list[Claimed]) -> None:
            nonlocal unreachable
            for job in queue:
                async with turns:
                    self._busy.add(job.item_id)
                    try:
                        if unreachable:
                            # The database went away during this pass: the rest are handed
                            # back once it answers, rather than each waiting on it in turn.
                            write = self._hand_back_write(job, None)
                            self._keep(job, "handing a job back", write)
                            continue
                        unreachable = await self._handle(job) or unreachable
                    finally:
                        self._busy.discard(job.item_id)

        await asyncio.gather(*(lane(queue) for queue in threads.values()))
        return len(jobs)

    async def _claim(self) -> list[Claimed]:
        async with transaction(self.rt.db, self.rt.hub) as tx:
            slot = self.slot
            if slot is not None and not await slot.held(tx):
                # The database server restarted (or this session was ended): the lock is
                # gone, and rows claimed now could be taken over as a dead worker's.
                log.warning("outbox worker %s lost its slot's lock; taking one again", slot.id)
                self.slot = None
                with contextlib.suppress(Exception):
                    await slot.release()
                return []
            claimed = await service.claim(tx, limit=BATCH, claimed_by=self.claimed_by)
            # One statement a batch, whatever the channel: only emails have tasks.
            await tasks_service.running_for_messages(
                tx, message_ids=[c.message_id for c in claimed if c.kind == "send"]
            )
            await tx.commit()
        return claimed

    async def _handle(self, job: Claimed) -> bool:
        """Returns True when the database stopped answering."""
        try:
            if job.kind == "check":
                return await self._check(job)
            return await self._deliver(job)
        except Exception as exc:  # a bug in the handling itself: the batch goes on
            self._problems.failed("handling a job", exc)
            return await self._save(job, "handing a job back", self._hand_back_write(job, exc))

    async def _save(self, job: Claimed, kind: str, write: Write) -> bool:
        """Makes ``write``, or keeps it for later. Returns True when the database did not
        answer."""
        try:
            await write()
        except Exception as exc:
            self._problems.failed(kind, exc)
            self._keep(job, kind, write)
            return not await self._database_answers()
        self._problems.ok(kind)
        return False

    async def _database_answers(self) -> bool:
        """Whether a write failed because the database is away (rather than refusing that
        one write): then the rest of a batch need not wait on it in turn."""
        try:
            async with asyncio.timeout(PROBE_SECONDS), self.rt.db.lookups() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def _keep(self, job: Claimed, kind: str, write: Write) -> None:
        now = asyncio.get_running_loop().time()
        self._unsaved[job.item_id] = _Unsaved(
            kind, write, tries=1, due=now + _retry_delay(1), since=now
        )

    async def _save_unsaved(self, *, everything: bool = False) -> None:
        loop = asyncio.get_running_loop()
        for item_id, unsaved in list(self._unsaved.items()):
            if unsaved.due > loop.time() and not everything:
                continue
            try:
                await unsaved.write()
            except Exception as exc:
                self._problems.failed(unsaved.kind, exc)
                unsaved.tries += 1
                unsaved.due = loop.time() + _retry_delay(unsaved.tries)
                if not await self._database_answers():
                    for later in self._unsaved.values():
                        later.due = max(later.due, unsaved.due)
                    return
                if loop.time() - unsaved.since > service.LEASE.total_seconds():
                    # The database answers but keeps refusing this one write (a bug): the
                    # row's lease has run out meanwhile, and it is reconciled like any
                    # interrupted send.
                    log.error("outbox: gave up %s for outbox row %s", unsaved.kind, item_id)
                    del self._unsaved[item_id]
                continue
            del self._unsaved[item_id]
            self._problems.ok(unsaved.kind)

    def _hand_back_write(self, job: Claimed, exc: BaseException | None) -> Write:
        """Hands a job that failed on our side back, due again within seconds. A send stays
        "sending" with a short lease, so it is taken up as interrupted (reconciled first:
        an earlier attempt may have reached the provider)."""
        error = f"{type(exc).__name__}: {exc}"[:500] if exc else "The database went away."
        state = "awaiting" if job.kind == "check" else "sending"

        async def write() -> None:
            async with transaction(self.rt.db, self.rt.hub) as tx:
                item = await service.locked_item(tx, job, state=state)
                if item is None:
                    return
                due = utcnow() + service.retry_soon(job.attempts)
                if state == "sending":
                    item.lease_until = due
                else:
                    item.next_attempt_at = due
                item.last_error = error
                await tx.commit()

        return write

    # --- sending --------------------------------------------------------------------------

    async def _deliver(self, job: Claimed) -> bool:
        try:
            prepared = await self._outgoing(job.message_id)
            if prepared is None:
                return False
            known_id, out = prepared
            outcome = (
                out if isinstance(out, DeliveryError) else await self._send(job, known_id, out)
            )
        except Exception as exc:
            # Before the provider took anything: a provider's own errors are outcomes.
            self._problems.failed("preparing a send", exc)
            return await self._save(job, "handing a job back", self._hand_back_write(job, exc))
        self._problems.ok("preparing a send")

        async def write() -> None:
            await self._finish(job, outcome)

        return await self._save(job, "recording an outcome", write)

    async def _outgoing(
        self, message_id: int
    ) -> tuple[str | None, Outgoing | DeliveryError] | None:
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            message = await tx.session.get(Message, message_id)
            if message is None:
                return None
            known_id = message.provider_message_id
            channel = self.rt.channels.get(message.channel)
            try:
                if channel is None:
                    raise PermanentFailure(
                        f"This server does not send on '{message.channel}'.",
                        code="channel_not_configured",
                    )
                return known_id, await channel.outgoing(tx, message=message)
            except DeliveryError as exc:
                # No provider can take it (its sender deleted, its provider not set up
                # here): failed with the reason, never handed to a stand-in.
                return known_id, exc

    async def _send(
        self, job: Claimed, known_id: str | None, out: Outgoing
    ) -> ProviderReceipt | DeliveryError:
        if (job.interrupted or job.attempts > 1) and not out.idempotent:
            settled = await self._settle_earlier_attempt(
                job.message_id, known_id, out, interrupted=job.interrupted
            )
            if settled is not None:
                return settled
        try:
            return await out.send(f"msg-{job.message_id}")
        except DeliveryError as exc:
            return exc
        except Exception as exc:
            log.exception("provider crashed sending message %s", job.message_id)
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

    @staticmethod
    async def _lock(tx: Tx, job: Claimed, *, state: str) -> tuple[OutboxItem, Message] | None:
        """The job's row and message, locked, if the row is still as this worker claimed
        it: a worker whose lease ran out may come back to a row another has finished since
        (or one this worker recorded before a failed publish). The message is locked as
        delivery callbacks lock it, so one arriving meanwhile is not overwritten."""
        item = await service.locked_item(tx, job, state=state)
        if item is None:
            return None
        message = await tx.session.get(
            Message, job.message_id, with_for_update=tx.dialect == "postgresql"
        )
        return None if message is None else (item, message)

    async def _finish(self, job: Claimed, outcome: ProviderReceipt | DeliveryError) -> None:
        async with transaction(self.rt.db, self.rt.hub) as tx:
            locked = await self._lock(tx, job, state="sending")
            if locked is None:
                return
            item, message = locked
            item.lease_until = None
            if isinstance(outcome, ProviderReceipt):
                await self._delivered(tx, message, outcome)
                self._await_final_status(item, message)
            elif isinstance(outcome, TransientFailure) and job.attempts < service.MAX_ATTEMPTS:
                item.state = "pending"
                item.last_error = outcome.message[:500]
                item.next_attempt_at = utcnow() + service.backoff(job.attempts)
                await tasks_service.retrying_for_message(
                    tx, message_id=message.id, error=f"Will retry: {outcome.message}"
                )
            else:
                item.state = "dead"
                item.last_error = outcome.message[:500]
                await self._failed(tx, message, outcome)
            await tx.commit()
        result = {"pending": "retry", "dead": "failed"}.get(item.state, "sent")
        self.rt.metrics.deliveries.labels(message.channel, result).inc()
        self.rt.metrics.delivery_seconds.labels(message.channel).observe(
            time.monotonic() - job.claimed_at
        )

    def _await_final_status(self, item: OutboxItem, message: Message) -> None:
        """Sent, not yet delivered: the row waits for the delivery callback, and the
        provider is asked if none has come by ``status_check_after_seconds``."""
        after = self.rt.settings.status_check_after_seconds
        channel = self.rt.channels.get(message.channel)
        if message.status == "sent" and after > 0 and isinstance(channel, ChecksStatus):
            item.state = "awaiting"
            # From here on ``attempts`` counts the questions asked.
            item.attempts = 0
            item.next_attempt_at = utcnow() + timedelta(seconds=after)
        else:
            item.state = "done"

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

    # --- asking where a sent message is ---------------------------------------------------

    async def _check(self, job: Claimed) -> bool:
        try:
            lookup = await self._status_lookup(job.message_id)
        except Exception as exc:
            self._problems.failed("preparing a status check", exc)
            return await self._save(job, "handing a job back", self._hand_back_write(job, exc))
        self._problems.ok("preparing a status check")
        record: RecordStatus | None = None
        error: DeliveryError | None = None
        if lookup is not None:
            try:
                record = await lookup()
            except DeliveryError as exc:
                error = exc
            except Exception as exc:
                log.exception("provider crashed looking up message %s", job.message_id)
                error = TransientFailure(str(exc)[:300])

        async def write() -> None:
            await self._checked(job, record, error, asked=lookup is not None)

        return await self._save(job, "recording a status", write)

    async def _status_lookup(self, message_id: int) -> StatusLookup | None:
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            message = await tx.session.get(Message, message_id)
            if message is None or message.status not in service.UNSETTLED:
                return None
            channel = self.rt.channels.get(message.channel)
            if not isinstance(channel, ChecksStatus):
                return None
            return await channel.status_lookup(tx, message=message)

    async def _checked(
        self,
        job: Claimed,
        record: RecordStatus | None,
        error: DeliveryError | None,
        *,
        asked: bool,
    ) -> None:
        async with transaction(self.rt.db, self.rt.hub) as tx:
            locked = await self._lock(tx, job, state="awaiting")
            if locked is None:
                return
            item, message = locked
            if record is not None and message.status in service.UNSETTLED:
                # What a delivery callback would have done: status, event, opt-out.
                await record(tx, message)
            item.lease_until = None
            item.last_error = error.message[:500] if error else None
            after = self.rt.settings.status_check_after_seconds
            gap = service.next_status_check(after=after, checks=job.attempts)
            settled = message.status not in service.UNSETTLED
            if settled or not asked or after <= 0 or isinstance(error, PermanentFailure):
                item.state = "done"
            elif gap is None:
                item.state = "done"
                item.last_error = (
                    f"The provider gave no final status after {job.attempts} questions."
                )
            else:
                item.next_attempt_at = utcnow() + gap
            await tx.commit()
