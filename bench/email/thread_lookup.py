"""The query by which an incoming reply finds the thread it answers
(``parlour.channels.email.inbound._thread_answered``: its In-Reply-To and References among
the account's email Message-IDs), on a SQLite database made by Parlour's migrations, with
N messages in it: its plan and its time, before and after ``ANALYZE``.

    uv run python -m bench.email.thread_lookup                  # 1,000 and 100,000 messages
    uv run python -m bench.email.thread_lookup --messages 1000000

The rows are bare (one account, one thread); only the messages table's size matters here.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from parlour.channels.email.inbound import _known_keys
from parlour.conversations.models import Message
from parlour.db.migrate import migrate

IDS = [f"<{n}-missing@mail.example.com>" for n in range(3)]


def statement() -> str:
    q = select(Message.provider_message_id, Message.conversation_id, Message.sender_type).where(
        Message.account_id == 1,
        Message.channel == "email",
        Message.provider_message_id.in_(_known_keys(1, IDS)),
    )
    return str(q.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def timing(conn: sqlite3.Connection, sql: str) -> tuple[str, float]:
    plan = "; ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    conn.execute(sql).fetchall()
    t0 = time.perf_counter()
    for _ in range(20):
        conn.execute(sql).fetchall()
    return plan, (time.perf_counter() - t0) / 20 * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, nargs="+", default=[1000, 100_000])
    args = parser.parse_args()
    sql = statement()
    for n in args.messages:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "parlour.db"
            await migrate(f"sqlite+aiosqlite:///{path}")
            conn = sqlite3.connect(path)
            conn.executemany(
                "INSERT INTO messages (account_id, conversation_id, direction, channel,"
                " sender_type, body, status, meta, created_at, updated_at,"
                " provider_message_id) VALUES (1, 1, 'in', 'email', 'contact', '', 'received',"
                " '{}', '2026-12-01 00:00:00', '2026-12-01 00:00:00', ?)",
                ((f"1:<{i}@mail.example.com>",) for i in range(n)),
            )
            conn.commit()
            for when in ("as migrated", "after ANALYZE"):
                if when == "after ANALYZE":
                    conn.execute("ANALYZE")
                    conn.commit()
                plan, ms = timing(conn, sql)
                print(f"{n:>9} messages, {when:<13} {ms:8.2f} ms   {plan}")
            conn.close()


if __name__ == "__main__":
    asyncio.run(main())
