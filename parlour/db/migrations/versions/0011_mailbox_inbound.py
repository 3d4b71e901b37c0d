"""Mail that comes in: each mailbox's secret token for raw MIME over HTTP, its IMAP
account (the password sealed like the relay's) and where polling got to (UIDVALIDITY and
the last UID imported), and the signature its composer starts with. An Email Task
waiting its turn is "queued" (it was "pending"), beside "running" while it is sent.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        batch.add_column(sa.Column("signature", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("inbound_token", sa.String(64), nullable=True))
        batch.add_column(sa.Column("imap_host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("imap_port", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("imap_security", sa.String(10), nullable=True))
        batch.add_column(sa.Column("imap_username", sa.String(320), nullable=True))
        batch.add_column(sa.Column("imap_password_sealed", sa.Text(), nullable=True))
        batch.add_column(sa.Column("imap_folder", sa.String(200), nullable=True))
        batch.add_column(sa.Column("imap_uidvalidity", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("imap_last_uid", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("imap_error", sa.String(500), nullable=True))
        batch.add_column(sa.Column("imap_checked_at", sa.DateTime(timezone=True), nullable=True))
    mailboxes = sa.table("mailboxes", sa.column("id", sa.BigInteger), sa.column("inbound_token"))
    conn = op.get_bind()
    for (box_id,) in conn.execute(sa.select(mailboxes.c.id)):
        conn.execute(
            mailboxes.update()
            .where(mailboxes.c.id == box_id)
            .values(inbound_token=secrets.token_urlsafe(24))
        )
    op.execute("UPDATE tasks SET status = 'queued' WHERE status = 'pending'")
    with op.batch_alter_table("mailboxes") as batch:
        batch.alter_column("inbound_token", existing_type=sa.String(64), nullable=False)
        batch.create_index("uq_mailboxes_inbound_token", ["inbound_token"], unique=True)


def downgrade() -> None:
    op.execute("UPDATE tasks SET status = 'pending' WHERE status IN ('queued', 'running')")
    with op.batch_alter_table("mailboxes") as batch:
        batch.drop_index("uq_mailboxes_inbound_token")
        for column in (
            "imap_checked_at",
            "imap_error",
            "imap_last_uid",
            "imap_uidvalidity",
            "imap_folder",
            "imap_password_sealed",
            "imap_username",
            "imap_security",
            "imap_port",
            "imap_host",
            "inbound_token",
            "signature",
        ):
            batch.drop_column(column)
