"""Web chat both ways, at a steady rate (open loop), through one `parlour serve` process:
how long from a visitor's ``POST /widget/v1/messages`` to the ``message.created`` event on
an agent's WebSocket, and from the agent's ``POST /api/v1/conversations/{id}/messages``
(channel "webchat") to the ``{"type": "message"}`` frame on that visitor's socket.

    uv run python -m bench.widget.latency                 # SQLite, 10 messages/s each way for 30 s
    uv run python -m bench.widget.latency --postgres --rate 10 --seconds 30

50 visitors (``--visitors``) of one widget (allowed_origins empty; an Origin header is sent
anyway), each with its token, its own HTTP client and an open visitor socket; one agent
socket. Each visitor writes once first (not measured): their contacts and threads exist,
and the agent learns each one's conversation. Then visitor messages and agent replies
leave on schedule, interleaved, each to/from the next visitor in turn. Every message is
checked to arrive exactly once, and each reply on its own visitor's socket only.

The widget's limits are per address (60 requests per 10 s): each visitor speaks from its
own loopback address (127.0.1.x), as visitors do from their own machines. Traffic goes to
127.0.0.0/8 only and stops by itself. The raw numbers go to
bench/results/widget-latency-<database>.json (with the commit and load average).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import websockets

from bench.email.latency import quantiles
from bench.email.receiver import save
from bench.run import ROOT, describe_app
from bench.sms.latency import agent_token
from bench.sms.webhooks import SECRET, free_port, run_server, throwaway_database
from parlour.accounts import service as accounts_service
from parlour.channels.webchat import visitors as visitors_service
from parlour.channels.webchat.models import Widget
from parlour.config import Settings
from parlour.db.engine import make_database
from parlour.db.migrate import migrate
from parlour.db.tx import transaction
from parlour.realtime.hub import make_hub

ORIGIN = "https://shop.bench.example"
PUBLIC_TOKEN = "bench-widget"


def source(i: int, per_address: int = 1) -> str:
    """The loopback address visitor ``i`` speaks from (``per_address`` visitors each)."""
    k = i // per_address
    return f"127.{1 + k // 62500}.{1 + k // 250 % 250}.{1 + k % 250}"


async def prepare(database_url: str, count: int) -> list[str]:
    """Migrates, makes the account, its widget and ``count`` anonymous visitors; returns
    their tokens (signed as ``POST /widget/v1/{token}/visitors`` signs them)."""
    await migrate(database_url)
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    db, hub = make_database(settings), make_hub(settings)
    async with transaction(db, hub) as tx:
        acct = await accounts_service.get_or_create_account(tx, name="Bench")
        widget = Widget(
            account_id=acct.id,
            name="bench.example",
            public_token=PUBLIC_TOKEN,
            enabled=True,
            allowed_origins=[],
            identity_secret="bench-identity",
        )
        tx.session.add(widget)
        await tx.session.flush()
        people = [visitors_service.new_visitor(widget) for _ in range(count)]
        tx.session.add_all(people)
        await tx.session.flush()
        tokens = [
            visitors_service.encode_token(SECRET, visitors_service.claims_for(v)) for v in people
        ]
        await tx.commit()
    await db.dispose()
    return tokens


def server_env(database_url: str, base: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")},
        "PARLOUR_DATABASE_URL": database_url,
        "PARLOUR_SECRET_KEY": SECRET,
        "PARLOUR_PUBLIC_URL": base,
        "PARLOUR_LOG_LEVEL": "warning",
    }


async def run(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    tokens = await prepare(database_url, args.visitors)
    agent = await agent_token(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = run_server(
        [sys.executable, "-m", "parlour.cli", "serve", "--port", str(port)],
        server_env(database_url, base),
        f"{base}/healthz",
    )
    n = args.visitors
    total = int(args.rate * args.seconds)
    sent_in: dict[str, float] = {}  # visitor → agent, by body
    sent_out: dict[str, tuple[float, int]] = {}  # agent → visitor, by body: (t, visitor)
    lat_in: list[float] = []
    lat_out: list[float] = []
    seen_in: Counter[str] = Counter()
    seen_out: Counter[str] = Counter()
    wrong_visitor = 0
    statuses: Counter[int] = Counter()
    conversation: dict[int, int] = {}  # visitor index → conversation id
    clients = [
        httpx.AsyncClient(
            base_url=base,
            timeout=30,
            transport=httpx.AsyncHTTPTransport(local_address=source(i)),
            headers={"Authorization": f"Bearer {tokens[i]}", "Origin": ORIGIN},
        )
        for i in range(n)
    ]
    agent_http = httpx.AsyncClient(
        base_url=base, timeout=30, headers={"Authorization": f"Bearer {agent}"}
    )
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/ws?token={agent}") as aws:
            assert json.loads(await aws.recv())["type"] == "hello"
            sockets = []
            for i in range(n):
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/widget/v1/ws?token={tokens[i]}",
                    origin=ORIGIN,  # type: ignore[arg-type]
                    local_addr=(source(i), 0),
                )
                hello = json.loads(await ws.recv())
                assert hello["type"] == "hello", hello
                sockets.append(ws)

            async def agent_listen() -> None:
                while True:
                    event = json.loads(await aws.recv())
                    if event.get("type") != "message.created":
                        continue
                    now = time.perf_counter()
                    m = event["data"]["message"]
                    body = m.get("body") or ""
                    if body.startswith("warm "):
                        conversation[int(body.split()[1])] = m["conversation_id"]
                    elif body.startswith("v2a "):
                        seen_in[body] += 1
                        if seen_in[body] == 1 and body in sent_in:
                            lat_in.append(now - sent_in[body])

            async def visitor_listen(i: int) -> None:
                nonlocal wrong_visitor
                async for raw in sockets[i]:
                    frame = json.loads(raw)
                    if frame.get("type") != "message":
                        continue
                    now = time.perf_counter()
                    body = frame["message"].get("body") or ""
                    if not body.startswith("a2v "):
                        continue
                    seen_out[body] += 1
                    t, owner = sent_out.get(body, (0.0, -1))
                    if owner != i:
                        wrong_visitor += 1
                    elif seen_out[body] == 1:
                        lat_out.append(now - t)

            listeners = [asyncio.create_task(agent_listen())] + [
                asyncio.create_task(visitor_listen(i)) for i in range(n)
            ]
            # Every visitor writes once first (their contact and thread are made), so that
            # the agent knows each conversation and the server's caches are warm.
            sem = asyncio.Semaphore(8)

            async def warm(i: int) -> None:
                async with sem:
                    r = await clients[i].post("/widget/v1/messages", json={"body": f"warm {i}"})
                    assert r.status_code == 201, r.text

            await asyncio.gather(*(warm(i) for i in range(n)))
            deadline = time.monotonic() + 20
            while len(conversation) < n and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            assert len(conversation) == n, f"{len(conversation)} of {n} conversations seen"
            for i in range(n):  # one reply each, unmeasured: the reply path is warm too
                r = await agent_http.post(
                    f"/api/v1/conversations/{conversation[i]}/messages",
                    json={"channel": "webchat", "body": f"reply to warm-up {i}"},
                )
                assert r.status_code in (200, 201), r.text
            await asyncio.sleep(1)

            async def visitor_says(j: int) -> None:
                body = f"v2a {j} {uuid.uuid4().hex[:6]}"
                sent_in[body] = time.perf_counter()
                r = await clients[j % n].post("/widget/v1/messages", json={"body": body})
                statuses[r.status_code] += 1

            async def agent_says(j: int) -> None:
                i = (j * 7 + 3) % n
                body = f"a2v {j} {uuid.uuid4().hex[:6]}"
                sent_out[body] = (time.perf_counter(), i)
                r = await agent_http.post(
                    f"/api/v1/conversations/{conversation[i]}/messages",
                    json={"channel": "webchat", "body": body},
                )
                statuses[r.status_code] += 1

            # The harness's own garbage collector must not pause it mid-measurement (see
            # bench/sms/latency.py).
            gc.collect()
            gc.freeze()
            start = time.perf_counter()
            tasks = []
            for j in range(total):
                # Open loop: both directions leave on schedule, half a period apart.
                for at, send in ((start + j / args.rate, visitor_says), (None, agent_says)):
                    if at is None:
                        at = start + (j + 0.5) / args.rate
                    delay = at - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(send(j)))
            await asyncio.gather(*tasks)
            deadline = time.monotonic() + 15
            missing = lambda: len(seen_in) < total or len(seen_out) < total  # noqa: E731
            while missing() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            await asyncio.sleep(2)  # time for any doubled delivery to show
            for t in listeners:
                t.cancel()
            for ws in sockets:
                await ws.close()
    finally:
        for c in clients:
            await c.aclose()
        await agent_http.aclose()
        proc.terminate()
        proc.wait(20)
    doubled_in = sum(c - 1 for c in seen_in.values())
    doubled_out = sum(c - 1 for c in seen_out.values())
    print(
        f"{n} visitors, {total} messages each way at {args.rate:.0f}/s: statuses "
        f"{dict(statuses)}; visitor → agent {len(seen_in)} seen, {doubled_in} doubled; "
        f"agent → visitor {len(seen_out)} seen, {doubled_out} doubled, "
        f"{wrong_visitor} on another visitor's socket"
    )
    out: dict[str, Any] = {
        "visitors": n,
        "sent_each_way": total,
        "statuses": dict(statuses),
        "visitor_to_agent_seen": len(seen_in),
        "visitor_to_agent_doubled": doubled_in,
        "agent_to_visitor_seen": len(seen_out),
        "agent_to_visitor_doubled": doubled_out,
        "agent_to_visitor_wrong_socket": wrong_visitor,
    }
    for name, values in (("visitor_to_agent", lat_in), ("agent_to_visitor", lat_out)):
        if values:
            q = quantiles(values)
            out[name] = q
            print(
                f"{name.replace('_', ' '):>17}: p50 {q['p50_ms']:.1f} ms, "
                f"p95 {q['p95_ms']:.1f} ms, "
                f"p99 {q['p99_ms']:.1f} ms, max {q['max_ms']:.1f} ms"
            )
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1:5432")
    parser.add_argument("--rate", type=float, default=10.0, help="messages a second, each way")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--label", help="the results file's name (default: by database)")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "bench": "widget-latency",
        "args": vars(args),
        "code": describe_app(ROOT),
        "loadavg_before": os.getloadavg(),
    }
    async with throwaway_database(args.postgres) as (kind, url):
        results["database"] = kind
        results.update(await run(url, args))
    results["loadavg_after"] = os.getloadavg()
    save(results, args.label or f"widget-latency-{results['database']}")


if __name__ == "__main__":
    asyncio.run(main())
