"""The workflow engine: runs inside `parlour serve` (beside the outbox worker) and in
`parlour worker`. Each pass:

1. reads the event log after the workflows' cursor and starts runs
   (parlour.workflows.triggers), stepping those due at once in that same transaction;
2. fires the schedules that are due, once per firing;
3. claims the runs that are due and steps them in chunks, one transaction per chunk; a
   step that fails is undone alone (``_step_runs``).

A run's step index, its timer (``due_at``) and what it waits for are columns of its row,
written in the transaction that does the step. So a process killed at any moment leaves
each step either done and recorded or not done at all: after a restart the run goes on
from the step it had not finished, and a timer that fell due meanwhile fires at once.
Claims are leases (``lease_until``); on PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps
several workers off the same rows, as the outbox does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cronsim import CronSim, CronSimError
from sqlalchemy import or_, select

from parlour.accounts import hours
from parlour.accounts.models import Account
from parlour.conversations.models import Conversation
from parlour.db.base import utcnow
from parlour.db.outage import is_unavailable
from parlour.db.tx import Tx, transaction
from parlour.realtime import consumers
from parlour.runtime import Runtime
from parlour.workflows import conditions, steps, triggers
from parlour.workflows.models import Workflow, WorkflowRun, new_run

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
# Even with work waiting, passes are this far apart: what arrives meanwhile is taken in one
# transaction, rather than in one each (on SQLite the engine's writes queue with the
# requests' for the one write lock).
BUSY_GAP_SECONDS = 0.2
BATCH = 100
# Runs stepped in one transaction, and chunks of them stepped at once (of different
# threads; one thread's runs go one after another). Few commits for many steps: SQLite has
# one writer at a time, and a commit on PostgreSQL numbers the events under a lock.
CHUNK = 20
LANES = 4
# How long a claim holds. A pass steps its runs in well under a second, so a run its worker
# died holding waits at most this long after a restart. A worker whose claim lapsed (a
# stall longer than this) finds its token replaced and leaves the run to the new claimer,
# so a short lease costs at most some work done twice over, never a step done twice.
LEASE = timedelta(seconds=5)
# Runs that failed one after another before their workflow is paused.
FAILURES_TO_PAUSE = 5
# A step that hit something unexpected (not a reason to fail, e.g. the database away)
# is tried again this many times, further apart each time.
MAX_ATTEMPTS = 5
# A schedule's firing starts at most this many runs (one per open conversation).
SCHEDULE_LIMIT = 1000


class WorkflowEngine:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # Written into the runs this engine claims; a step is done only under its own claim.
        self.token = uuid.uuid4().hex
        # Whether the last pass left due runs unclaimed (it claimed a full batch).
        self.backlog = False

    async def run(self, stop: asyncio.Event) -> None:
        failing = False
        while not stop.is_set():
            try:
                busy = await self.run_once()
                if failing:
                    log.warning("workflows: the engine works again")
                failing = False
            except Exception as exc:
                busy = 0
                if not failing:
                    # An outage is parlour.db.outage's to report (once); a bug gets its
                    # traceback.
                    trace = None if is_unavailable(exc) else exc
                    log.warning("workflows: a pass failed (%s); trying again", exc, exc_info=trace)
                failing = True
            if self.backlog:
                await asyncio.sleep(0)  # more runs are due: on at once, after a turn
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                gap = BUSY_GAP_SECONDS if busy else POLL_SECONDS
                await asyncio.wait_for(stop.wait(), timeout=gap)

    async def run_once(self, *, now: datetime | None = None) -> int:
        """One pass; returns how much it did (events read, runs started and stepped)."""
        done = await consumers.run_pass(self.rt.db, self.rt.hub, triggers.CONSUMER, self._handle)
        done += await self._fire_schedules(now or utcnow())
        claimed = await self._claim(now or utcnow())
        self.backlog = len(claimed) >= BATCH
        # A thread's runs stay together, in order; threads are packed into chunks, each
        # chunk's steps done in one transaction (_step_runs), several chunks at once.
        threads: dict[int | None, list[int]] = {}
        for run_id, conversation_id in claimed:
            threads.setdefault(conversation_id, []).append(run_id)
        chunks: list[list[int]] = [[]]
        for run_ids in threads.values():
            if len(chunks[-1]) >= CHUNK:
                chunks.append([])
            chunks[-1].extend(run_ids)
        turns = asyncio.Semaphore(LANES)

        async def lane(run_ids: list[int]) -> None:
            async with turns:
                await self._advance(run_ids)

        await asyncio.gather(*(lane(ids) for ids in chunks if ids))
        return done + len(claimed)

    async def _handle(self, tx: Tx, events: list[consumers.StoredEvent]) -> None:
        """Starts the events' runs, and steps those due at once right here: in the
        transaction that moves the cursor, so starting and first steps commit together
        (one commit where a claim and a step would take two more)."""
        started = await triggers.handle(tx, events)
        if not started:
            return
        lease = utcnow() + LEASE
        for run, _ in started:
            run.status, run.claimed_by, run.lease_until = "running", self.token, lease
        await tx.session.flush()  # the batch's runs in one INSERT
        await self._step_runs(tx, started)
        self.rt.outbox_wakeup.set()

    # --- Schedules ----------------------------------------------------------------------

    async def _fire_schedules(self, now: datetime) -> int:
        due_now = (
            Workflow.enabled.is_(True),
            Workflow.next_fire_at.is_not(None),
            Workflow.next_fire_at <= now,
        )
        # Looked for first in a read: an idle pass takes no write turn (SQLite's writers
        # queue for one).
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            if await tx.session.scalar(select(Workflow.id).where(*due_now).limit(1)) is None:
                return 0
        async with transaction(self.rt.db, self.rt.hub) as tx:
            stmt = select(Workflow).where(*due_now)
            if tx.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            due = list(await tx.session.scalars(stmt))
            started = 0
            for workflow in due:
                assert workflow.next_fire_at is not None
                started += await self._fire(tx, workflow, workflow.next_fire_at)
                # After a restart that spanned several firings, it fires once, now.
                workflow.next_fire_at = await next_fire(tx, workflow, after=now)
            await tx.commit()
        return started

    async def _fire(self, tx: Tx, workflow: Workflow, at: datetime) -> int:
        convs = await tx.session.execute(
            select(Conversation.id, Conversation.contact_id)
            .where(
                Conversation.account_id == workflow.account_id,
                Conversation.status == "open",
                Conversation.last_message_at.is_not(None),
            )
            .order_by(Conversation.id)
            .limit(SCHEDULE_LIMIT)
        )
        started = 0
        for conversation_id, contact_id in convs:
            context: dict[str, Any] = {"trigger": "schedule", "fired_at": at.isoformat()}
            if not await conditions.hold(
                tx,
                workflow,
                conversation_id=conversation_id,
                contact_id=contact_id,
                context=context,
            ):
                continue
            tx.session.add(
                new_run(
                    workflow,
                    conversation_id=conversation_id,
                    contact_id=contact_id,
                    cause=f"schedule:{at.isoformat()}:{conversation_id}",
                    step=0,
                    due_at=utcnow(),
                    context=context,
                )
            )
            started += 1
        await tx.session.flush()
        return started

    # --- Runs ---------------------------------------------------------------------------

    async def _claim(self, now: datetime) -> list[tuple[int, int | None]]:
        due = or_(
            (WorkflowRun.status == "waiting") & (WorkflowRun.due_at <= now),
            # Running past its lease: its worker died mid-step.
            (WorkflowRun.status == "running") & (WorkflowRun.lease_until < now),
        )
        async with transaction(self.rt.db, self.rt.hub, write=False) as tx:
            if await tx.session.scalar(select(WorkflowRun.id).where(due).limit(1)) is None:
                return []
        async with transaction(self.rt.db, self.rt.hub) as tx:
            stmt = (
                select(WorkflowRun)
                .where(due)
                .order_by(WorkflowRun.due_at, WorkflowRun.id)
                .limit(BATCH)
            )
            if tx.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            runs = list(await tx.session.scalars(stmt))
            for run in runs:
                run.status = "running"
                run.lease_until = utcnow() + LEASE
                run.claimed_by = self.token
            await tx.commit()
        return [(r.id, r.conversation_id) for r in runs]

    async def _advance(self, run_ids: list[int]) -> None:
        """Steps the runs until each waits or ends, in one transaction."""
        try:
            async with transaction(self.rt.db, self.rt.hub) as tx:
                stmt = select(WorkflowRun).where(WorkflowRun.id.in_(run_ids))
                if tx.dialect == "postgresql":
                    stmt = stmt.with_for_update()
                runs = {run.id: run for run in await tx.session.scalars(stmt)}
                wanted = {run.workflow_id for run in runs.values()}
                workflows = {
                    w.id: w
                    for w in await tx.session.scalars(
                        select(Workflow).where(Workflow.id.in_(wanted))
                    )
                }
                mine = [
                    (run, workflows.get(run.workflow_id))
                    for run in map(runs.get, run_ids)  # in the order claimed: a thread's in turn
                    if run is not None and self._holds_claim(run)
                ]
                await self._step_runs(tx, mine)
                await tx.commit()
        except Exception as exc:
            # The transaction as a whole failed (the database went away): its runs are
            # taken up again when their lease runs out.
            log.warning("workflows: %d runs' steps not recorded: %s", len(run_ids), exc)
            return
        self.rt.outbox_wakeup.set()

    def _holds_claim(self, run: WorkflowRun) -> bool:
        # Not ended, nor claimed again by another worker after this one stalled.
        return run.status == "running" and run.claimed_by == self.token

    async def _step_runs(self, tx: Tx, runs: Sequence[tuple[WorkflowRun, Workflow | None]]) -> None:
        """Steps each run until it waits or ends. All in one savepoint first, since steps
        rarely fail: statements for many runs then go out together (a savepoint and a
        round of flushing each would double the engine's cost per run). If any step fails,
        that savepoint is undone and the runs go again one step per savepoint, so a
        failure undoes only its own step."""
        ids = [run.id for run, _ in runs]
        with contextlib.suppress(Exception):
            async with tx.savepoint():
                held = await steps.prefetch(tx, runs)
                for run, workflow in runs:
                    while await self._step(tx, run, workflow):
                        pass
                del held
            return
        for run_id in ids:
            while True:
                try:
                    async with tx.savepoint():
                        loaded = await self._load(tx, run_id)
                        more = loaded is not None and await self._step(tx, *loaded)
                except Exception as exc:
                    log.warning("workflows: run %s: a step failed unexpectedly: %s", run_id, exc)
                    await self._trouble(tx, run_id, exc)
                    break
                if not more:
                    break

    async def _load(self, tx: Tx, run_id: int) -> tuple[WorkflowRun, Workflow | None] | None:
        stmt = select(WorkflowRun).where(WorkflowRun.id == run_id)
        if tx.dialect == "postgresql":
            stmt = stmt.with_for_update()
        run = await tx.session.scalar(stmt)
        if run is None or not self._holds_claim(run):
            return None
        return run, await tx.session.get(Workflow, run.workflow_id)

    async def _step(self, tx: Tx, run: WorkflowRun, workflow: Workflow | None) -> bool:
        """Does the run's next step; True if another follows at once."""
        now = utcnow()
        if workflow is None or not workflow.enabled:
            _finish(run, "cancelled", note="The workflow was turned off.")
            return False
        if run.step == -1:
            # A "no reply within" timer fired: whether it still holds was settled by the
            # messages since (triggers._settle_timers); the conditions are read now.
            if not await conditions.hold(
                tx,
                workflow,
                conversation_id=run.conversation_id,
                contact_id=run.contact_id,
                context=run.context,
            ):
                _finish(run, "cancelled", note="The conditions did not hold when it was due.")
                return False
            run.step = 0
        if run.step >= len(workflow.steps):
            _complete(run, workflow)
            return False
        step = workflow.steps[run.step]
        try:
            done = await steps.do(
                tx, channels=self.rt.channels, workflow=workflow, run=run, step=step
            )
        except steps.StepFailed as exc:
            _finish(run, "failed", note=str(exc), error=str(exc))
            _failed(workflow, str(exc))
            return False
        run.log = [*run.log, {"at": now.isoformat(), "step": run.step, "note": done.note}]
        run.step += 1
        run.attempts = 0
        run.updated_at = now
        if done.wait_minutes is not None:
            run.status = "waiting"
            run.due_at = now + timedelta(minutes=done.wait_minutes)
            run.waiting_for = done.waiting_for
            run.lease_until = None
            return False
        if run.step >= len(workflow.steps):
            _complete(run, workflow)
            return False
        return True

    async def _trouble(self, tx: Tx, run_id: int, exc: Exception) -> None:
        """An unexpected failure (its step undone): tried again later, further apart each
        time, and failed after MAX_ATTEMPTS."""
        run = await tx.session.get(WorkflowRun, run_id)
        if run is None or not self._holds_claim(run):
            return
        run.attempts += 1
        if run.attempts >= MAX_ATTEMPTS:
            reason = f"Step {run.step + 1} kept failing: {exc}"[:500]
            _finish(run, "failed", note=reason, error=reason)
            workflow = await tx.session.get(Workflow, run.workflow_id)
            if workflow is not None:
                _failed(workflow, reason)
        else:
            run.status = "waiting"
            run.due_at = utcnow() + timedelta(seconds=2**run.attempts)
            run.lease_until = None
            run.claimed_by = None


def _finish(
    run: WorkflowRun, status: str, *, note: str | None = None, error: str | None = None
) -> None:
    now = utcnow()
    run.status = status
    run.finished_at = now
    run.updated_at = now
    run.lease_until = None
    run.waiting_for = None
    run.error = error[:500] if error else None
    if note:
        run.log = [*run.log, {"at": now.isoformat(), "step": run.step, "note": note}]


def _complete(run: WorkflowRun, workflow: Workflow) -> None:
    _finish(run, "completed")
    workflow.failures = 0  # "failed runs in a row" counts from here again


def _failed(workflow: Workflow, reason: str) -> None:
    workflow.failures += 1
    if workflow.failures >= FAILURES_TO_PAUSE:
        workflow.enabled = False
        workflow.paused_reason = (
            f"Paused after {workflow.failures} failed runs in a row. The last: {reason}"
        )[:500]
        workflow.updated_at = utcnow()
        log.warning("workflows: paused workflow %s: %s", workflow.id, workflow.paused_reason)


async def next_fire(tx: Tx, workflow: Workflow, *, after: datetime) -> datetime | None:
    """A schedule's next firing after ``after``, by its time zone (the account's by
    default); None for other triggers."""
    trigger = workflow.trigger
    if trigger.get("type") != "schedule":
        return None
    zone_name = trigger.get("timezone")
    if not zone_name:
        account = await tx.session.get(Account, workflow.account_id)
        zone_name = account.timezone if account else "UTC"
    local = after.astimezone(hours.zone_of(zone_name))
    try:
        return next(CronSim(str(trigger["cron"]), local)).astimezone(after.tzinfo)
    except (CronSimError, ValueError, StopIteration):
        return None
