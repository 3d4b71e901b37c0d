"""The task system: an outgoing email is an Email Task owned by the user who wrote it;
the outbox worker executes it (sends the email) and marks it completed or failed."""

from __future__ import annotations

from sqlalchemy import select, update

from parlour.conversations.models import Message
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.tasks.models import Task


async def create_email_task(tx: Tx, *, message: Message, owner_id: int | None) -> Task:
    task = Task(
        account_id=message.account_id,
        kind="email",
        owner_id=owner_id,
        title=f"Email to {message.to_address}: {message.subject or ''}"[:300],
        status="queued",
        message_id=message.id,
    )
    tx.session.add(task)
    await tx.session.flush()
    return task


async def finish_for_message(tx: Tx, *, message_id: int, error: str | None) -> None:
    task = await tx.session.scalar(select(Task).where(Task.message_id == message_id))
    if task is None:
        return
    task.status = "failed" if error else "completed"
    task.error = error
    task.completed_at = utcnow()


async def running_for_messages(tx: Tx, *, message_ids: list[int]) -> None:
    """The tasks of messages the outbox worker just claimed are being executed."""
    if message_ids:
        await tx.session.execute(
            update(Task)
            .where(Task.message_id.in_(message_ids), Task.status == "queued")
            .values(status="running")
        )


async def retrying_for_message(tx: Tx, *, message_id: int, error: str) -> None:
    """A temporary failure: the task waits for its retry, saying what went wrong."""
    task = await tx.session.scalar(select(Task).where(Task.message_id == message_id))
    if task is not None:
        task.status = "queued"
        task.error = error[:500]


async def reopen_for_message(tx: Tx, *, message_id: int) -> None:
    task = await tx.session.scalar(select(Task).where(Task.message_id == message_id))
    if task is not None:
        task.status = "queued"
        task.error = None
        task.completed_at = None


async def list_tasks(
    tx: Tx, *, account_id: int, owner_id: int | None, status: str | None, limit: int
) -> list[Task]:
    stmt = select(Task).where(Task.account_id == account_id)
    if owner_id is not None:
        stmt = stmt.where(Task.owner_id == owner_id)
    if status is not None:
        stmt = stmt.where(Task.status == status)
    rows = await tx.session.scalars(stmt.order_by(Task.id.desc()).limit(limit))
    return list(rows)


async def create_todo(
    tx: Tx, *, account_id: int, owner_id: int | None, title: str, conversation_id: int | None
) -> Task:
    """A to-do for a person (a workflow's "create a task" step), open until they mark it
    done on the Tasks screen."""
    task = Task(
        account_id=account_id,
        kind="todo",
        owner_id=owner_id,
        title=title[:300],
        status="queued",
        conversation_id=conversation_id,
    )
    tx.session.add(task)
    await tx.session.flush()
    return task
