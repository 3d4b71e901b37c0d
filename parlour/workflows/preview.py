"""A test run: what a workflow would do for a contact now, without doing any of it.

Nothing is written: the conditions are read as the engine reads them, and each step is
described as the engine would do it (the message filled in, the channel and sender it
would use, and why a send would fail, as the composer would say).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from parlour.accounts.models import User
from parlour.contacts import service as contacts_service
from parlour.conversations import outbound, thread
from parlour.conversations.channel import Channels
from parlour.conversations.models import Conversation
from parlour.db.tx import Tx
from parlour.webhooks.models import WebhookEndpoint
from parlour.workflows import conditions
from parlour.workflows.models import Workflow
from parlour.workflows.steps import fill


class ConditionOutcome(BaseModel):
    condition: dict[str, Any]
    holds: bool


class StepOutcome(BaseModel):
    step: int
    type: str
    # What it would do, as the run's history would say it.
    would: str
    # Why it would fail; None when it would work.
    problem: str | None = None


class TestRunOut(BaseModel):
    contact_id: int
    conversation_id: int | None
    # Whether the run would go on past its conditions.
    runs: bool
    conditions: list[ConditionOutcome]
    steps: list[StepOutcome]


async def test_run(
    tx: Tx,
    *,
    workflow: Workflow,
    contact_id: int,
    text: str,
    channels: Channels,
) -> TestRunOut:
    contact = await contacts_service.get_contact(
        tx, account_id=workflow.account_id, contact_id=contact_id
    )
    conversation_id = await thread.conversation_id_of(
        tx, account_id=workflow.account_id, contact_id=contact.id
    )
    conv = await tx.session.get(Conversation, conversation_id) if conversation_id else None
    context: dict[str, Any] = {"text": text, "channel": conv.last_message_channel if conv else None}
    held = await conditions.outcomes(
        tx, workflow, conversation_id=conversation_id, contact_id=contact.id, context=context
    )
    outcomes = [
        ConditionOutcome(condition=cond, holds=holds)
        for cond, holds in zip(workflow.conditions, held, strict=True)
    ]
    steps = []
    for i, step in enumerate(workflow.steps):
        steps.append(await _describe(tx, i, step, workflow, contact, conv, channels, context))
    return TestRunOut(
        contact_id=contact.id,
        conversation_id=conversation_id,
        runs=all(o.holds for o in outcomes),
        conditions=outcomes,
        steps=steps,
    )


async def _describe(
    tx: Tx,
    i: int,
    step: dict[str, Any],
    workflow: Workflow,
    contact: Any,
    conv: Conversation | None,
    channels: Channels,
    context: dict[str, Any],
) -> StepOutcome:
    kind = str(step.get("type"))
    if kind == "send_message":
        body = fill(str(step.get("body") or ""), contact.name or "")
        name = step.get("channel") or context.get("channel")
        if not name:
            return StepOutcome(
                step=i, type=kind, would=f"Send “{body}”", problem="No channel to send on."
            )
        channel = channels.get(str(name))
        if channel is None:
            return StepOutcome(
                step=i, type=kind, would=f"Send “{body}”", problem="No such channel."
            )
        option = await outbound.option_for(
            tx, channel, contact=contact, thread=conv, sender_id=step.get("sender_id")
        )
        sender_id = step.get("sender_id") or option.default_sender_id
        sender = next((s for s in option.senders if s.id == sender_id), None)
        where = f" from {sender.label or sender.address}" if sender else ""
        problem = None if option.available else (option.reason or "This channel is unavailable.")
        if sender is not None and not sender.usable:
            problem = sender.reason or problem
        return StepOutcome(
            step=i, type=kind, would=f"Send “{body}” by {channel.label}{where}", problem=problem
        )
    if kind == "wait":
        minutes = float(step.get("minutes") or 0)
        until = " or until the contact replies" if step.get("until") else ""
        return StepOutcome(step=i, type=kind, would=f"Wait {minutes:g} min{until}")
    if kind == "assign":
        if step.get("user_id"):
            user = await tx.session.get(User, int(step["user_id"]))
            who = user.name if user and user.account_id == workflow.account_id else "?"
            return StepOutcome(step=i, type=kind, would=f"Assign to {who}")
        return StepOutcome(step=i, type=kind, would="Assign to the next agent in turn")
    if kind in ("tag", "untag"):
        verb = "Add the tag" if kind == "tag" else "Remove the tag"
        return StepOutcome(step=i, type=kind, would=f"{verb} {step.get('tag')}")
    if kind == "close":
        return StepOutcome(step=i, type=kind, would="Close the conversation")
    if kind == "reopen":
        return StepOutcome(step=i, type=kind, would="Reopen the conversation")
    if kind == "call_webhook":
        endpoint = await tx.session.get(WebhookEndpoint, int(step.get("endpoint_id") or 0))
        if endpoint is None or endpoint.account_id != workflow.account_id:
            return StepOutcome(
                step=i, type=kind, would="Call a webhook", problem="No such endpoint."
            )
        problem = None if endpoint.enabled else "The endpoint is disabled."
        return StepOutcome(
            step=i, type=kind, would=f"Call the webhook {endpoint.url}", problem=problem
        )
    if kind == "create_task":
        return StepOutcome(step=i, type=kind, would=f"Create the task “{step.get('title')}”")
    return StepOutcome(step=i, type=kind, would=kind, problem="This version cannot do this step.")
