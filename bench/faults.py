"""Mixed load through a PostgreSQL restart and a Redis restart, and what it cost.

Two `parlour serve` processes (one with the worker, one without) on a private PostgreSQL
cluster and a private Redis (tests/services.py), an agent's socket on the second process,
and a client sending texts (each with an Idempotency-Key) and reading the panel through
the first, ten times a second. PostgreSQL is stopped for 10 s, then Redis for 10 s. It
prints the answers by status, the writes answered non-2xx but stored, messages sent twice
or left unsent, events missed, doubled or out of order on the socket, how soon requests
worked again, and the slowest send-to-"sent" times seen on the socket.

    uv run python -m bench.faults [--outage 10]

Traffic goes to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import websockets

from tests.services import PostgresServer, RedisServer, Serve, parlour


async def run(outage: float) -> None:
    pg, redis = PostgresServer(), RedisServer()
    pg.start()
    redis.start()
    env = {
        **os.environ,
        "PARLOUR_DATABASE_URL": pg.url,
        "PARLOUR_REDIS_URL": redis.url,
        "PARLOUR_LOG_LEVEL": "warning",
        "PARLOUR_WORKER_POLL_SECONDS": "0.5",
    }
    a = Serve(env)
    a.wait_up()
    b = Serve(env, "--no-worker")
    b.wait_up()
    try:
        await _load(a, b, env, pg, redis, outage)
    finally:
        for server in (a, b):
            log = server.output()
            print(
                f"--- {server.base}: {len(log.splitlines())} log lines, "
                f"{log.count('Traceback')} tracebacks"
            )
            server.stop()
        redis.stop()
        pg.remove()


async def _load(
    a: Serve, b: Serve, env: dict[str, str], pg: PostgresServer, redis: RedisServer, outage: float
) -> None:
    email = "faults@example.com"
    parlour(
        *("user", "create", "--email", email, "--password", "through the outage"),
        *("--role", "admin", "--account", "Faults"),
        env=env,
    )
    token = parlour("token", "create", "--email", email, env=env)
    answers: collections.Counter[str] = collections.Counter()
    refused: list[str] = []
    created: dict[int, float] = {}
    events: list[tuple[float, dict[str, Any]]] = []
    recovered: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=a.base, headers=headers, timeout=20) as api:
        await api.post("/api/v1/phone-numbers", json={"number": "+16505551234"})
        contact = await api.post(
            "/api/v1/contacts", json={"name": "Faults", "phones": [{"number": "+16505550199"}]}
        )
        conv = (await api.post(f"/api/v1/contacts/{contact.json()['id']}/conversation")).json()
        url = f"/api/v1/conversations/{conv['id']}/messages"

        async def listen() -> None:
            while True:
                with contextlib.suppress(Exception):
                    ws_url = f"ws://127.0.0.1:{b.port}/api/v1/ws?token={token}"
                    async with websockets.connect(ws_url) as ws:
                        async for raw in ws:
                            events.append((time.monotonic(), json.loads(raw)))
                await asyncio.sleep(0.2)

        stop = asyncio.Event()

        async def load() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                body = f"text {i}"
                key = {"Idempotency-Key": str(uuid.uuid4())}
                try:
                    r = await api.post(url, json={"channel": "sms", "body": body}, headers=key)
                    answers[f"POST {r.status_code}"] += 1
                    if r.status_code == 201:
                        created[r.json()["id"]] = time.monotonic()
                    else:
                        refused.append(body)
                    r = await api.get("/api/v1/conversations")
                    answers[f"GET {r.status_code}"] += 1
                    if r.status_code == 200 and "outage" in recovered:
                        recovered.setdefault("database", time.monotonic())
                except httpx.HTTPError as exc:
                    answers[type(exc).__name__] += 1
                    refused.append(body)
                await asyncio.sleep(0.1)

        listener = asyncio.create_task(listen())
        loader = asyncio.create_task(load())
        await asyncio.sleep(3)
        pg.stop()
        await asyncio.sleep(outage)
        pg.start()
        recovered["outage"] = pg_back = time.monotonic()
        await asyncio.sleep(5)
        redis.stop()
        await asyncio.sleep(outage)
        redis.start()
        redis_back = time.monotonic()
        await asyncio.sleep(8)
        stop.set()
        await loader
        await asyncio.sleep(8)
        thread = (await api.get(url, params={"limit": 200})).json()["items"]
        listener.cancel()

    bodies = collections.Counter(m["body"] for m in thread)
    seqs = [e["seq"] for _, e in events if e.get("seq")]
    sent_at: dict[int, float] = {}
    for at, e in events:
        if e["type"] == "message.updated" and e["data"]["message"]["status"] in (
            "sent",
            "delivered",
        ):
            sent_at.setdefault(e["data"]["message"]["id"], at)
    slowest = sorted(sent_at.get(i, float("inf")) - t for i, t in created.items())[-5:]
    caught_up = min((at for at, _ in events if at > redis_back), default=float("nan"))
    print("answers:", dict(sorted(answers.items())))
    print("writes answered non-2xx but stored:", sum(1 for b_ in refused if b_ in bodies))
    print("messages sent twice:", sum(1 for n in bodies.values() if n > 1))
    print("messages not sent:", sum(1 for m in thread if m["status"] not in ("sent", "delivered")))
    print(
        f"events: {len(seqs)}, doubled {len(seqs) - len(set(seqs))}, "
        f"in order {seqs == sorted(seqs)}, "
        f"missed {len(set(range(min(seqs), max(seqs) + 1)) - set(seqs)) if seqs else 0}"
    )
    print(
        f"requests worked again {recovered.get('database', float('nan')) - pg_back:.2f} s "
        "after PostgreSQL returned"
    )
    print(f"the socket heard again {caught_up - redis_back:.2f} s after Redis returned")
    print(
        "slowest send-to-sent seen on the socket (s; an outage holds the events back):",
        [round(s, 2) for s in slowest],
    )
    recorded = sorted(
        (
            datetime.fromisoformat(m["updated_at"]) - datetime.fromisoformat(m["created_at"])
        ).total_seconds()
        for m in thread
    )
    print("slowest queued-to-recorded in the database (s):", [round(s, 2) for s in recorded[-5:]])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outage", type=float, default=10.0, help="seconds each server is down")
    asyncio.run(run(parser.parse_args().outage))


if __name__ == "__main__":
    main()
