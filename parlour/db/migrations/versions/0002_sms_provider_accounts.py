"""SMS provider accounts (Twilio, Telnyx credentials)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parlour.db.base import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_provider_accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("account_sid", sa.String(length=64), nullable=False),
        sa.Column("api_key_sid", sa.String(length=64), nullable=True),
        sa.Column("public_key", sa.String(length=100), nullable=True),
        sa.Column("secrets_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sms_provider_accounts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_provider_accounts")),
        sa.UniqueConstraint(
            "account_id", "provider", name=op.f("uq_sms_provider_accounts_account_id_provider")
        ),
    )


def downgrade() -> None:
    op.drop_table("sms_provider_accounts")
