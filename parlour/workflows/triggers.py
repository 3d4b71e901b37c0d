"""From the event log to runs: which workflows an event starts, and which waiting runs it
ends or wakes. Called by the engine inside the transaction that moves the workflows'
cursor past the events (parlour.realtime.consumers), so each event starts its runs once.

Loops are cut here: only a contact's message is "received" (a bot's never is), a
workflow's own message never starts its "no reply from the contact" timer, an auto-reply
starts nothing (no mail loops), and a contact gets at most RUNS_PER_HOUR runs an hour (two
workflows that tag and untag each other stop there).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.realtime.consumers import StoredEvent
from parlour.workflows import conditions
from parlour.workflows.models import Workflow, WorkflowRun, new_run
from parlour.workflows.schemas import TIMERS

log = logging.getLogger(__name__)

CONSUMER = "workflows"
# Runs started per contact per hour, all workflows together: a chain of workflows that
# set each other off stops here.
RUNS_PER_HOUR = 20


def _message(event: StoredEvent) -> dict[str, Any]:
    value = event.data.get("message")
    return value if isinstance(value, dict) else {}


def _conversation(event: StoredEvent) -> dict[str, Any]:
    value = event.data.get("conversation")
    return value if isinstance(value, dict) else {}


def _is_auto_reply(message: dict[str, Any]) -> bool:
    email = message.get("email")
    return isinstance(email, dict) and bool(email.get("auto_reply"))


def _words_match(text: str, keywords: list[str]) -> bool:
    lowered = text.casefold()
    return any(re.search(rf"(?<!\w){re.escape(k.casefold())}(?!\w)", lowered) for k in keywords)


@dataclass
class Batch:
    """What a batch of events needs to know of its conversations, read in a few queries
    rather than a few per event (the batch holds SQLite's one write lock meanwhile), and
    kept up to date as the batch starts and ends runs."""

    # Timers not yet fired (runs at step -1, waiting), by conversation.
    timers: dict[int, list[WorkflowRun]] = field(default_factory=dict)
    # Runs started in the last hour, by contact (one thread each; a contact's triggers,
    # created or tagged, have no thread to count by).
    recent: dict[int, int] = field(default_factory=dict)
    # Runs the batch started, in the order it started them.
    added: list[WorkflowRun] = field(default_factory=list)


async def handle(tx: Tx, events: list[StoredEvent]) -> list[tuple[WorkflowRun, Workflow]]:
    """Starts the runs ``events`` call for; returns those due at once (not timers), each
    with its workflow."""
    workflows = [
        w
        for w in await tx.session.scalars(
            select(Workflow).where(
                Workflow.account_id == events[0].account_id, Workflow.enabled.is_(True)
            )
        )
    ]
    if not workflows:
        return []  # and a disabled workflow's runs were cancelled with it
    batch = await _read_batch(tx, events)
    await _wake_waits(tx, events)
    by_event: dict[str, list[Workflow]] = {}
    for workflow in workflows:
        started_by = STARTED_BY.get(str(workflow.trigger.get("type")))
        if started_by:
            by_event.setdefault(started_by, []).append(workflow)
    started: list[tuple[WorkflowRun, Workflow]] = []
    for event in events:
        _settle_timers(batch, event)
        for workflow in by_event.get(event.type, ()):
            if workflow.created_at > event.created_at:
                continue  # it did not exist yet when this happened
            start = _starts(workflow, event)
            if start is not None:
                run = await _start_run(tx, batch, workflow, event, **start)
                if run is not None and run.step == 0:
                    started.append((run, workflow))
    await _number_runs(tx, batch.added)
    await tx.session.flush()
    return started


async def _number_runs(tx: Tx, new: list[WorkflowRun]) -> None:
    """SQLite: gives the batch's new runs their ids, as SQLite itself would (the largest
    id yet, plus one), so that they go in one INSERT. Left to the database, each new row's
    id must be read back, and SQLite cannot tell which returned id is whose in a
    many-row INSERT, so SQLAlchemy writes them one by one. Safe because this transaction
    holds SQLite's one write lock: nobody else inserts meanwhile."""
    if tx.dialect != "sqlite" or len(new) < 2:
        return
    with tx.session.no_autoflush:
        top = await tx.session.scalar(select(func.max(WorkflowRun.id)))
    for n, run in enumerate(new, start=int(top or 0) + 1):
        run.id = n


def _contact_of(event: StoredEvent) -> int | None:
    if event.type in ("message.created", "conversation.updated"):
        value = (_conversation(event).get("contact") or {}).get("id")
    elif event.type == "contact.updated":
        value = (event.data.get("contact") or {}).get("id")
    else:
        return None
    return value if isinstance(value, int) else None


def _conversation_of(event: StoredEvent) -> int | None:
    if event.type == "message.created":
        value = _message(event).get("conversation_id")
    elif event.type == "conversation.updated":
        value = _conversation(event).get("id")
    else:
        return None
    return value if isinstance(value, int) else None


async def _read_batch(tx: Tx, events: list[StoredEvent]) -> Batch:
    conversations = {c for c in map(_conversation_of, events) if c is not None}
    contacts = {c for c in map(_contact_of, events) if c is not None}
    batch = Batch()
    if contacts:
        counts = await tx.session.execute(
            select(WorkflowRun.contact_id, func.count(WorkflowRun.id))
            .where(
                WorkflowRun.contact_id.in_(contacts),
                WorkflowRun.created_at > utcnow() - timedelta(hours=1),
            )
            .group_by(WorkflowRun.contact_id)
        )
        batch.recent = {int(c): int(n) for c, n in counts.tuples() if c is not None}
    if not conversations:
        return batch
    for run in await tx.session.scalars(
        select(WorkflowRun).where(
            WorkflowRun.conversation_id.in_(conversations),
            WorkflowRun.status == "waiting",
            WorkflowRun.step == -1,
        )
    ):
        assert run.conversation_id is not None
        batch.timers.setdefault(run.conversation_id, []).append(run)
    return batch


# The events each kind of trigger is started by: a batch's events meet only the workflows
# that can start on them (most events are messages; most workflows wait for one).
STARTED_BY = {
    "message_received": "message.created",
    "conversation_opened": "message.created",
    "no_agent_reply": "message.created",
    "no_contact_reply": "message.created",
    "conversation_closed": "conversation.updated",
    "conversation_assigned": "conversation.updated",
    "contact_created": "contact.updated",
    "tag_added": "contact.updated",
}


def _on_channel(trigger: dict[str, Any], message: dict[str, Any]) -> bool:
    return not trigger.get("channel") or trigger["channel"] == message.get("channel")


def _starts(workflow: Workflow, event: StoredEvent) -> dict[str, Any] | None:
    """What a run of ``workflow`` started by ``event`` is about, or None. (The event is of
    the type its trigger is started by: STARTED_BY.)"""
    trigger = workflow.trigger
    kind = trigger.get("type")
    if event.type == "message.created":
        message = _message(event)
        incoming = message.get("direction") == "in" and not _is_auto_reply(message)
        text = str(message.get("body") or "")
        if kind == "message_received":
            starts = (
                incoming
                and _on_channel(trigger, message)
                and (not trigger.get("keywords") or _words_match(text, trigger["keywords"]))
                and (not trigger.get("pattern") or re.search(trigger["pattern"], text) is not None)
            )
        elif kind == "conversation_opened":
            starts = (
                incoming and bool(event.data.get("first_inbound")) and _on_channel(trigger, message)
            )
        elif kind == "no_agent_reply":
            starts = incoming
        else:  # no_contact_reply: not after this workflow's own message
            starts = (
                message.get("direction") == "out"
                and (message.get("sender") or {}).get("workflow_id") != workflow.id
            )
        if not starts:
            return None
        contact_id = (_conversation(event).get("contact") or {}).get("id")
        return {
            "conversation_id": message.get("conversation_id"),
            "contact_id": contact_id,
            "context": {
                "message_id": message.get("id"),
                "channel": message.get("channel"),
                "text": text[:2000],
            },
        } | ({"timer": True} if kind in TIMERS else {})
    if event.type == "conversation.updated":
        conv = _conversation(event)
        changes = event.data.get("changes") or {}
        about = {
            "conversation_id": conv.get("id"),
            "contact_id": (conv.get("contact") or {}).get("id"),
            "context": {"channel": conv.get("last_message_channel")},
        }
        if kind == "conversation_closed" and (changes.get("status") or [None, None])[1] == "closed":
            return about
        assigned = changes.get("assignee_id")
        if kind == "conversation_assigned" and assigned and assigned[1] is not None:
            if trigger.get("user_id") and trigger["user_id"] != assigned[1]:
                return None
            return about
        return None
    if event.type == "contact.updated":
        contact = event.data.get("contact") or {}
        about = {"conversation_id": None, "contact_id": contact.get("id"), "context": {}}
        if kind == "contact_created" and event.data.get("created"):
            return about
        if kind == "tag_added" and trigger.get("tag") in (event.data.get("tags_added") or []):
            return about | {"context": {"tag": trigger["tag"]}}
    return None


async def _start_run(
    tx: Tx,
    batch: Batch,
    workflow: Workflow,
    event: StoredEvent,
    *,
    conversation_id: int | None,
    contact_id: int | None,
    context: dict[str, Any],
    timer: bool = False,
) -> WorkflowRun | None:
    if contact_id is None:
        return None
    if batch.recent.get(contact_id, 0) >= RUNS_PER_HOUR:
        _note_limit(contact_id)
        return None
    if timer:
        # One timer per thread at a time: the first unanswered message sets it.
        pending = batch.timers.get(conversation_id, []) if conversation_id is not None else []
        if any(r.workflow_id == workflow.id and r.status == "waiting" for r in pending):
            return None
    elif not await conditions.hold(
        tx, workflow, conversation_id=conversation_id, contact_id=contact_id, context=context
    ):
        return None
    minutes = float(workflow.trigger.get("minutes") or 0) if timer else 0.0
    run = new_run(
        workflow,
        conversation_id=conversation_id,
        contact_id=contact_id,
        cause=f"event:{event.seq}",
        step=-1 if timer else 0,
        due_at=event.created_at + timedelta(minutes=minutes) if timer else utcnow(),
        context=context | {"trigger": workflow.trigger.get("type")},
    )
    tx.session.add(run)
    batch.added.append(run)
    batch.recent[contact_id] = batch.recent.get(contact_id, 0) + 1
    if timer and conversation_id is not None:
        batch.timers.setdefault(conversation_id, []).append(run)
    return run


# Contacts told about in the log this hour: once each, not once per run left out.
_limited: dict[int, datetime] = {}


def _note_limit(contact_id: int) -> None:
    now = utcnow()
    if now - _limited.get(contact_id, now - timedelta(hours=2)) < timedelta(hours=1):
        return
    if len(_limited) > 10_000:
        _limited.clear()
    _limited[contact_id] = now
    log.warning(
        "workflows: contact %s had %d runs in the last hour; more start no runs for now",
        contact_id,
        RUNS_PER_HOUR,
    )


async def _wake_waits(tx: Tx, events: list[StoredEvent]) -> None:
    """The contact wrote: "wait until the contact replies" is over (one UPDATE for the
    batch)."""
    replied = {
        m.get("conversation_id")
        for m in map(_message, (e for e in events if e.type == "message.created"))
        if m.get("direction") == "in" and not _is_auto_reply(m)
    } - {None}
    if not replied:
        return
    now = utcnow()
    await tx.session.execute(
        update(WorkflowRun)
        .where(
            WorkflowRun.conversation_id.in_(replied),
            WorkflowRun.status == "waiting",
            WorkflowRun.waiting_for == "contact_reply",
        )
        .values(due_at=now, waiting_for=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _settle_timers(batch: Batch, event: StoredEvent) -> None:
    """A message ends the timers it answers: the contact's, "no reply from the contact";
    an agent's, "no reply from an agent"."""
    if event.type != "message.created":
        return
    message = _message(event)
    conversation_id = message.get("conversation_id")
    if not isinstance(conversation_id, int):
        return
    sender = message.get("sender") or {}
    if message.get("direction") == "in" and not _is_auto_reply(message):
        _cancel_timers(batch, conversation_id, "no_contact_reply", "the contact replied")
    elif message.get("direction") == "out" and sender.get("type") == "user":
        _cancel_timers(batch, conversation_id, "no_agent_reply", "an agent replied")


def _cancel_timers(batch: Batch, conversation_id: int, trigger: str, why: str) -> None:
    assert trigger in TIMERS
    now = utcnow()
    for run in batch.timers.get(conversation_id, []):
        if run.status != "waiting" or (run.context or {}).get("trigger") != trigger:
            continue
        run.status = "cancelled"
        run.log = [*run.log, {"at": now.isoformat(), "step": None, "note": f"Not needed: {why}."}]
        run.finished_at = now
        run.updated_at = now
