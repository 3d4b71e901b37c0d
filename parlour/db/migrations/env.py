"""Alembic environment. Parlour passes a live connection (see parlour.db.migrate)."""

from __future__ import annotations

from alembic import context

from parlour.db.schema_filter import include_object
from parlour.tables import Base


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
