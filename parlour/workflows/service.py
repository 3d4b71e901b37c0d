"""Keeping workflows: create, change, list, delete, and their runs' history.

What the schemas cannot know is checked here, once, on saving: the channels named exist on
this server, the users named are this account's. Turning a workflow on again clears why it
was paused; turning it off cancels its runs still waiting.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from parlour.accounts.models import User
from parlour.conversations.channel import Channels
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import InvalidInput, NotFound
from parlour.webhooks.models import WebhookEndpoint
from parlour.workflows.engine import next_fire
from parlour.workflows.models import Workflow, WorkflowRun
from parlour.workflows.schemas import WorkflowIn, WorkflowPatch

RUNS_SHOWN = 50


async def get_workflow(tx: Tx, *, account_id: int, workflow_id: int) -> Workflow:
    workflow = await tx.session.scalar(
        select(Workflow).where(Workflow.id == workflow_id, Workflow.account_id == account_id)
    )
    if workflow is None:
        raise NotFound("No such workflow.")
    return workflow


async def list_workflows(tx: Tx, *, account_id: int) -> list[Workflow]:
    return list(
        await tx.session.scalars(
            select(Workflow).where(Workflow.account_id == account_id).order_by(Workflow.id)
        )
    )


async def create_workflow(
    tx: Tx, *, account_id: int, user_id: int, body: WorkflowIn, channels: Channels
) -> Workflow:
    parts = _parts(body.trigger, body.conditions, body.steps)
    await _check_references(tx, account_id=account_id, channels=channels, **parts)
    return await add_workflow(tx, account_id=account_id, user_id=user_id, body=body)


async def add_workflow(
    tx: Tx, *, account_id: int, user_id: int | None, body: WorkflowIn
) -> Workflow:
    """Stores a workflow whose references are known to be good (the demo's)."""
    now = utcnow()
    workflow = Workflow(
        account_id=account_id,
        name=body.name,
        enabled=body.enabled,
        created_by=user_id,
        failures=0,
        created_at=now,
        updated_at=now,
        **_parts(body.trigger, body.conditions, body.steps),
    )
    tx.session.add(workflow)
    await tx.session.flush()
    workflow.next_fire_at = await next_fire(tx, workflow, after=now)
    return workflow


async def update_workflow(
    tx: Tx, *, account_id: int, workflow_id: int, body: WorkflowPatch, channels: Channels
) -> Workflow:
    workflow = await get_workflow(tx, account_id=account_id, workflow_id=workflow_id)
    parts = _parts(
        body.trigger if body.trigger is not None else workflow.trigger,
        body.conditions if body.conditions is not None else workflow.conditions,
        body.steps if body.steps is not None else workflow.steps,
    )
    await _check_references(tx, account_id=account_id, channels=channels, **parts)
    now = utcnow()
    if body.name is not None:
        workflow.name = body.name
    workflow.trigger, workflow.conditions, workflow.steps = (
        parts["trigger"],
        parts["conditions"],
        parts["steps"],
    )
    if body.enabled is not None and body.enabled != workflow.enabled:
        workflow.enabled = body.enabled
        if body.enabled:
            workflow.failures = 0
            workflow.paused_reason = None
        else:
            await _cancel_waiting(tx, workflow.id, "The workflow was turned off.")
    workflow.updated_at = now
    workflow.next_fire_at = await next_fire(tx, workflow, after=now)
    await tx.session.flush()
    return workflow


async def delete_workflow(tx: Tx, *, account_id: int, workflow_id: int) -> None:
    workflow = await get_workflow(tx, account_id=account_id, workflow_id=workflow_id)
    await tx.session.delete(workflow)
    await tx.session.flush()


async def list_runs(tx: Tx, *, account_id: int, workflow_id: int) -> list[WorkflowRun]:
    await get_workflow(tx, account_id=account_id, workflow_id=workflow_id)
    return list(
        await tx.session.scalars(
            select(WorkflowRun)
            .where(WorkflowRun.workflow_id == workflow_id, WorkflowRun.account_id == account_id)
            .order_by(WorkflowRun.id.desc())
            .limit(RUNS_SHOWN)
        )
    )


async def _cancel_waiting(tx: Tx, workflow_id: int, why: str) -> None:
    now = utcnow()
    runs = await tx.session.scalars(
        select(WorkflowRun).where(
            WorkflowRun.workflow_id == workflow_id, WorkflowRun.status == "waiting"
        )
    )
    for run in runs:
        run.status = "cancelled"
        run.finished_at = now
        run.updated_at = now
        run.log = [*run.log, {"at": now.isoformat(), "step": run.step, "note": why}]


def _dump(value: Any) -> Any:
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return value


def _parts(trigger: Any, conditions: Any, steps: Any) -> dict[str, Any]:
    return {"trigger": _dump(trigger), "conditions": _dump(conditions), "steps": _dump(steps)}


async def _check_references(
    tx: Tx,
    *,
    account_id: int,
    channels: Channels,
    trigger: dict[str, Any],
    conditions: list[dict[str, Any]],
    steps: list[dict[str, Any]],
) -> None:
    known = set(channels.names)
    named = [
        ("trigger", trigger.get("channel")),
        *(
            (f"conditions[{i}]", c.get("value"))
            for i, c in enumerate(conditions)
            if c.get("field") == "channel"
        ),
        *((f"steps[{i}]", s.get("channel")) for i, s in enumerate(steps)),
    ]
    for where, name in named:
        if name and name not in known:
            raise InvalidInput(
                f"There is no channel '{name}'.",
                code="unknown_channel",
                details={"field": where, "channels": sorted(known)},
            )
    for i, step in enumerate(steps):
        if step.get("sender_id") is None:
            continue
        if not step.get("channel"):
            raise InvalidInput(
                "A step that names its sender must name its channel too.",
                code="channel_required",
                details={"field": f"steps[{i}].channel"},
            )
        ours = await channels[step["channel"]].sender_ids(tx, account_id=account_id)
        if step["sender_id"] not in ours:
            raise InvalidInput(
                "That sender is not one of this account's.",
                code="unknown_sender",
                details={"field": f"steps[{i}].sender_id"},
            )
    for i, step in enumerate(steps):
        if step.get("type") == "call_webhook":
            endpoint = await tx.session.scalar(
                select(WebhookEndpoint.id).where(
                    WebhookEndpoint.id == step["endpoint_id"],
                    WebhookEndpoint.account_id == account_id,
                )
            )
            if endpoint is None:
                raise InvalidInput(
                    "No such webhook endpoint in this account.",
                    code="unknown_endpoint",
                    details={"field": f"steps[{i}].endpoint_id"},
                )
    users = [
        ("trigger", trigger.get("user_id")),
        *(
            (f"conditions[{i}]", c.get("value"))
            for i, c in enumerate(conditions)
            if c.get("field") == "conversation.assignee"
        ),
        *((f"steps[{i}]", s.get("user_id")) for i, s in enumerate(steps)),
    ]
    wanted = {int(u) for _, u in users if u}
    if not wanted:
        return
    found = set(
        await tx.session.scalars(
            select(User.id).where(User.account_id == account_id, User.id.in_(wanted))
        )
    )
    for where, user_id in users:
        if user_id and int(user_id) not in found:
            raise InvalidInput(
                "No such user in this account.", code="unknown_user", details={"field": where}
            )
