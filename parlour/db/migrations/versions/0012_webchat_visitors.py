"""Web-chat visitors (the visitor side of the widget, issue 19): who chats through which
widget, their vouched identifier, the nonce their tokens carry; the files they uploaded
and have not sent yet; and when a widget says nobody answers now (office hours).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parlour.db.base import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("widgets") as batch:
        batch.add_column(
            sa.Column("offline_mode", sa.String(20), nullable=False, server_default="never")
        )
        batch.add_column(
            sa.Column("office_hours", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"))
    op.create_table(
        "webchat_visitors",
        sa.Column("id", _ID, nullable=False),
        sa.Column("widget_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=True),
        sa.Column("identifier", sa.String(200), nullable=True),
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["widget_id"],
            ["widgets.id"],
            name=op.f("fk_webchat_visitors_widget_id_widgets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_webchat_visitors_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_webchat_visitors_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_visitors")),
        sa.UniqueConstraint(
            "widget_id", "identifier", name=op.f("uq_webchat_visitors_widget_id_identifier")
        ),
    )
    with op.batch_alter_table("webchat_visitors") as batch:
        batch.create_index(batch.f("ix_webchat_visitors_widget_id"), ["widget_id"])
        batch.create_index(batch.f("ix_webchat_visitors_contact_id"), ["contact_id"])
    op.create_table(
        "webchat_uploads",
        sa.Column("attachment_id", _ID, nullable=False),
        sa.Column("visitor_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_webchat_uploads_attachment_id_attachments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["webchat_visitors.id"],
            name=op.f("fk_webchat_uploads_visitor_id_webchat_visitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_webchat_uploads")),
    )
    with op.batch_alter_table("webchat_uploads") as batch:
        batch.create_index(batch.f("ix_webchat_uploads_visitor_id"), ["visitor_id"])


def downgrade() -> None:
    op.drop_table("webchat_uploads")
    op.drop_table("webchat_visitors")
    with op.batch_alter_table("widgets") as batch:
        batch.drop_column("timezone")
        batch.drop_column("office_hours")
        batch.drop_column("offline_mode")
