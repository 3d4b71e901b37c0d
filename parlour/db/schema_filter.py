"""What Alembic compares: everything but the search index, which lives outside the models."""

from __future__ import annotations

from typing import Any

# FTS5 tables (SQLite) and the pg_trgm index (PostgreSQL), created by the migration; the
# prefix matches' index (migration 0015), an expression the models cannot state per
# database.
_UNMANAGED_TABLES = ("contacts_fts", "contacts_words")
_UNMANAGED_INDEXES = ("ix_contacts_search_trgm", "ix_contacts_head_key")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name and name.startswith(_UNMANAGED_TABLES):
        return False
    return not (type_ == "index" and name in _UNMANAGED_INDEXES)
