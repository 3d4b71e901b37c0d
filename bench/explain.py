"""Query plans and timings of the SQL the services really issue, on a seeded database.

Calls the service functions the API uses (contacts panel, search, thread) in-process,
records every statement they send to the database, then times each statement alone and
prints its plan: ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (ANALYZE, BUFFERS)`` on
PostgreSQL. Run::

    uv run python bench/explain.py --database-url sqlite+aiosqlite:////tmp/bench/big.db
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from sqlalchemy import event, select, text

from parlour.accounts.models import User
from parlour.channels.registry import make_channels, make_providers
from parlour.config import Settings
from parlour.contacts import service as contacts_service
from parlour.conversations import panel as conversations_panel
from parlour.conversations import thread_page as conversations_thread_page
from parlour.conversations.views import builtin_views
from parlour.db.engine import Database, make_database
from parlour.db.tx import transaction
from parlour.realtime.hub import make_hub


class Recorder:
    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.on = False

    def __call__(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if self.on and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append((statement, params))


async def run_case(
    db: Database, rec: Recorder, name: str, fn: Any, *, repeat: int, show_plans: bool
) -> None:
    hub = make_hub(db_settings)
    rec.statements.clear()
    async with transaction(db, hub, write=False) as tx:
        rec.on = True
        t0 = time.perf_counter()
        await fn(tx)
        total = (time.perf_counter() - t0) * 1000
        rec.on = False
    captured = list(rec.statements)
    print(f"\n## {name}: {total:.1f} ms in the service, {len(captured)} statements")
    async with db.reader.connect() as conn:
        for statement, params in captured:
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                await conn.exec_driver_sql(statement, params)
                times.append((time.perf_counter() - t0) * 1000)
            one_line = " ".join(statement.split())
            print(f"\n- {statistics.median(times):.2f} ms median: {one_line[:600]}")
            print(f"  params: {params!r}"[:300])
            if not show_plans:
                continue
            if db.dialect == "sqlite":
                plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
                for row in plan:
                    print(f"    {row[0]:>3} {row[1]:>3} {row[3]}")
            else:
                plan = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                for row in plan:
                    print("    " + row[0])
        await conn.rollback()


db_settings: Settings


async def main(args: argparse.Namespace) -> None:
    global db_settings
    db_settings = Settings(database_url=args.database_url, _env_file=None)  # type: ignore[call-arg]
    db = make_database(db_settings)
    channels = make_channels(db_settings, make_providers(db_settings))
    rec = Recorder()
    event.listen(db.reader.sync_engine, "before_cursor_execute", rec)
    try:
        async with db.reader.connect() as conn:
            user_id, account_id = (
                await conn.execute(select(User.id, User.account_id).where(User.email == args.email))
            ).one()
            thread_id = (
                await conn.execute(
                    text(
                        "SELECT conversation_id FROM messages WHERE account_id = :a"
                        " GROUP BY conversation_id HAVING COUNT(*) >= 200 LIMIT 1"
                    ),
                    {"a": account_id},
                )
            ).scalar_one()
        filters = builtin_views(channels)["all"][1]

        async def panel(tx: Any, q: str | None = None, pages: int = 1) -> None:
            cursor = None
            for _ in range(pages):
                _, cursor = await conversations_panel.list_panel(
                    tx,
                    account_id=account_id,
                    user_id=user_id,
                    filters=filters,
                    q=q,
                    cursor=cursor,
                    limit=50,
                )

        async def deep_page(tx: Any) -> None:
            cursor = None
            for _ in range(args.depth):
                _, cursor = await conversations_panel.list_panel(
                    tx,
                    account_id=account_id,
                    user_id=user_id,
                    filters=filters,
                    q=None,
                    cursor=cursor,
                    limit=50,
                )

        async def contacts(tx: Any, q: str) -> None:
            await contacts_service.search_contacts(
                tx, account_id=account_id, q=q, cursor=None, limit=50
            )

        async def thread(tx: Any) -> None:
            await conversations_thread_page.list_messages(
                tx,
                channels=channels,
                account_id=account_id,
                conversation_id=thread_id,
                before=None,
                limit=200,
            )

        cases: list[tuple[str, Any]] = [
            ("panel first page", panel),
            (f"panel, {args.depth} pages deep (last statement = page {args.depth})", deep_page),
            ("panel search 'martin'", lambda tx: panel(tx, q="martin")),
            ("panel search 'alvarez'", lambda tx: panel(tx, q="alvarez")),
            ("panel search '53744' (phone digits)", lambda tx: panel(tx, q="53744")),
            ("panel search 'jo' (2 letters)", lambda tx: panel(tx, q="jo")),
            ("panel search 'priya' (first name)", lambda tx: panel(tx, q="priya")),
            ("panel search 'okafor' (a few)", lambda tx: panel(tx, q="okafor")),
            ("panel search 'zoe' (3 letters, accent-folded)", lambda tx: panel(tx, q="zoe")),
            ("panel search 'chloe' (accent-folded)", lambda tx: panel(tx, q="chloe")),
            ("contacts search 'martin'", lambda tx: contacts(tx, "martin")),
            ("contacts search 'priya' (first name)", lambda tx: contacts(tx, "priya")),
            ("contacts search 'william' (first name)", lambda tx: contacts(tx, "william")),
            ("contacts search 'fernandez'", lambda tx: contacts(tx, "fernandez")),
            ("contacts search '53744'", lambda tx: contacts(tx, "53744")),
            ("contacts search 'jo' (2 letters)", lambda tx: contacts(tx, "jo")),
            ("contacts search 'el' (2 letters)", lambda tx: contacts(tx, "el")),
            (f"thread {thread_id}, newest 200", thread),
        ]
        for name, fn in cases:
            if args.only and args.only not in name:
                continue
            await run_case(db, rec, name, fn, repeat=args.repeat, show_plans=not args.no_plans)
    finally:
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--email", default="seed-admin@seed.example")
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--no-plans", action="store_true")
    asyncio.run(main(parser.parse_args()))
