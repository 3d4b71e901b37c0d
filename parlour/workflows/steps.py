"""What each step does, inside the transaction that records it done (parlour.workflows.engine).

Every step only writes rows: a message is queued in the outbox like an agent's (so
opt-outs, bounces and delivery status apply), so a step retried after a crash before its
COMMIT queues nothing twice. A step that cannot be done raises ``StepFailed`` with the
reason; the run fails with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from parlour.accounts.models import User
from parlour.contacts import service as contacts_service
from parlour.conversations import outbound, thread
from parlour.conversations.channel import Author, Channels, Draft
from parlour.conversations.models import Conversation
from parlour.conversations.subjects import one_line
from parlour.db.tx import Tx
from parlour.errors import ParlourError
from parlour.tasks import service as tasks_service
from parlour.webhooks import service as webhooks_service
from parlour.workflows.models import Workflow, WorkflowRun

# The event type a "call a webhook" step's delivery carries.
CALLED = "workflow.called"


class StepFailed(Exception):
    pass


@dataclass(frozen=True)
class Done:
    """A step's outcome: a line for the run's history, and a wait (minutes) if it waits."""

    note: str
    wait_minutes: float | None = None
    waiting_for: str | None = None


async def prefetch(tx: Tx, runs: Sequence[tuple[WorkflowRun, Workflow | None]]) -> list[object]:
    """Loads what the runs' steps will read, in a few queries for the lot rather than a few
    per step: the contacts that tag steps change. The caller keeps what this returns
    while stepping (the session holds loaded objects only weakly)."""
    contact_ids = {
        run.contact_id
        for run, workflow in runs
        if run.contact_id is not None
        and workflow is not None
        and any(s.get("type") in ("tag", "untag") for s in workflow.steps[max(run.step, 0) :])
    }
    return [*await contacts_service.load_contacts(tx, sorted(contact_ids))]


async def do(
    tx: Tx, *, channels: Channels, workflow: Workflow, run: WorkflowRun, step: dict[str, Any]
) -> Done:
    kind = step.get("type")
    try:
        if kind == "wait":
            until = step.get("until")
            note = f"Waiting {_minutes(step['minutes'])}" + (
                ", or until the contact replies" if until == "contact_replies" else ""
            )
            return Done(
                note,
                wait_minutes=float(step["minutes"]),
                waiting_for="contact_reply" if until == "contact_replies" else None,
            )
        if kind == "send_message":
            return await _send(tx, channels, workflow, run, step)
        if kind == "tag" or kind == "untag":
            changed = await contacts_service.set_tag(
                tx,
                account_id=run.account_id,
                contact_id=_contact(run),
                tag=step["tag"],
                present=kind == "tag",
            )
            verb = "Tagged" if kind == "tag" else "Untagged"
            return Done(f"{verb} {step['tag']}" + ("" if changed else " (already so)"))
        conv = await _conversation(tx, run)
        if kind == "call_webhook":
            delivery = await webhooks_service.queue_call(
                tx,
                account_id=run.account_id,
                endpoint_id=int(step["endpoint_id"]),
                event_type=CALLED,
                data={
                    "workflow": {"id": workflow.id, "name": workflow.name},
                    "run_id": run.id,
                    "step": run.step,
                    "conversation_id": conv.id,
                    "contact_id": conv.contact_id,
                    "trigger": run.context,
                },
            )
            return Done(f"Called the webhook (delivery {delivery.id})")
        if kind == "close" or kind == "reopen":
            status = "closed" if kind == "close" else "open"
            await thread.update_conversation(
                tx,
                account_id=run.account_id,
                conversation_id=conv.id,
                status=status,
                assignee_id=None,
                assignee_given=False,
            )
            return Done("Closed the conversation" if kind == "close" else "Reopened it")
        if kind == "assign":
            user = await _assignee(tx, run.account_id, step)
            await thread.update_conversation(
                tx,
                account_id=run.account_id,
                conversation_id=conv.id,
                status=None,
                assignee_id=user.id,
                assignee_given=True,
            )
            return Done(f"Assigned to {user.name}")
        if kind == "create_task":
            owner_id = step.get("user_id") or conv.assignee_id or workflow.created_by
            if step.get("user_id"):
                await _active_user(tx, run.account_id, int(step["user_id"]))
            await tasks_service.create_todo(
                tx,
                account_id=run.account_id,
                owner_id=owner_id,
                title=step["title"],
                conversation_id=conv.id,
            )
            return Done(f"Created the task “{step['title']}”")
    except ParlourError as exc:
        raise StepFailed(str(exc)) from exc
    raise StepFailed(f"This version cannot do a step of type {kind!r}.")


def _minutes(value: float) -> str:
    if value < 1:
        return f"{round(value * 60)} s"
    if value >= 60 and value % 60 == 0:
        return f"{int(value // 60)} h"
    return f"{value:g} min"


def _contact(run: WorkflowRun) -> int:
    if run.contact_id is None:
        raise StepFailed("The run has no contact.")
    return run.contact_id


async def _conversation(tx: Tx, run: WorkflowRun) -> Conversation:
    """The run's thread; a run started by a contact alone (created, tagged) gets the
    contact's one thread, opened if need be."""
    if run.conversation_id is not None:
        conv = await tx.session.get(Conversation, run.conversation_id)
        if conv is not None:
            return conv
    conv = await thread.get_or_open(tx, account_id=run.account_id, contact_id=_contact(run))
    run.conversation_id = conv.id
    return conv


def fill(body: str, name: str) -> str:
    first = name.split()[0] if name.split() else ""
    return body.replace("{{contact.name}}", name).replace("{{contact.first_name}}", first)


async def _send(
    tx: Tx, channels: Channels, workflow: Workflow, run: WorkflowRun, step: dict[str, Any]
) -> Done:
    conv = await _conversation(tx, run)
    channel_name = step.get("channel") or run.context.get("channel") or conv.last_message_channel
    if not channel_name:
        raise StepFailed("No channel to send on: the step names none and the thread has none.")
    channel = channels[channel_name]
    contact = await contacts_service.get_contact(
        tx, account_id=run.account_id, contact_id=conv.contact_id
    )
    subject = step.get("subject")
    # The step's own subject was checked to be one line when saved; a contact's name filled
    # into it is the contact's data, flattened rather than failing the run.
    subject = one_line(fill(subject, contact.name or "")) if subject else None
    out = await outbound.send_message(
        tx,
        channel=channel,
        account_id=run.account_id,
        conversation_id=conv.id,
        author=Author.bot(workflow_name=workflow.name, workflow_id=workflow.id, run_id=run.id),
        draft=Draft(
            body=fill(step["body"], contact.name or ""),
            subject=subject,
            sender_id=step.get("sender_id"),
            # The run and step: a step done twice would say so (it cannot be: see above).
            client_id=f"workflow-run-{run.id}-step-{run.step}",
        ),
    )
    return Done(f"Sent message {out.id} on {channel_name}")


async def _active_user(tx: Tx, account_id: int, user_id: int) -> User:
    user = await tx.session.scalar(
        select(User).where(User.id == user_id, User.account_id == account_id)
    )
    if user is None or not user.active:
        raise StepFailed(f"User {user_id} is not an active user of this account.")
    return user


async def _assignee(tx: Tx, account_id: int, step: dict[str, Any]) -> User:
    if step.get("user_id"):
        return await _active_user(tx, account_id, int(step["user_id"]))
    # Round robin: the active agent with the fewest open conversations (the first of them
    # when several have as few), so new threads go around the team in turn.
    open_count = (
        select(func.count(Conversation.id))
        .where(
            Conversation.assignee_id == User.id,
            Conversation.status == "open",
            Conversation.account_id == account_id,
        )
        .scalar_subquery()
    )
    for roles in (("agent",), ("agent", "admin")):
        user = await tx.session.scalar(
            select(User)
            .where(User.account_id == account_id, User.active.is_(True), User.role.in_(roles))
            .order_by(open_count, User.id)
            .limit(1)
        )
        if user is not None:
            return user
    raise StepFailed("There is no active agent to assign to.")
