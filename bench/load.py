"""Many agents at once: ``bench/run.py load``.

N concurrent clients, each a closed loop (a request, its answer, the next request), doing
what agents do (``MIX``: panel pages, searches, thread pages, sends, marking read), while
Twilio webhooks bring texts in at ``--inbound-rate`` per second (open loop: on schedule,
whatever the answers' speed). All on this machine, as is the client: one Python process
with httpx, the same client that is then pointed at the bare Starlette baseline (as many
processes as Parlour has web processes), so the throughputs compare.

    # (a) one process on SQLite (its worker inside)
    uv run python bench/run.py load --database-url sqlite+aiosqlite:////tmp/bench/big.db
    # (b) PostgreSQL + Redis: a web process per core, and a `parlour worker` per core
    uv run python bench/run.py load --database-url postgresql+asyncpg://postgres@127.0.0.1/big \\
        --redis-url redis://127.0.0.1:6379/0 --web 2 --workers 2

With several web processes the client spreads its connections over them, as a load
balancer would. The database must be seeded (``parlour seed``); the texts go to an account
of their own ("Load", created on first use) so the seeded inbox keeps its shape.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select, text

from bench.run import (
    NAME_FRAGMENTS,
    SEED_ADMIN,
    Server,
    baseline_server,
    free_port,
    percentile,
    redact,
)
from bench.sms.webhooks import add_twilio_number
from parlour.accounts import service as accounts_service
from parlour.channels.sms.models import PhoneNumber
from parlour.config import Settings
from parlour.db.engine import make_database
from parlour.db.tx import transaction
from parlour.realtime.hub import make_hub
from tests.fakes.twilio import inbound_params, sid, sign

SECRET = "bench-load-secret"
TWILIO_SID = "AC" + "d" * 32
TWILIO_TOKEN = "e" * 32
COMPANY = "+14155550190"
LOAD_ACCOUNT = "Load"

# What an agent does, and how often (weights). Reads are the GETs; "send" and "mark read"
# write.
MIX: dict[str, int] = {
    "panel: first page": 25,
    "panel: next page": 8,
    "panel search": 8,
    "contacts search": 4,
    "thread: newest 50": 30,
    "send": 10,
    "mark read": 15,
}
WRITES = frozenset({"send", "mark read", "inbound text"})


@dataclass
class Targets:
    tokens: list[str]
    conversations: list[int]
    cursors: list[str] = field(default_factory=list)


@dataclass
class Tally:
    """Latencies (ms) and failures by request kind, for one measured window."""

    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)
    on: bool = False

    def add(self, kind: str, ms: float, status: int, body: str) -> None:
        if not self.on:
            return
        self.ms[kind].append(ms)
        if status >= 400 or status == 0:  # 0: no answer (the connection failed)
            self.failed[kind] += 1
            if len(self.examples) < 5:
                self.examples.append(f"{kind}: {status} {body[:160]}")

    def result(self, seconds: float) -> dict[str, Any]:
        rows: dict[str, Any] = {}
        for kind, values in sorted(self.ms.items()):
            values.sort()
            rows[kind] = {
                "n": len(values),
                "per_s": len(values) / seconds,
                "p50": percentile(values, 50),
                "p95": percentile(values, 95),
                "p99": percentile(values, 99),
                "failed": self.failed.get(kind, 0),
            }
        agents = sum(len(v) for k, v in self.ms.items() if k != "inbound text")
        return {"seconds": seconds, "agent_requests_per_s": agents / seconds, "rows": rows}


# --- setting up ------------------------------------------------------------------------


async def prepare(database_url: str, agents: int) -> Targets:
    """The load account's Twilio number (once), ``agents`` agent tokens in the seeded
    account, and the seeded conversations the agents will open."""
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    db, hub = make_database(settings), make_hub(settings)
    try:
        async with transaction(db, hub) as tx:
            load = await accounts_service.get_or_create_account(tx, name=LOAD_ACCOUNT)
            if not await tx.session.scalar(
                select(PhoneNumber.id).where(PhoneNumber.e164 == COMPANY)
            ):
                await add_twilio_number(
                    tx,
                    account_id=load.id,
                    secret=SECRET,
                    account_sid=TWILIO_SID,
                    auth_token=TWILIO_TOKEN,
                    e164=COMPANY,
                )
            seeded = await tx.session.scalar(
                text("SELECT account_id FROM users WHERE email = :e").bindparams(e=SEED_ADMIN)
            )
            if seeded is None:
                raise SystemExit("Seed the database first (parlour seed).")
            tokens = []
            for _ in range(agents):
                user = await accounts_service.create_user(
                    tx,
                    account_id=seeded,
                    email=f"load-{uuid.uuid4().hex[:10]}@example.com",
                    name="Load Agent",
                    password=uuid.uuid4().hex,
                    role="agent",
                )
                made = await accounts_service.create_api_token(tx, user=user, name="load")
                tokens.append(made.token)
            # Conversations spread over the whole inbox, not only the newest.
            rows = await tx.session.execute(
                text(
                    "SELECT id FROM conversations WHERE account_id = :a"
                    " AND last_message_at IS NOT NULL ORDER BY id"
                ).bindparams(a=seeded)
            )
            ids = [r[0] for r in rows]
            await tx.commit()
    finally:
        await db.dispose()
    rng = random.Random(7)
    return Targets(tokens=tokens, conversations=rng.sample(ids, min(5000, len(ids))))


def web_env(args: argparse.Namespace, public_url: str) -> dict[str, str]:
    env = {
        "PARLOUR_DATABASE_URL": args.database_url,
        "PARLOUR_SECRET_KEY": SECRET,
        "PARLOUR_PUBLIC_URL": public_url,
        "PARLOUR_LOG_LEVEL": "warning",
        "PARLOUR_IMAP_POLL": "false",
    }
    if args.redis_url:
        env["PARLOUR_REDIS_URL"] = args.redis_url
    return env


def start_parlour(args: argparse.Namespace) -> tuple[list[Server], list[Server]]:
    """The web processes (the first one's URL is the public URL the texts are signed
    for) and, with ``--workers``, the `parlour worker` processes."""
    ports = [free_port() for _ in range(args.web)]
    public = f"http://127.0.0.1:{ports[0]}"
    no_worker = ["--no-worker"] if args.workers else []
    web = [
        Server(
            name=f"load-web-{i}",
            cmd=["uv", "run", "parlour", "serve", "--port", str(port), *no_worker],
            port=port,
            env=web_env(args, public),
        )
        for i, port in enumerate(ports)
    ]
    workers = [
        Server(name=f"load-worker-{i}", cmd=["uv", "run", "parlour", "worker"], port=0)
        for i in range(args.workers)
    ]
    for server in web:
        server.start("/readyz")
    for w in workers:
        w.env = web_env(args, public)
        w.start_background()
    return web, workers


# --- the clients -----------------------------------------------------------------------


class Agents:
    """The agents' closed loops and the texts' open loop, over the web processes."""

    def __init__(self, bases: list[str], targets: Targets, tally: Tally, seed: int) -> None:
        self.bases, self.targets, self.tally = bases, targets, tally
        self.rng = random.Random(seed)
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]
        self.senders = [f"+1650{self.rng.randint(200, 999)}{n:04d}" for n in range(400)]

    def client(self, i: int, limits: int) -> httpx.AsyncClient:
        token = self.targets.tokens[i % len(self.targets.tokens)]
        return httpx.AsyncClient(
            base_url=self.bases[i % len(self.bases)],
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            limits=httpx.Limits(max_connections=limits, max_keepalive_connections=limits),
        )

    async def agent(self, c: httpx.AsyncClient, stop: asyncio.Event) -> None:
        rng = random.Random(self.rng.random())
        while not stop.is_set():
            kind = rng.choices(self.kinds, self.weights)[0]
            conv = rng.choice(self.targets.conversations)
            t0 = time.perf_counter()
            try:
                resp = await self._request(c, kind, conv, rng)
            except httpx.HTTPError as exc:
                self.tally.add(kind, (time.perf_counter() - t0) * 1000, 0, repr(exc))
                continue
            self.tally.add(kind, (time.perf_counter() - t0) * 1000, resp.status_code, resp.text)

    async def _request(
        self, c: httpx.AsyncClient, kind: str, conv: int, rng: random.Random
    ) -> httpx.Response:
        panel = "/api/v1/conversations?view=all&limit=50"
        if kind == "panel: first page":
            return await c.get(panel)
        if kind == "panel: next page":
            cursor = rng.choice(self.targets.cursors)
            return await c.get(panel, params={"cursor": cursor})
        if kind == "panel search":
            return await c.get(panel, params={"q": rng.choice(NAME_FRAGMENTS)})
        if kind == "contacts search":
            q = {"q": rng.choice(NAME_FRAGMENTS)}
            return await c.get("/api/v1/contacts?limit=50", params=q)
        if kind == "thread: newest 50":
            return await c.get(f"/api/v1/conversations/{conv}/messages?limit=50")
        if kind == "send":
            return await c.post(
                f"/api/v1/conversations/{conv}/messages",
                json={"channel": "sms", "body": "Thanks, we are on it. Anything else today?"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        return await c.post(f"/api/v1/conversations/{conv}/read")

    async def texts(self, c: httpx.AsyncClient, rate: float, stop: asyncio.Event) -> None:
        """Signed webhooks at ``rate`` per second, each on its own schedule."""
        url = f"{self.bases[0]}/webhooks/twilio/sms"  # what PARLOUR_PUBLIC_URL names
        pending: set[asyncio.Task[None]] = set()
        start = time.perf_counter()
        for n in itertools.count():
            if stop.is_set():
                break
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            params = inbound_params(
                account_sid=TWILIO_SID,
                from_=self.rng.choice(self.senders),
                to=COMPANY,
                body=f"Text {n}: is my order on its way?",
                message_sid=sid("SM"),
            )
            headers = {"X-Twilio-Signature": sign(TWILIO_TOKEN, url, params)}
            base = self.bases[n % len(self.bases)]
            task = asyncio.create_task(self._text(c, base, params, headers))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)

    async def _text(
        self, c: httpx.AsyncClient, base: str, params: dict[str, str], headers: dict[str, str]
    ) -> None:
        t0 = time.perf_counter()
        try:
            resp = await c.post(f"{base}/webhooks/twilio/sms", data=params, headers=headers)
        except httpx.HTTPError as exc:
            # Counted, not lost: a text Twilio could not deliver.
            self.tally.add("inbound text", (time.perf_counter() - t0) * 1000, 0, repr(exc))
            return
        self.tally.add("inbound text", (time.perf_counter() - t0) * 1000, resp.status_code, "")


async def closed_loops(
    n: int,
    make_client: Callable[[int], httpx.AsyncClient],
    loop: Callable[[httpx.AsyncClient, asyncio.Event], Awaitable[None]],
    tally: Tally,
    *,
    warmup: float,
    seconds: float,
    extra: Callable[[asyncio.Event], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """``n`` clients looping for ``warmup`` + ``seconds``, measured over the last
    ``seconds``."""
    stop = asyncio.Event()
    clients = [make_client(i) for i in range(n)]
    try:
        tasks = [asyncio.create_task(loop(c, stop)) for c in clients]
        if extra is not None:
            tasks.append(asyncio.create_task(extra(stop)))
        await asyncio.sleep(warmup)
        tally.on = True
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        tally.on = False
        measured = time.perf_counter() - t0
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        for c in clients:
            await c.aclose()
    return tally.result(measured)


async def run_parlour(args: argparse.Namespace, bases: list[str], targets: Targets) -> list[Any]:
    async with httpx.AsyncClient(
        base_url=bases[0], headers={"Authorization": f"Bearer {targets.tokens[0]}"}
    ) as c:
        page = (await c.get("/api/v1/conversations?view=all&limit=50")).json()
        while page["next_cursor"] and len(targets.cursors) < 10:
            targets.cursors.append(page["next_cursor"])
            cursor = {"cursor": page["next_cursor"]}
            page = (await c.get("/api/v1/conversations?view=all&limit=50", params=cursor)).json()
    out = []
    for n in args.clients:
        tally = Tally()
        agents = Agents(bases, targets, tally, seed=n)
        texts = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64))
        try:
            result = await closed_loops(
                n,
                lambda i, agents=agents, n=n: agents.client(i, 1),
                agents.agent,
                tally,
                warmup=args.warmup,
                seconds=args.seconds,
                extra=lambda stop, agents=agents, texts=texts: agents.texts(
                    texts, args.inbound_rate, stop
                ),
            )
        finally:
            await texts.aclose()
        result["clients"] = n
        result["errors"] = tally.examples
        out.append(result)
        print(table_row(f"parlour, {n} clients", result), flush=True)
    return out


async def run_baseline(args: argparse.Namespace, bases: list[str]) -> list[Any]:
    out = []
    for n in args.clients:
        tally = Tally()

        async def ping(c: httpx.AsyncClient, stop: asyncio.Event, tally: Tally = tally) -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                resp = await c.get("/ping")
                tally.add("baseline GET", (time.perf_counter() - t0) * 1000, resp.status_code, "")

        result = await closed_loops(
            n,
            lambda i: httpx.AsyncClient(base_url=bases[i % len(bases)], timeout=60),
            ping,
            tally,
            warmup=min(args.warmup, 2),
            seconds=args.seconds,
        )
        result["clients"] = n
        out.append(result)
        print(table_row(f"baseline, {n} clients", result), flush=True)
    return out


def table_row(label: str, result: dict[str, Any]) -> str:
    parts = [f"{label}: {result['agent_requests_per_s']:.0f} req/s"]
    for kind, row in result["rows"].items():
        parts.append(
            f"  {kind}: p50 {row['p50']:.1f} p95 {row['p95']:.1f} p99 {row['p99']:.1f} ms"
            + (f" FAILED {row['failed']}" if row["failed"] else "")
        )
    return "\n".join(parts)


def run_load(args: argparse.Namespace) -> dict[str, Any]:
    targets = asyncio.run(prepare(args.database_url, args.agents))
    results: dict[str, Any] = {
        "label": args.label,
        "database": redact(args.database_url),
        "redis": bool(args.redis_url),
        "web_processes": args.web,
        "worker_processes": args.workers,
        "inbound_rate": args.inbound_rate,
        "mix": MIX,
        "loadavg_before": os.getloadavg(),
    }
    web, workers = start_parlour(args)
    try:
        results["parlour"] = asyncio.run(run_parlour(args, [s.base_url for s in web], targets))
    finally:
        for server in [*web, *workers]:
            server.stop()
    base = [baseline_server(free_port()) for _ in range(args.web)]
    for i, server in enumerate(base):
        server.name = f"baseline-{i}"
        server.start("/ping")
    try:
        results["baseline"] = asyncio.run(run_baseline(args, [s.base_url for s in base]))
    finally:
        for server in base:
            server.stop()
    for ours, bare in zip(results["parlour"], results["baseline"], strict=True):
        ours["x_baseline_throughput"] = ours["agent_requests_per_s"] / bare["agent_requests_per_s"]
    results["loadavg_after"] = os.getloadavg()
    return results


def markdown(results: dict[str, Any]) -> str:
    """One table per client count: each kind's p50/p95/p99, then the throughputs."""
    lines = [
        f"{results['database']}, {results['web_processes']} web process(es), "
        f"{results['worker_processes']} worker process(es), Redis: {results['redis']}, "
        f"texts in at {results['inbound_rate']}/s",
        "",
        "| clients | kind | n | p50 ms | p95 ms | p99 ms | failed |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for ours, bare in zip(results["parlour"], results["baseline"], strict=True):
        for kind, row in ours["rows"].items():
            lines.append(
                f"| {ours['clients']} | {kind} | {row['n']} | {row['p50']:.1f} | "
                f"{row['p95']:.1f} | {row['p99']:.1f} | {row['failed']} |"
            )
        lines.append(
            f"| {ours['clients']} | **throughput** | | {ours['agent_requests_per_s']:.0f}/s | "
            f"bare {bare['agent_requests_per_s']:.0f}/s | "
            f"**{ours['x_baseline_throughput']:.2f} of it** | |"
        )
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    load = sub.add_parser("load", help="many agents at once, with texts coming in")
    load.add_argument("--database-url", required=True)
    load.add_argument("--redis-url")
    load.add_argument("--label", default="load")
    load.add_argument("--web", type=int, default=1, help="`parlour serve` processes")
    load.add_argument("--workers", type=int, default=0, help="`parlour worker` processes")
    load.add_argument(
        "--clients", type=lambda s: [int(x) for x in s.split(",")], default=[8, 32, 128]
    )
    load.add_argument("--agents", type=int, default=16, help="distinct agent users")
    load.add_argument("--inbound-rate", type=float, default=50.0, help="texts per second")
    load.add_argument("--warmup", type=float, default=5.0)
    load.add_argument("--seconds", type=float, default=20.0)
