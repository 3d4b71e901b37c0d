"""Inbound SMS to the agent's WebSocket: how long from Twilio's webhook request to the
``message.created`` event on an agent's socket, at a steady rate (open loop).

    uv run python -m bench.sms.latency                  # SQLite, 100 messages/s for 10 s
    uv run python -m bench.sms.latency --postgres --rate 100 --seconds 10
    uv run python -m bench.sms.latency --new-senders    # every sender new, server warmed up
    uv run python -m bench.sms.latency --cold           # every sender new, no warm-up at all
    uv run python -m bench.sms.latency --cold --no-server-warm-up   # nor the server's own

Traffic goes to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import websockets

from bench.sms.webhooks import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    COMPANY,
    SECRET,
    free_port,
    pg_admin,
    prepare_parlour,
    run_server,
)
from parlour.accounts import service as accounts_service
from parlour.config import Settings
from parlour.db.engine import make_database
from parlour.db.tx import transaction
from parlour.realtime.hub import make_hub
from tests.fakes.twilio import inbound_params, sid, sign


async def agent_token(database_url: str) -> str:
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    db, hub = make_database(settings), make_hub(settings)
    async with transaction(db, hub) as tx:
        acct = await accounts_service.get_or_create_account(tx, name="Bench")
        user = await accounts_service.create_user(
            tx,
            account_id=acct.id,
            email=f"agent-{uuid.uuid4().hex[:8]}@example.com",
            name="Agent",
            password="bench-password",
            role="agent",
        )
        token = (await accounts_service.create_api_token(tx, user=user, name="bench")).token
        await tx.commit()
    await db.dispose()
    return token


async def watch_lag(lags: list[float]) -> None:
    """How late a 10 ms sleep of this harness wakes: a harness short of CPU answers late
    itself, and would count that against the server."""
    while True:
        t0 = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - t0 - 0.01)


# Settings of the measured server, from the command line.
SERVER_ENV: dict[str, str] = {}


async def run(database_url: str, rate: float, seconds: float, senders: int, warmup: str) -> None:
    """``warmup``: "senders" (every measured sender texts once first), "server" (other
    senders text first: the measured ones are new), or "none" (a server just started)."""
    await prepare_parlour(database_url)
    token = await agent_token(database_url)
    if database_url.startswith("postgresql"):
        # Creating this run's database and dropping the last one wrote a lot: without a
        # checkpoint now, PostgreSQL's own comes during the run, and its writes slowed
        # every COMMIT's fsync for seconds (the first texts then waited 3 s, one run in two).
        await pg_admin("CHECKPOINT")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")},
        "PARLOUR_DATABASE_URL": database_url,
        "PARLOUR_SECRET_KEY": SECRET,
        "PARLOUR_PUBLIC_URL": base,
        "PARLOUR_LOG_LEVEL": "warning",
        **SERVER_ENV,
    }
    proc = run_server(
        [sys.executable, "-m", "parlour.cli", "serve", "--port", str(port)], env, f"{base}/healthz"
    )
    total = int(rate * seconds)
    pool = [f"+1650{n:03d}{n:04d}"[:12] for n in range(200, 200 + senders)]
    others = [f"+1651{n:03d}{n:04d}"[:12] for n in range(200, 200 + senders)]
    warm_from = {"senders": pool, "server": others, "none": []}[warmup]
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    # The same, by the second of the run the text was sent in: the first second of a
    # server that just started is what a rolling restart costs.
    by_second: dict[int, list[float]] = defaultdict(list)
    start = time.perf_counter()
    statuses: list[int] = []
    answered: list[float] = []  # the webhook's own answer
    lags: list[float] = []  # how late this harness's own event loop ran
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/ws?token={token}") as ws:
            assert json.loads(await ws.recv())["type"] == "hello"

            async def listen() -> None:
                while len(latencies) < total:
                    event = json.loads(await ws.recv())
                    if event.get("type") != "message.created":
                        continue
                    body = event["data"]["message"]["body"]
                    if body in sent_at:
                        at = sent_at.pop(body)
                        latencies.append(time.perf_counter() - at)
                        by_second[int(at - start)].append(latencies[-1])

            async with httpx.AsyncClient(base_url=base, timeout=30) as client:

                async def one(i: int) -> None:
                    body = f"latency probe {i} {uuid.uuid4().hex[:6]}"
                    params = inbound_params(
                        account_sid=ACCOUNT_SID,
                        from_=pool[i % len(pool)],
                        to=COMPANY,
                        body=body,
                        message_sid=sid("SM"),
                    )
                    signature = sign(AUTH_TOKEN, f"{base}/webhooks/twilio/sms", params)
                    sent_at[body] = posted = time.perf_counter()
                    r = await client.post(
                        "/webhooks/twilio/sms",
                        data=params,
                        headers={"X-Twilio-Signature": signature},
                    )
                    statuses.append(r.status_code)
                    answered.append(time.perf_counter() - posted)

                if warm_from:
                    # Texts first, as in an inbox already running: the server's statement
                    # caches and connection pool are warm and, unless the measured senders
                    # are to be new, their contacts and threads exist. Not measured.
                    sem = asyncio.Semaphore(16)

                    async def warm(n: int) -> None:
                        async with sem:
                            params = inbound_params(
                                account_sid=ACCOUNT_SID,
                                from_=warm_from[n],
                                to=COMPANY,
                                body=f"warm-up {n}",
                                message_sid=sid("SM"),
                            )
                            await client.post(
                                "/webhooks/twilio/sms",
                                data=params,
                                headers={
                                    "X-Twilio-Signature": sign(
                                        AUTH_TOKEN, f"{base}/webhooks/twilio/sms", params
                                    )
                                },
                            )

                    await asyncio.gather(*(warm(n) for n in range(len(warm_from))))
                    await asyncio.sleep(1)

                # The harness's own garbage collector must not pause it mid-measurement: a
                # full collection of its heap (it imports all of Parlour) held its event
                # loop for ~100 ms once a run, delaying every answer then in flight, on
                # SQLite and PostgreSQL alike (the answers came late, together).
                gc.collect()
                gc.freeze()
                listener = asyncio.create_task(listen())
                lag_task = asyncio.create_task(watch_lag(lags))
                start = time.perf_counter()
                tasks = []
                for i in range(total):
                    # Open loop: requests leave on schedule whether or not earlier ones are done.
                    delay = start + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(one(i)))
                await asyncio.gather(*tasks)
                lag_task.cancel()
                try:
                    await asyncio.wait_for(listener, timeout=30)
                except TimeoutError:
                    listener.cancel()
    finally:
        proc.terminate()
        proc.wait(20)
    latencies.sort()
    ok = sum(1 for s in statuses if s == 200)
    print(f"{total} texts at {rate:.0f}/s: {ok} answered 200, {len(latencies)} seen on the socket")
    if latencies:
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
        print(f"webhook → agent socket: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        lags.sort()
        print(
            f"harness loop lag: p50 {statistics.median(lags or [0]) * 1000:.1f} ms,"
            f" max {(lags or [0])[-1] * 1000:.1f} ms"
        )
        answered.sort()
        print(
            f"webhook answered in: p50 {statistics.median(answered) * 1000:.1f} ms,"
            f" p99 {answered[max(0, int(len(answered) * 0.99) - 1)] * 1000:.1f} ms"
        )
        for second, values in sorted(by_second.items()):
            values.sort()
            worst = values[max(0, int(len(values) * 0.99) - 1)] * 1000
            print(
                f"  sent in second {second + 1}: p50 {statistics.median(values) * 1000:.1f} ms,"
                f" p99 {worst:.1f} ms, max {values[-1] * 1000:.1f} ms"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument(
        "--new-senders",
        action="store_true",
        help="every measured sender new (the server warmed up by others)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="measure from the server's first text, every sender new (no warm-up)",
    )
    parser.add_argument(
        "--no-server-warm-up",
        action="store_true",
        help="PARLOUR_WARM_UP=false: the server is ready before running its busiest paths",
    )
    args = parser.parse_args()
    if args.no_server_warm_up:
        SERVER_ENV["PARLOUR_WARM_UP"] = "false"
    warmup = "none" if args.cold else "server" if args.new_senders else "senders"
    if args.postgres:
        name = f"parlour_bench_{uuid.uuid4().hex[:8]}"
        await pg_admin(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL")
            await run(
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
                args.rate,
                args.seconds,
                args.senders,
                warmup,
            )
        finally:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite")
            await run(
                f"sqlite+aiosqlite:///{Path(tmp) / 'parlour.db'}",
                args.rate,
                args.seconds,
                args.senders,
                warmup,
            )


if __name__ == "__main__":
    asyncio.run(main())
