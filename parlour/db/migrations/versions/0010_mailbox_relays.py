"""Mailboxes that really send: each mailbox's outgoing SMTP relay (host, port, security,
username, and the password sealed with parlour.channels.crypto).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        batch.add_column(sa.Column("smtp_host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("smtp_port", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("smtp_security", sa.String(10), nullable=True))
        batch.add_column(sa.Column("smtp_username", sa.String(320), nullable=True))
        batch.add_column(sa.Column("smtp_password_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        batch.drop_column("smtp_password_sealed")
        batch.drop_column("smtp_username")
        batch.drop_column("smtp_security")
        batch.drop_column("smtp_port")
        batch.drop_column("smtp_host")
