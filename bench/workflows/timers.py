"""Timer lateness: 10,000 runs whose timers fall due over a window, worked through by the
workflow engine of one `parlour serve` process; how late each one's step ran.

    uv run python -m bench.workflows.timers                  # SQLite, 10,000 over 60 s
    uv run python -m bench.workflows.timers --postgres
    uv run python -m bench.workflows.timers --window 0       # all due at once: the drain

The account is seeded with `parlour seed` (one thread per contact). Each run waits as a
"no reply from an agent" timer does (its row ``waiting``, due at ``due_at``) and its one
step tags the contact: a write like any step's, without a provider call. The due times are
spread evenly over ``--window`` seconds starting a few seconds after the server is up.
Lateness = when the step was recorded (the run's ``finished_at``) minus ``due_at``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import func, insert, select

from bench.sms.webhooks import free_port, throwaway_database, wait_ready
from parlour.config import Settings
from parlour.contacts.models import Contact
from parlour.conversations.models import Conversation
from parlour.db.base import utcnow
from parlour.db.engine import make_database
from parlour.db.migrate import migrate
from parlour.sample.seed import seed
from parlour.workflows.models import Workflow, WorkflowRun

SECRET = "bench-secret"


async def prepare(database_url: str, n: int, window: float, lead: float) -> None:
    await migrate(database_url)
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    print(await seed(settings, account="Bench", contacts=n, messages=n))
    db = make_database(settings)
    try:
        async with db.writer.begin() as conn:
            account_id, contacts = (
                await conn.execute(
                    select(Contact.account_id, func.count(Contact.id)).group_by(Contact.account_id)
                )
            ).one()
            assert contacts >= n, contacts
            now = utcnow()
            workflow_id = (
                await conn.execute(
                    insert(Workflow)
                    .values(
                        account_id=account_id,
                        name="Nobody answered",
                        enabled=True,
                        trigger={"type": "no_agent_reply", "minutes": 5},
                        conditions=[],
                        steps=[{"type": "tag", "tag": "waiting"}],
                        failures=0,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(Workflow.id)
                )
            ).scalar_one()
            threads = (
                await conn.execute(
                    select(Conversation.id, Conversation.contact_id)
                    .where(Conversation.account_id == account_id)
                    .order_by(Conversation.id)
                    .limit(n)
                )
            ).all()
            start = now + timedelta(seconds=lead)
            rows = [
                {
                    "account_id": account_id,
                    "workflow_id": workflow_id,
                    "conversation_id": conv_id,
                    "contact_id": contact_id,
                    "cause": f"bench:{i}",
                    "status": "waiting",
                    "step": 0,
                    "due_at": start + timedelta(seconds=window * i / n),
                    "context": {"trigger": "no_agent_reply"},
                    "log": [],
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (conv_id, contact_id) in enumerate(threads)
            ]
            for i in range(0, len(rows), 1000):
                await conn.execute(insert(WorkflowRun), rows[i : i + 1000])
    finally:
        await db.dispose()


async def lateness(database_url: str) -> tuple[list[float], int]:
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    db = make_database(settings)
    try:
        async with db.reader.connect() as conn:
            rows = (
                await conn.execute(
                    select(WorkflowRun.due_at, WorkflowRun.finished_at, WorkflowRun.status)
                )
            ).all()
    finally:
        await db.dispose()
    late = [(f - d).total_seconds() for d, f, s in rows if s == "completed" and f and d]
    return sorted(late), len(rows) - len(late)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the due times span")
    args = parser.parse_args()
    lead = 15.0  # the server starts meanwhile
    async with throwaway_database(args.postgres) as (_, url):
        await prepare(url, args.timers, args.window, lead)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
        proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before the clock)
            [sys.executable, "-m", "parlour.cli", "serve", "--port", str(port)],
            env={
                **env,
                "PARLOUR_DATABASE_URL": url,
                "PARLOUR_SECRET_KEY": SECRET,
                "PARLOUR_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "PARLOUR_LOG_LEVEL": "warning",
            },
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
            deadline = time.monotonic() + lead + args.window + 600
            while time.monotonic() < deadline:
                await asyncio.sleep(2)
                late, pending = await lateness(url)
                if not pending:
                    break
        finally:
            proc.terminate()
            proc.wait(30)
        late, pending = await lateness(url)
    n = len(late)
    if not n:
        raise SystemExit("no timer fired")

    def pct(p: float) -> float:
        return late[min(n - 1, int(n * p))]

    print(
        f"{n} timers fired ({pending} not), due over {args.window:g} s: lateness "
        f"p50 {statistics.median(late):.2f} s, p95 {pct(0.95):.2f} s, p99 {pct(0.99):.2f} s, "
        f"max {late[-1]:.2f} s"
    )


if __name__ == "__main__":
    asyncio.run(main())
