"""Safe retries and prompt recovery: kept answers for ``Idempotency-Key`` and the worker
that claimed each outbox row.

``idempotency_keys`` holds, per user and key, a fingerprint of the request and the answer
it got, for 24 hours (parlour.idempotency). ``outbox.claimed_by`` names the worker that
marked a row "sending", so a restarted worker reconciles its own interrupted sends at once
instead of after the 60-second lease.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", _ID, primary_key=True),
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_idempotency_keys_account_id_accounts"
            ),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            _ID,
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_idempotency_keys_user_id_users"),
            nullable=False,
        ),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(100), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
    )
    op.create_index(
        "ix_idempotency_keys_user_key", "idempotency_keys", ["user_id", "key"], unique=True
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.add_column("outbox", sa.Column("claimed_by", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "claimed_by")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_index("ix_idempotency_keys_user_key", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
