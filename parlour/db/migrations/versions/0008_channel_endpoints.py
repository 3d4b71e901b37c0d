"""Messages and threads name their channel's endpoints generically.

A message kept the company side of its channel in one column per channel
(``phone_number_id``, ``mailbox_id``, ``widget_id``) and the contact side in two
(``contact_phone_id``, ``contact_email_id``), and a thread one flag per channel
(``has_sms``, ...): every new channel meant new columns in the conversation core. Now a
message has ``endpoint_id`` (the company side: a number, a mailbox, a widget) and
``contact_endpoint_id`` (the contact side: a phone, an email), whose meaning its channel
defines, and a thread the names of the channels it has used, in ``channels``.

The endpoints lose their foreign keys: a deleted company number no longer empties the
message's reference, and the channel finds it gone when the message is sent (and fails it
with that reason, instead of sending through a stand-in).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OLD_ENDPOINTS = ("phone_number_id", "mailbox_id", "widget_id")
_OLD_CONTACT_ENDPOINTS = ("contact_phone_id", "contact_email_id")
_OLD_FLAGS = (("has_sms", "sms"), ("has_webchat", "webchat"), ("has_email", "email"))


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("endpoint_id", _ID, nullable=True))
        batch.add_column(sa.Column("contact_endpoint_id", _ID, nullable=True))
    op.execute(
        "UPDATE messages SET "
        f"endpoint_id = COALESCE({', '.join(_OLD_ENDPOINTS)}), "
        f"contact_endpoint_id = COALESCE({', '.join(_OLD_CONTACT_ENDPOINTS)})"
    )
    # SQLite cannot drop a column a foreign key names: the batch copies the table (the
    # migration's connection runs with foreign keys off, so nothing cascades).
    with op.batch_alter_table("messages") as batch:
        for column in (*_OLD_ENDPOINTS, *_OLD_CONTACT_ENDPOINTS):
            batch.drop_column(column)

    op.add_column(
        "conversations",
        sa.Column("channels", sa.String(200), nullable=False, server_default=""),
    )
    # Space-separated, sorted: " ".join(sorted(names)).
    names = " || ".join(
        f"CASE WHEN {flag} THEN ' {name}' ELSE '' END"
        for flag, name in sorted(_OLD_FLAGS, key=lambda f: f[1])
    )
    op.execute(f"UPDATE conversations SET channels = TRIM({names})")
    # Dropped in place, not by copying the table: its triggers (migration 0006) must stay.
    for flag, _ in _OLD_FLAGS:
        op.execute(f"ALTER TABLE conversations DROP COLUMN {flag}")


def downgrade() -> None:
    for flag, name in _OLD_FLAGS:
        op.add_column(
            "conversations",
            sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false()),
        )
        op.execute(f"UPDATE conversations SET {flag} = (' ' || channels || ' ') LIKE '% {name} %'")
    op.execute("ALTER TABLE conversations DROP COLUMN channels")
    with op.batch_alter_table("messages") as batch:
        for column in (*_OLD_ENDPOINTS, *_OLD_CONTACT_ENDPOINTS):
            batch.add_column(sa.Column(column, _ID, nullable=True))
    for channel, endpoint, contact_endpoint in (
        ("sms", "phone_number_id", "contact_phone_id"),
        ("email", "mailbox_id", "contact_email_id"),
        ("webchat", "widget_id", None),
    ):
        sets = f"{endpoint} = endpoint_id"
        if contact_endpoint:
            sets += f", {contact_endpoint} = contact_endpoint_id"
        op.execute(f"UPDATE messages SET {sets} WHERE channel = '{channel}'")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("endpoint_id")
        batch.drop_column("contact_endpoint_id")
