"""Inbound mail to the agent's WebSocket: how long from the SMTP DATA of a mail to the
``message.created`` event on an agent's socket, at a steady rate (open loop), through the
SMTP receiver of one `parlour serve` process.

    uv run python -m bench.email.latency                    # SQLite, 20 mails/s for 30 s
    uv run python -m bench.email.latency --postgres --rate 20 --seconds 30

The mails are bench/email/receiver.py's three shapes (a quoting reply, HTML with its text,
a small PDF attached), built before the clock starts, from 200 senders who have all
written once before (their contacts and threads exist). They leave on schedule over a
few persistent connections (RSET, MAIL, RCPT, then DATA); the clock starts just before
DATA is sent, and stops when the event naming the mail's Subject reaches the socket.
"from schedule" adds the wait for a free connection and MAIL/RCPT. Traffic goes to
127.0.0.1 only and stops by itself. The raw numbers go to
bench/results/email-latency-<database>.json (with the commit and load average).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import statistics
import sys
import time
from typing import Any

import aiosmtplib
import websockets

from bench.email.receiver import (
    MAILBOX,
    fire,
    make_mail,
    prepare_parlour,
    save,
    senders,
    spawn,
    wait_smtp,
)
from bench.run import ROOT, describe_app
from bench.sms.latency import agent_token
from bench.sms.webhooks import SECRET, free_port, throwaway_database, wait_ready

PROBE = re.compile(r"\[probe (\d+)\]")


def quantiles(values: list[float]) -> dict[str, float]:
    v = sorted(values)

    def at(q: float) -> float:
        return v[max(0, int(len(v) * q + 0.5) - 1)] * 1000

    return {
        "n": len(v),
        "p50_ms": statistics.median(v) * 1000,
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": v[-1] * 1000,
    }


async def run(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    await prepare_parlour(database_url)
    token = await agent_token(database_url)
    http_port, smtp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    proc = spawn(
        [sys.executable, "-m", "parlour.cli", "serve", "--port", str(http_port)],
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")},
            "PARLOUR_DATABASE_URL": database_url,
            "PARLOUR_SECRET_KEY": SECRET,
            "PARLOUR_PUBLIC_URL": base,
            "PARLOUR_LOG_LEVEL": "warning",
            "PARLOUR_INBOUND_SMTP_HOST": "127.0.0.1",
            "PARLOUR_INBOUND_SMTP_PORT": str(smtp_port),
        },
    )
    total = int(args.rate * args.seconds)
    pool = senders(args.senders)
    rnd = random.Random(1)
    mails = []
    for i in range(total):
        sender = rnd.choice(pool)
        mails.append((sender[1], make_mail(len(pool) + i, sender, i % 3, tag=f"[probe {i}]")))
    before_data: dict[int, float] = {}
    scheduled: dict[int, float] = {}
    latencies: list[float] = []
    from_schedule: list[float] = []
    refused = 0
    try:
        wait_ready(f"{base}/healthz", proc)
        wait_smtp(smtp_port, proc)
        # Every sender writes once first, as in an inbox already running: the server's
        # statement caches and pool are warm, and the contacts and threads exist.
        warm = [(s[1], make_mail(i, s, i % 3)) for i, s in enumerate(pool)]
        await fire(smtp_port, warm, 8, 10)
        await asyncio.sleep(1)
        clients: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        used: set[int] = set()
        for _ in range(args.connections):
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port, timeout=60)
            await client.connect()
            clients.put_nowait(client)
        async with websockets.connect(f"ws://127.0.0.1:{http_port}/api/v1/ws?token={token}") as ws:
            assert json.loads(await ws.recv())["type"] == "hello"

            async def listen() -> None:
                while len(latencies) < total - refused:
                    event = json.loads(await ws.recv())
                    if event.get("type") != "message.created":
                        continue
                    now = time.perf_counter()
                    found = PROBE.search(event["data"]["message"].get("subject") or "")
                    if found and int(found[1]) in before_data:
                        i = int(found[1])
                        latencies.append(now - before_data.pop(i))
                        from_schedule.append(now - scheduled.pop(i))

            async def one(i: int) -> None:
                nonlocal refused
                sender, raw = mails[i]
                client = await clients.get()
                try:
                    if id(client) in used:
                        await client.rset()
                    used.add(id(client))
                    await client.mail(sender)
                    await client.rcpt(MAILBOX)
                    before_data[i] = time.perf_counter()
                    await client.data(raw)
                except aiosmtplib.SMTPException as e:
                    refused += 1
                    before_data.pop(i, None)
                    print(f"    refused: {e}")
                finally:
                    clients.put_nowait(client)

            # The harness's own garbage collector must not pause it mid-measurement (see
            # bench/sms/latency.py).
            gc.collect()
            gc.freeze()
            listener = asyncio.create_task(listen())
            start = time.perf_counter()
            tasks = []
            for i in range(total):
                # Open loop: mails leave on schedule whether or not earlier ones are done.
                at = start + i / args.rate
                delay = at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                scheduled[i] = at
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
            try:
                await asyncio.wait_for(listener, timeout=30)
            except TimeoutError:
                listener.cancel()
        while not clients.empty():
            await clients.get_nowait().quit()
    finally:
        proc.terminate()
        proc.wait(20)
    print(
        f"{total} mails at {args.rate:.0f}/s over {args.connections} connections: "
        f"{total - refused} accepted, {len(latencies)} seen on the socket"
    )
    out: dict[str, Any] = {"sent": total, "refused": refused}
    for name, values in (("from_data", latencies), ("from_schedule", from_schedule)):
        if values:
            q = quantiles(values)
            out[name] = q
            print(
                f"{name.replace('_', ' '):>14} → agent socket: p50 {q['p50_ms']:.1f} ms, "
                f"p95 {q['p95_ms']:.1f} ms, p99 {q['p99_ms']:.1f} ms, max {q['max_ms']:.1f} ms"
            )
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1:5432")
    parser.add_argument("--rate", type=float, default=20.0, help="mails a second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--connections", type=int, default=4, help="persistent SMTP connections")
    parser.add_argument("--label", help="the results file's name (default: by database)")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "bench": "email-latency",
        "args": vars(args),
        "code": describe_app(ROOT),
        "loadavg_before": os.getloadavg(),
    }
    async with throwaway_database(args.postgres) as (kind, url):
        results["database"] = kind
        results.update(await run(url, args))
    results["loadavg_after"] = os.getloadavg()
    save(results, args.label or f"email-latency-{results['database']}")


if __name__ == "__main__":
    asyncio.run(main())
