"""/api/v1/workflows: automations that act on conversations and send as the bot.

Everyone signed in may read them (an agent sees why a bot wrote); admins change them."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from parlour.accounts.deps import AdminUser, CurrentUser
from parlour.db.deps import TxDep
from parlour.runtime import ChannelsDep
from parlour.types import Id, LongText, PathId
from parlour.workflows import preview, service
from parlour.workflows.preview import TestRunOut
from parlour.workflows.schemas import RunOut, WorkflowIn, WorkflowOut, WorkflowPatch

router = APIRouter(prefix="/workflows", tags=["workflows"])


@router.get("")
async def list_workflows(user: CurrentUser, tx: TxDep) -> list[WorkflowOut]:
    found = await service.list_workflows(tx, account_id=user.account_id)
    return [WorkflowOut.from_model(w) for w in found]


@router.post("", status_code=201)
async def create_workflow(
    body: WorkflowIn, user: AdminUser, tx: TxDep, channels: ChannelsDep
) -> WorkflowOut:
    workflow = await service.create_workflow(
        tx, account_id=user.account_id, user_id=user.id, body=body, channels=channels
    )
    out = WorkflowOut.from_model(workflow)
    await tx.commit()
    return out


@router.get("/{workflow_id}")
async def get_workflow(workflow_id: PathId, user: CurrentUser, tx: TxDep) -> WorkflowOut:
    workflow = await service.get_workflow(tx, account_id=user.account_id, workflow_id=workflow_id)
    return WorkflowOut.from_model(workflow)


@router.patch("/{workflow_id}")
async def update_workflow(
    workflow_id: PathId, body: WorkflowPatch, user: AdminUser, tx: TxDep, channels: ChannelsDep
) -> WorkflowOut:
    workflow = await service.update_workflow(
        tx, account_id=user.account_id, workflow_id=workflow_id, body=body, channels=channels
    )
    out = WorkflowOut.from_model(workflow)
    await tx.commit()
    return out


@router.delete("/{workflow_id}", status_code=204, response_class=Response, response_model=None)
async def delete_workflow(workflow_id: PathId, user: AdminUser, tx: TxDep) -> None:
    await service.delete_workflow(tx, account_id=user.account_id, workflow_id=workflow_id)
    await tx.commit()


@router.get("/{workflow_id}/runs")
async def list_runs(workflow_id: PathId, user: CurrentUser, tx: TxDep) -> list[RunOut]:
    """The newest runs first (50), each with its history of steps."""
    runs = await service.list_runs(tx, account_id=user.account_id, workflow_id=workflow_id)
    return [RunOut.from_model(r) for r in runs]


class TestRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contact_id: Id
    # The message the run would have been started by (for conditions on its text).
    text: LongText = ""


@router.post("/{workflow_id}/test")
async def test_run(
    workflow_id: PathId, body: TestRunIn, user: CurrentUser, tx: TxDep, channels: ChannelsDep
) -> TestRunOut:
    """What the workflow would do for the contact now, without doing it: each condition
    and whether it holds, each step as it would be done and why it would fail."""
    workflow = await service.get_workflow(tx, account_id=user.account_id, workflow_id=workflow_id)
    return await preview.test_run(
        tx, workflow=workflow, contact_id=body.contact_id, text=body.text, channels=channels
    )
