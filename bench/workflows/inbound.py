"""Inbound texts per second with 20 enabled workflows, as a ratio of the same server with
none, measured in the same run: two `parlour serve` processes side by side, each on its
own database, the rounds alternating between them.

    uv run python -m bench.workflows.inbound                 # SQLite
    uv run python -m bench.workflows.inbound --postgres

The requests are bench/sms/webhooks.py's: signed Twilio webhooks from a pool of senders
("Message i: is the shop open on Sunday?"). The 20 workflows are a plausible account's:
14 keyword rules that this text does not match, one that it does (it tags the contact:
a run for every text), 2 "conversation opened" welcomes, 2 "no agent reply in 5 minutes"
timers (one pending per thread), and a "contact created" rule. They work in the server's
own engine, beside the requests; what is measured is what they cost the inbound path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys

from sqlalchemy import select

from bench.sms.webhooks import (
    SECRET,
    fire,
    free_port,
    measure,
    prepare_parlour,
    requests_for,
    run_server,
    throwaway_database,
)
from parlour.accounts.models import Account
from parlour.config import Settings
from parlour.db.engine import make_database
from parlour.db.tx import transaction
from parlour.realtime.hub import make_hub
from parlour.workflows import service
from parlour.workflows.schemas import WorkflowIn

KEYWORDS = ["refund", "cancel", "invoice", "delivery", "broken", "price", "menu", "vegan",
            "wholesale", "gift", "allergy", "parking", "catering", "beans"]  # fmt: skip


def workflows() -> list[dict[str, object]]:
    tag = [{"type": "tag", "tag": "auto"}]
    out: list[dict[str, object]] = [
        {"name": f"Keyword {k}", "trigger": {"type": "message_received", "keywords": [k]},
         "steps": tag}
        for k in KEYWORDS
    ]  # fmt: skip
    out += [
        {"name": f"Sunday {i}", "trigger": {"type": "message_received", "keywords": ["sunday"]},
         "steps": [{"type": "tag", "tag": f"sunday-{i}"}]}
        for i in range(1)
    ]  # fmt: skip
    out += [
        {"name": f"Welcome {i}", "trigger": {"type": "conversation_opened"}, "steps": tag}
        for i in range(2)
    ]
    out += [
        {"name": f"Nobody answered {i}", "trigger": {"type": "no_agent_reply", "minutes": 5},
         "steps": [{"type": "tag", "tag": "waiting"}]}
        for i in range(2)
    ]  # fmt: skip
    out += [{"name": "New contact", "trigger": {"type": "contact_created"}, "steps": tag}]
    assert len(out) == 20
    return out


async def add_workflows(database_url: str) -> None:
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    db = make_database(settings)
    try:
        async with transaction(db, make_hub(settings)) as tx:
            account_id = await tx.session.scalar(select(Account.id).limit(1))
            assert account_id is not None
            for spec in workflows():
                body = WorkflowIn.model_validate(spec)
                await service.add_workflow(tx, account_id=account_id, user_id=None, body=body)
            await tx.commit()
    finally:
        await db.dispose()


def serve(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
    base = f"http://127.0.0.1:{port}"
    return run_server(
        [sys.executable, "-m", "parlour.cli", "serve", "--port", str(port)],
        {
            **env,
            "PARLOUR_DATABASE_URL": database_url,
            "PARLOUR_SECRET_KEY": SECRET,
            "PARLOUR_PUBLIC_URL": base,
            "PARLOUR_LOG_LEVEL": "warning",
        },
        f"{base}/healthz",
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    async with (
        throwaway_database(args.postgres) as (_, with_url),
        throwaway_database(args.postgres) as (_, without_url),
    ):
        for url in (with_url, without_url):
            await prepare_parlour(url)
        await add_workflows(with_url)
        ports = free_port(), free_port()
        servers = [serve(with_url, ports[0]), serve(without_url, ports[1])]
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        ratios = []
        try:
            for base in bases:  # warm up: connections, caches, contacts and threads
                await fire(base, requests_for(base, min(300, args.requests), args.senders), 16)
            for i in range(args.rounds):
                print(f"round {i + 1}")
                none = await measure("no workflows", bases[1], args.requests, args.senders,
                                     args.concurrency)  # fmt: skip
                twenty = await measure("20 enabled workflows", bases[0], args.requests,
                                       args.senders, args.concurrency)  # fmt: skip
                ratios.append(twenty / none)
                print(f"  ratio {twenty / none:.2f}")
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(20)
    print(f"median ratio 20 workflows / none over {args.rounds} rounds: "
          f"{statistics.median(ratios):.2f}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
