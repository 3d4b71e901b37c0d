"""Alembic environment. Parlour passes a live connection (see parlour.db.migrate)."""

from __future__ import annotations

from typing import Any

from alembic import context

from parlour.db.models import Base

# The search index lives outside the models: FTS5 tables (SQLite), a pg_trgm index.
_UNMANAGED_TABLES = ("contacts_fts",)
_UNMANAGED_INDEXES = ("ix_contacts_search_trgm",)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name and name.startswith(_UNMANAGED_TABLES):
        return False
    return not (type_ == "index" and name in _UNMANAGED_INDEXES)


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("Run migrations with `parlour migrate`.")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
