"""Each conversation carries its contact's search text, and PostgreSQL keeps it in the panel
indexes.

A panel search for a common fragment ("martin": 2,175 of 100,000 contacts) finds its page
soonest by walking the panel index in display order and testing each thread. Tested against
the contact row (or a hashed set of the trigram index's matches), each test cost a row read:
12 ms for "martin". With the text in the index (``INCLUDE``), the walk reads the index alone:
1.2 ms. The contacts list, sorted by name, gets the same from its name index.

The copy is kept by triggers, so no code path can forget it: a new or re-pointed
conversation copies its contact's text, and a contact's new text reaches its conversation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_POSTGRESQL = [
    # FOR SHARE: a contact whose text is being changed by another transaction is waited
    # for, so the copy is never older than the contact (its trigger would miss this row).
    """
    CREATE FUNCTION parlour_conversation_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_text := (
            SELECT search_text FROM contacts WHERE id = NEW.contact_id FOR SHARE
        );
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER conversations_search_text BEFORE INSERT OR UPDATE OF contact_id "
    "ON conversations FOR EACH ROW EXECUTE FUNCTION parlour_conversation_search_text()",
    """
    CREATE FUNCTION parlour_contact_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE conversations SET search_text = NEW.search_text
            WHERE account_id = NEW.account_id AND contact_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER contacts_search_text AFTER UPDATE OF search_text ON contacts "
    "FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) "
    "EXECUTE FUNCTION parlour_contact_search_text()",
]

# SQLite cannot change NEW in a trigger: the row is updated just after it is written.
_SQLITE = [
    "CREATE TRIGGER conversations_search_text_insert AFTER INSERT ON conversations BEGIN "
    "UPDATE conversations SET search_text = "
    "(SELECT search_text FROM contacts WHERE id = new.contact_id) WHERE id = new.id; END",
    "CREATE TRIGGER conversations_search_text_contact AFTER UPDATE OF contact_id "
    "ON conversations BEGIN "
    "UPDATE conversations SET search_text = "
    "(SELECT search_text FROM contacts WHERE id = new.contact_id) WHERE id = new.id; END",
    "CREATE TRIGGER contacts_search_text AFTER UPDATE OF search_text ON contacts BEGIN "
    "UPDATE conversations SET search_text = new.search_text "
    "WHERE account_id = new.account_id AND contact_id = new.id; END",
]

_COPY = (
    "UPDATE conversations SET search_text = "
    "(SELECT search_text FROM contacts WHERE contacts.id = conversations.contact_id)"
)

# (name, columns, columns kept in the index for PostgreSQL's index-only walks)
_INDEXES = [
    (
        "ix_conversations_panel",
        ["account_id", "status", "last_message_at", "id"],
        ["contact_id", "search_text"],
    ),
    (
        "ix_conversations_assignee",
        ["account_id", "assignee_id", "last_message_at", "id"],
        ["contact_id", "search_text"],
    ),
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    op.execute(_COPY)
    for stmt in _POSTGRESQL if dialect == "postgresql" else _SQLITE:
        op.execute(stmt)
    if dialect != "postgresql":
        return
    for name, columns, include in _INDEXES:
        op.drop_index(name, table_name="conversations")
        op.create_index(name, "conversations", columns, postgresql_include=include)
    op.drop_index("ix_contacts_account_name", table_name="contacts")
    op.create_index(
        "ix_contacts_account_name",
        "contacts",
        ["account_id", "name", "id"],
        postgresql_include=["search_text"],
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS contacts_search_text ON contacts")
        op.execute("DROP TRIGGER IF EXISTS conversations_search_text ON conversations")
        op.execute("DROP FUNCTION IF EXISTS parlour_contact_search_text()")
        op.execute("DROP FUNCTION IF EXISTS parlour_conversation_search_text()")
        for name, columns, _ in _INDEXES:
            op.drop_index(name, table_name="conversations")
            op.create_index(name, "conversations", columns)
        op.drop_index("ix_contacts_account_name", table_name="contacts")
        op.create_index("ix_contacts_account_name", "contacts", ["account_id", "name", "id"])
    else:
        for name in (
            "conversations_search_text_insert",
            "conversations_search_text_contact",
            "contacts_search_text",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("search_text")
