"""Search heads: the first 400 characters of each contact's search text, kept in the
indexes that give display order, on the contact and on its conversation.

A search for a common fragment ("martin": 2,175 of 100,000 contacts) finds its page soonest
by walking the index already in display order (the panel's newest first, the contacts
list's by name) and testing each entry. Tested against the contact row (or a hashed set of
the trigram index's matches), each test cost a row read: 12 ms for the panel on
PostgreSQL, 7 ms on SQLite. With the text in the index, the walk reads the index alone:
about 1 ms on both (parlour/contacts/search.py).

Only a head is indexed: an index entry must stay under a third of a page (2,704 bytes on
PostgreSQL), and a contact's search text holds up to 20 emails of 320 characters. 400
characters are at most 1,600 bytes, beside a name of at most 800. A longer text (rare) is
tested against the contact row.

Triggers keep the heads, so no code path can forget them: a contact's head follows its
search text, and a new or re-pointed conversation copies its contact's head.

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

HEAD = 400

_POSTGRESQL = [
    f"""
    CREATE FUNCTION parlour_contact_search_head() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_head := substr(NEW.search_text, 1, {HEAD});
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER contacts_search_head BEFORE INSERT OR UPDATE OF search_text ON contacts "
    "FOR EACH ROW EXECUTE FUNCTION parlour_contact_search_head()",
    # FOR SHARE: a contact whose text another transaction is changing is waited for, so the
    # copy is never older than the contact (the contact's trigger would miss this new row).
    """
    CREATE FUNCTION parlour_conversation_search_head() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_head := (
            SELECT search_head FROM contacts WHERE id = NEW.contact_id FOR SHARE
        );
        RETURN NEW;
    END
    $$
    """,
    "CREATE TRIGGER conversations_search_head BEFORE INSERT OR UPDATE OF contact_id "
    "ON conversations FOR EACH ROW EXECUTE FUNCTION parlour_conversation_search_head()",
    """
    CREATE FUNCTION parlour_contact_search_head_copies() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE conversations SET search_head = NEW.search_head
            WHERE account_id = NEW.account_id AND contact_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    # OF search_text: a column set by a BEFORE trigger does not fire UPDATE OF triggers.
    "CREATE TRIGGER contacts_search_head_copies AFTER UPDATE OF search_text ON contacts "
    "FOR EACH ROW WHEN (OLD.search_head IS DISTINCT FROM NEW.search_head) "
    "EXECUTE FUNCTION parlour_contact_search_head_copies()",
]

# SQLite cannot change NEW in a trigger: the row is updated just after it is written. An
# UPDATE made by a trigger fires the triggers of its own table too (contacts_search_head
# -> contacts_search_head_copies).
_SQLITE = [
    "CREATE TRIGGER contacts_search_head_insert AFTER INSERT ON contacts BEGIN "
    f"UPDATE contacts SET search_head = substr(new.search_text, 1, {HEAD}) "
    "WHERE id = new.id; END",
    "CREATE TRIGGER contacts_search_head AFTER UPDATE OF search_text ON contacts BEGIN "
    f"UPDATE contacts SET search_head = substr(new.search_text, 1, {HEAD}) "
    "WHERE id = new.id; END",
    "CREATE TRIGGER contacts_search_head_copies AFTER UPDATE OF search_head ON contacts BEGIN "
    "UPDATE conversations SET search_head = new.search_head "
    "WHERE account_id = new.account_id AND contact_id = new.id; END",
    "CREATE TRIGGER conversations_search_head_insert AFTER INSERT ON conversations BEGIN "
    "UPDATE conversations SET search_head = "
    "(SELECT search_head FROM contacts WHERE id = new.contact_id) WHERE id = new.id; END",
    "CREATE TRIGGER conversations_search_head_contact AFTER UPDATE OF contact_id "
    "ON conversations BEGIN "
    "UPDATE conversations SET search_head = "
    "(SELECT search_head FROM contacts WHERE id = new.contact_id) WHERE id = new.id; END",
]

_COPY = [
    f"UPDATE contacts SET search_head = substr(search_text, 1, {HEAD})",
    "UPDATE conversations SET search_head = "
    "(SELECT search_head FROM contacts WHERE contacts.id = conversations.contact_id)",
]

# (table, index, columns before, columns after)
_INDEXES = [
    (
        "conversations",
        "ix_conversations_panel",
        ["account_id", "status", "last_message_at", "id"],
        ["account_id", "status", "last_message_at", "id", "contact_id", "search_head"],
    ),
    (
        "conversations",
        "ix_conversations_assignee",
        ["account_id", "assignee_id", "last_message_at", "id"],
        ["account_id", "assignee_id", "last_message_at", "id", "contact_id", "search_head"],
    ),
    (
        "contacts",
        "ix_contacts_account_name",
        ["account_id", "name", "id"],
        ["account_id", "name", "id", "search_head"],
    ),
]

_TRIGGERS = {
    "postgresql": [
        ("contacts_search_head_copies", "contacts"),
        ("contacts_search_head", "contacts"),
        ("conversations_search_head", "conversations"),
    ],
    "sqlite": [
        ("contacts_search_head_insert", ""),
        ("contacts_search_head", ""),
        ("contacts_search_head_copies", ""),
        ("conversations_search_head_insert", ""),
        ("conversations_search_head_contact", ""),
    ],
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("contacts", "conversations"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("search_head", sa.Text(), server_default="", nullable=False))
    for stmt in _COPY:
        op.execute(stmt)
    for stmt in _POSTGRESQL if dialect == "postgresql" else _SQLITE:
        op.execute(stmt)
    for table, name, _, columns in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table in _TRIGGERS["postgresql" if dialect == "postgresql" else "sqlite"]:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if table else ""))
    if dialect == "postgresql":
        for function in (
            "parlour_contact_search_head_copies",
            "parlour_conversation_search_head",
            "parlour_contact_search_head",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for table, name, columns, _ in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    for table in ("conversations", "contacts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("search_head")
