"""Workflows (automations acting on conversations as the bot) and their runs.

A run's progress and timers are columns of its row: a worker claims due runs, does one
step per transaction, and writes the next step and when it is due in that transaction
(parlour.workflows.engine). Nothing a step does leaves the database directly: a message
goes through the outbox, a webhook call through its delivery queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from parlour.db.base import Base, BigId, UtcDateTime, utcnow


class Workflow(Base):
    __tablename__ = "workflows"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # Shown on its messages beside the robot avatar.
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # parlour.workflows.schemas: Trigger, [Condition], [Step], as JSON.
    trigger: Mapped[dict[str, Any]] = mapped_column(JSON)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Runs that failed one after another; at FAILURES_TO_PAUSE it is paused with the reason.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_reason: Mapped[str | None] = mapped_column(String(500))
    # A schedule trigger's next firing (UTC); None for other triggers.
    next_fire_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WorkflowRun(Base):
    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index("ix_workflow_runs_due", "status", "due_at"),
        Index("ix_workflow_runs_conversation", "conversation_id", "status"),
        # Runs per contact in the last hour (the loop limit).
        Index("ix_workflow_runs_contact", "contact_id", "created_at"),
        # What started it (an event, a schedule's firing): the same cause never runs twice.
        Index("ix_workflow_runs_cause", "workflow_id", "cause", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    cause: Mapped[str] = mapped_column(String(80))
    # waiting (for ``due_at``, or for the contact's reply until then) → running → completed,
    # or cancelled (a timer's condition no longer held), or failed (``error``).
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    # The index of the next step; -1 while a "no reply within" timer has not fired yet.
    step: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # "contact_reply": a wait that ends early when the contact writes.
    waiting_for: Mapped[str | None] = mapped_column(String(20))
    # What the trigger saw: the message that started it, and the like.
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # One line per step done, for the run's history in the UI.
    log: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The claim's token (parlour.workflows.engine): a worker steps a run only under its own.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def new_run(
    workflow: Workflow,
    *,
    conversation_id: int | None,
    contact_id: int | None,
    cause: str,
    step: int,
    due_at: datetime,
    context: dict[str, Any],
) -> WorkflowRun:
    """A run of ``workflow``, waiting until ``due_at`` (``step`` -1: a timer not yet fired)."""
    now = utcnow()
    return WorkflowRun(
        account_id=workflow.account_id,
        workflow_id=workflow.id,
        conversation_id=conversation_id,
        contact_id=contact_id,
        cause=cause,
        status="waiting",
        step=step,
        due_at=due_at,
        context=context,
        log=[],
        attempts=0,
        created_at=now,
        updated_at=now,
    )
