"""SQLite: a word index for one- and two-letter searches ("ro" finds "Mateo Rossi").

Trigrams need three characters; below that SQLite used to scan every contact. FTS5's
unicode61 tokenizer with prefix indexes answers "a word starting with ro" from an index.
PostgreSQL keeps its pg_trgm index and needs nothing here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_CREATE = [
    "CREATE VIRTUAL TABLE contacts_words USING fts5("
    "search_text, content='contacts', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='1 2')",
    "INSERT INTO contacts_words(contacts_words) VALUES ('rebuild')",
    "CREATE TRIGGER contacts_words_insert AFTER INSERT ON contacts BEGIN "
    "INSERT INTO contacts_words(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER contacts_words_delete AFTER DELETE ON contacts BEGIN "
    "INSERT INTO contacts_words(contacts_words, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER contacts_words_update AFTER UPDATE OF search_text ON contacts BEGIN "
    "INSERT INTO contacts_words(contacts_words, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO contacts_words(rowid, search_text) VALUES (new.id, new.search_text); END",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for stmt in _CREATE:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("contacts_words_insert", "contacts_words_delete", "contacts_words_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS contacts_words")
