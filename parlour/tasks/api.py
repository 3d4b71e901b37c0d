"""Tasks: what the task system did or will do (e.g. Email Tasks)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from parlour.accounts.deps import CurrentUser
from parlour.db.deps import TxDep
from parlour.tasks import service
from parlour.tasks.models import Task

router = APIRouter(prefix="/tasks", tags=["tasks"])


class TaskOut(BaseModel):
    id: int
    kind: str
    owner_id: int | None
    title: str
    status: str
    message_id: int | None
    error: str | None
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_model(cls, t: Task) -> TaskOut:
        return cls(
            id=t.id,
            kind=t.kind,
            owner_id=t.owner_id,
            title=t.title,
            status=t.status,
            message_id=t.message_id,
            error=t.error,
            created_at=t.created_at,
            completed_at=t.completed_at,
        )


@router.get("")
async def list_tasks(
    user: CurrentUser,
    tx: TxDep,
    owner: Literal["me", "any"] = "me",
    status: Literal["queued", "running", "completed", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TaskOut]:
    tasks = await service.list_tasks(
        tx,
        account_id=user.account_id,
        owner_id=user.id if owner == "me" else None,
        status=status,
        limit=limit,
    )
    return [TaskOut.from_model(t) for t in tasks]
