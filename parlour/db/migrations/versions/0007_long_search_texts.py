"""The contacts whose search text is longer than its search head, in a partial index.

A search that walks a display-order index tests each entry's search head (migration
0006). A head cut at 400 characters must also have its contact's whole text tested. The
walk asked each entry whether its head was cut, ``length(search_head) >= 400``: a count of
the head's characters, which cost about as much as the match itself (a walk for "chloe"
took 2.4 ms on PostgreSQL, and 1.5 without it; "fernandez" by name on SQLite 1.6 ms, and
1.2 without it). Now the walk tests each entry's contact against the set of long-text
contacts that match, read once from this index, which holds only those contacts (usually
none: a text passes 400 characters only with many emails).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_LONG = sa.text("length(search_text) > 400")


def upgrade() -> None:
    op.create_index(
        "ix_contacts_long_text",
        "contacts",
        ["account_id", "id"],
        sqlite_where=_LONG,
        postgresql_where=_LONG,
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_long_text", table_name="contacts")
