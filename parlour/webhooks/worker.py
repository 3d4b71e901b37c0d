"""The webhook worker: queues the event log's new events for the endpoints that want them,
then sends due deliveries, signed the Standard Webhooks way, and records every attempt.

It runs inside `parlour serve` (beside the outbox worker) and in `parlour worker`. Each
pass: one ``run_pass`` of the event-log consumer "webhooks" (queuing is exactly-once: a
delivery row is written in the transaction that moves the cursor), one transaction that
claims a batch of due deliveries with a lease, then the HTTP requests, outside any
transaction, each followed by a short transaction recording what came of it.

A worker that dies mid-request leaves its rows "delivering" until their lease runs out;
then they are sent again with the same ``webhook-id``, which receivers dedupe on. The same
happens when recording an outcome fails (the database went away): the attempt is lost
from the history, the event is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from parlour import __version__
from parlour.channels.crypto import CannotDecrypt, unseal
from parlour.db.base import utcnow
from parlour.db.outage import is_unavailable
from parlour.db.tx import Tx, transaction
from parlour.errors import ParlourError
from parlour.realtime.consumers import StoredEvent, run_pass
from parlour.runtime import Runtime
from parlour.webhooks import service, ssrf
from parlour.webhooks.service import EXCERPT, Claimed, Outcome

log = logging.getLogger(__name__)

CONSUMER = "webhooks"
BATCH = 50
# Requests in flight at once: they are mostly waiting on receivers.
LANES = 8
TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.5
BUSY_GAP = 0.2
PRUNE_SECONDS = 600.0
# How long a pass under way may go on once the process is told to stop.
STOP_GRACE_SECONDS = 2.0
# The most of a response body read, for the attempt's excerpt.
READ_BYTES = 4 * EXCERPT
USER_AGENT = f"Parlour-Webhooks/{__version__}"

Clock = Callable[[], datetime]


class WebhookWorker:
    """``clock``: what "now" is for due times and the retry schedule (tests move it on
    rather than wait); the signature's timestamp is always the real time, since receivers
    refuse one more than five minutes off theirs."""

    def __init__(
        self,
        rt: Runtime,
        *,
        clock: Clock = utcnow,
        timeout: float = TIMEOUT_SECONDS,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.rt = rt
        # The certificates trusted for https receivers (the system's by default).
        self.verify = verify
        self.clock = clock
        self.timeout = timeout
        self._failing = 0

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_prune = 0.0
        while not stop.is_set():
            if loop.time() >= next_prune:
                next_prune = loop.time() + PRUNE_SECONDS
                await self._prune()
            try:
                busy = await self._pass(stop)
            except asyncio.CancelledError:
                if stop.is_set():
                    break
                raise
            except Exception as exc:
                self._failed(exc)
                busy = 0
            else:
                if self._failing:
                    log.warning("webhooks: passes work again, after %d failures", self._failing)
                self._failing = 0
            # Busy or not, passes are a little apart: what comes meanwhile is queued in one
            # transaction rather than one each (SQLite's writers share one lock).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=BUSY_GAP if busy else self._pause())

    async def _pass(self, stop: asyncio.Event) -> int:
        """A pass, cut short if the process stops meanwhile: a receiver taking its time
        must not hold up shutdown. What it was sending stays "delivering" and is sent
        again after its lease (with the same webhook-id)."""
        task = asyncio.ensure_future(self.run_once())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
        finally:
            stopping.cancel()
            if not task.done():
                task.cancel()
        return await task

    async def _prune(self) -> None:
        try:
            async with transaction(self.rt.db, self.rt.hub) as tx:
                pruned = await service.prune(tx, before=self.clock() - service.KEEP_FINISHED)
                await tx.commit()
        except Exception as exc:
            self._failed(exc)
            return
        if pruned:
            log.info("webhooks: pruned %d old deliveries", pruned)

    def _failed(self, exc: Exception) -> None:
        # One log line when passes start failing (a database outage), not one a poll.
        self._failing += 1
        if self._failing == 1:
            # An outage is parlour.db.outage's to report (once); a bug gets its traceback.
            trace = None if is_unavailable(exc) else exc
            log.warning("webhooks: a pass failed (%s); trying again", exc, exc_info=trace)

    def _pause(self) -> float:
        if self._failing:
            return float(min(10.0, POLL_SECONDS * 2 ** min(self._failing, 5)))
        return POLL_SECONDS

    async def run_once(self, *, now: datetime | None = None) -> int:
        """One pass: new events queued, then a batch of deliveries due at ``now`` (the
        clock's time if not given) sent. Returns how many deliveries were sent."""
        await run_pass(self.rt.db, self.rt.hub, CONSUMER, self._queue)
        due_at = now or self.clock()
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            if not await service.any_due(tx, now=due_at):
                return 0
        async with transaction(self.rt.db, self.rt.hub) as tx:
            jobs = await service.claim(tx, now=due_at, limit=BATCH)
            await tx.commit()
        if not jobs:
            return 0
        turns = asyncio.Semaphore(LANES)
        # Never from the environment: a proxy would make the request, not to the address
        # the SSRF check approved.
        # No connection kept for another request: one made for a name checked (and, for
        # https, a certificate verified) for one endpoint must not carry another's.
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
            verify=self.verify,
        ) as client:

            async def one(job: Claimed) -> None:
                async with turns:
                    await self._deliver(client, job, now)

            await asyncio.gather(*(one(job) for job in jobs))
        return len(jobs)

    @staticmethod
    async def _queue(tx: Tx, events: list[StoredEvent]) -> None:
        await service.queue_events(tx, events)

    async def _deliver(self, client: httpx.AsyncClient, job: Claimed, now: datetime | None) -> None:
        try:
            outcome = await self._attempt(client, job)
        except Exception as exc:  # a bug here must not stop the batch
            log.exception("webhooks: delivery %s crashed", job.delivery_id)
            outcome = Outcome(utcnow(), None, 0, None, f"Internal error: {type(exc).__name__}")
        try:
            async with transaction(self.rt.db, self.rt.hub) as tx:
                status = await service.record_attempt(
                    tx, job=job, outcome=outcome, now=now or self.clock()
                )
                await tx.commit()
        except Exception as exc:
            # The row stays "delivering" and is sent again after its lease.
            self._failed(exc)
            return
        if status == "failed":
            log.info("webhooks: delivery %s failed every attempt", job.delivery_id)

    async def _attempt(self, client: httpx.AsyncClient, job: Claimed) -> Outcome:
        at = utcnow()
        started = time.monotonic()

        def outcome(
            status_code: int | None = None, response: str | None = None, error: str | None = None
        ) -> Outcome:
            latency = int((time.monotonic() - started) * 1000)
            return Outcome(at, status_code, latency, response, error)

        try:
            secret = unseal(self.rt.settings.secret_key, job.secret_sealed)["secret"]
        except CannotDecrypt:
            return outcome(error="The signing secret cannot be read (PARLOUR_SECRET_KEY changed).")
        try:
            # Again now, not only when saved: what the name resolves to may have changed.
            target = await ssrf.check(
                job.url, allow_private=self.rt.settings.webhooks_allow_private
            )
        except ParlourError as exc:
            return outcome(error=f"Refused: {exc.message}")
        body = json.dumps(job.payload, separators=(",", ":"), ensure_ascii=False)
        timestamp = datetime.now(UTC)
        headers = {
            "host": target.host_header,
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": job.msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(job.msg_id, timestamp, body),
        }
        # Connects to the checked address; TLS still verifies the name in the URL.
        extensions = {"sni_hostname": target.url.host} if target.url.scheme == "https" else {}
        try:
            # The whole exchange, not each read: a receiver dripping bytes is cut off too.
            async with asyncio.timeout(self.timeout + 1):
                response, excerpt = await _post(
                    client, target, content=body.encode(), headers=headers, extensions=extensions
                )
        except (TimeoutError, httpx.TimeoutException):
            return outcome(error=f"No answer within {self.timeout:g} s.")
        except httpx.HTTPError as exc:
            return outcome(error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        error = None
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
            if response.is_redirect:
                error += " (redirects are not followed)"
        return outcome(status_code=response.status_code, response=excerpt, error=error)


async def _post(
    client: httpx.AsyncClient,
    target: ssrf.Target,
    *,
    content: bytes,
    headers: dict[str, str],
    extensions: dict[str, str],
) -> tuple[httpx.Response, str]:
    """POSTs to the target's checked addresses in turn until one takes the connection
    ("localhost" may resolve to ::1 first while the receiver listens on 127.0.0.1)."""
    for n, address in enumerate(target.addresses):
        request = client.build_request(
            "POST",
            target.pinned_url(address),
            content=content,
            headers=headers,
            extensions=extensions,
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.ConnectError:
            if n == len(target.addresses) - 1:
                raise
            continue
        try:
            return response, await _read_some(response)
        finally:
            await response.aclose()
    raise AssertionError("a checked target has at least one address")


async def _read_some(response: httpx.Response) -> str:
    taken = b""
    async for chunk in response.aiter_bytes():
        taken += chunk
        if len(taken) >= READ_BYTES:
            break
    return taken.decode("utf-8", errors="replace")[:EXCERPT]
