"""PostgreSQL: number each account's events inside COMMIT, by a deferred trigger.

The per-account sequence must follow commit order (a client resuming from seq N must not
miss an event committed later with a lower number), so numbering takes the account row's
lock and holds it until the commit ends. Numbered by the application just before COMMIT,
the lock was held across three round trips, each waiting its turn on a busy event loop:
writes of one account queued behind each other for milliseconds. A deferred constraint
trigger numbers the rows while PostgreSQL processes the COMMIT itself, so the lock is held
for a fraction of a millisecond and no round trip; a notice in the COMMIT's answer tells
the client the numbers. SQLite writes one transaction at a time
and keeps numbering in the application (``parlour.realtime.log``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_CREATE = [
    """
    CREATE FUNCTION parlour_number_event() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        next_seq bigint;
    BEGIN
        UPDATE accounts SET event_seq = event_seq + 1 WHERE id = NEW.account_id
            RETURNING event_seq INTO next_seq;
        UPDATE events SET seq = next_seq WHERE id = NEW.id;
        -- Tells the committing client the number within the COMMIT's own answer (see
        -- parlour.db.engine._hear_event_numbers); SQLSTATE PE001 marks it as ours.
        RAISE NOTICE USING MESSAGE = 'event numbered', DETAIL = NEW.id || ' ' || next_seq,
            ERRCODE = 'PE001';
        RETURN NULL;
    END
    $$
    """,
    # Deferred triggers fire at COMMIT in the order their rows were inserted.
    "CREATE CONSTRAINT TRIGGER events_number AFTER INSERT ON events "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    "WHEN (NEW.seq IS NULL) EXECUTE FUNCTION parlour_number_event()",
]


def upgrade() -> None:
    # Until the commit numbers it, a PostgreSQL event row has no seq.
    with op.batch_alter_table("events") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=True)
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in _CREATE:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_number ON events")
        op.execute("DROP FUNCTION IF EXISTS parlour_number_event()")
        op.execute("DELETE FROM events WHERE seq IS NULL")
    with op.batch_alter_table("events") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
