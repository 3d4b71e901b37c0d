"""Workflows: the automations, their runs (progress and timers as rows), and the cursors by
which consumers of the event log (workflows, outgoing webhooks) read it once. Which run
sent a bot's message, the account's time zone (schedules fire by it) and the thread a
to-do task is about.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parlour.db.base import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("workflow_run_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("conversation_id", _ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_tasks_conversation_id_conversations"),
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_tasks_conversation_id"), ["conversation_id"])

    op.create_table(
        "event_cursors",
        sa.Column("consumer", sa.String(40), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        _fk("event_cursors", "account_id", "accounts", "CASCADE"),
        sa.PrimaryKeyConstraint("consumer", "account_id", name=op.f("pk_event_cursors")),
    )

    op.create_table(
        "workflows",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_by", _ID, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("paused_reason", sa.String(500), nullable=True),
        sa.Column("next_fire_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        _fk("workflows", "account_id", "accounts", "CASCADE"),
        _fk("workflows", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
    )
    op.create_index(op.f("ix_workflows_account_id"), "workflows", ["account_id"])

    op.create_table(
        "workflow_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("workflow_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=True),
        sa.Column("contact_id", _ID, nullable=True),
        sa.Column("cause", sa.String(80), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("waiting_for", sa.String(20), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("log", sa.JSON(), nullable=False),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        _fk("workflow_runs", "account_id", "accounts", "CASCADE"),
        _fk("workflow_runs", "workflow_id", "workflows", "CASCADE"),
        _fk("workflow_runs", "conversation_id", "conversations", "CASCADE"),
        _fk("workflow_runs", "contact_id", "contacts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_runs")),
    )
    op.create_index("ix_workflow_runs_due", "workflow_runs", ["status", "due_at"])
    op.create_index("ix_workflow_runs_conversation", "workflow_runs", ["conversation_id", "status"])
    op.create_index("ix_workflow_runs_contact", "workflow_runs", ["contact_id", "created_at"])
    op.create_index(
        "ix_workflow_runs_cause", "workflow_runs", ["workflow_id", "cause"], unique=True
    )


def downgrade() -> None:
    op.drop_table("workflow_runs")
    op.drop_table("workflows")
    op.drop_table("event_cursors")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index(op.f("ix_tasks_conversation_id"))
        batch.drop_constraint(op.f("fk_tasks_conversation_id_conversations"), type_="foreignkey")
        batch.drop_column("conversation_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("workflow_run_id")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("timezone")
