"""Attachments can be uploaded before the message they go with.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parlour.db.base import BigId

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=BigId, nullable=True)
        batch_op.add_column(sa.Column("uploaded_by", BigId, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_uploaded_by_users"),
            "users",
            ["uploaded_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    op.execute("DELETE FROM attachments WHERE message_id IS NULL")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attachments_uploaded_by_users"), type_="foreignkey")
        batch_op.drop_column("uploaded_by")
        batch_op.alter_column("message_id", existing_type=BigId, nullable=False)
