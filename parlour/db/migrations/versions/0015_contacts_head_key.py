"""The contacts in the order of their search text's first characters: a search's prefix
matches, read as one range.

A contacts search shows first the contacts whose search text starts with the query (their
name does, or their company or address when they have no name), then the others by name
(parlour/contacts/search.py). By name alone, at a million contacts, "priya" or "william"
had 12,000 to 23,000 matches, and no walk of the name index found a page of them: all were
looked up and sorted, 50-100 ms; a walk cannot be flat when a name clusters under one
letter. The prefix matches are one range of this index, read in a millisecond whatever
the size. The key is the first 60 characters (a cursor carries it), and binary ("C")
order on PostgreSQL, whatever the database's collation, so a prefix is a range.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The expression of parlour.contacts.search.head_key, which queries repeat exactly.
_KEY = {
    "sqlite": "substr(search_head, 1, 60)",
    "postgresql": 'substr(search_head, 1, 60) COLLATE "C"',
}


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.execute(f"CREATE INDEX ix_contacts_head_key ON contacts (account_id, {_KEY[dialect]}, id)")
    # A database whose planner keeps statistics must have them for the new index too:
    # SQLite, seeing none, took it for a very selective one, and walked it instead of the
    # name index for a search by name (4 s, not 18 ms, at a million contacts).
    analyzed = (
        dialect == "postgresql"
        or bind.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
    )
    if analyzed:
        op.execute("ANALYZE contacts")


def downgrade() -> None:
    op.drop_index("ix_contacts_head_key", table_name="contacts")
