"""Signed inbound Twilio webhooks per second on one `parlour serve` process, as a ratio of a
bare Starlette endpoint doing one INSERT, measured in the same run on the same database.

    uv run python -m bench.sms.webhooks                     # SQLite
    uv run python -m bench.sms.webhooks --postgres          # PostgreSQL at 127.0.0.1:5432

Every request is a real Twilio "A message comes in" webhook with all its fields, signed as
Twilio signs it (the SDK's RequestValidator), from a pool of senders so that most find an
existing contact and thread. Signing happens before the clock starts. Traffic goes to
127.0.0.1 only, for a bounded number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from parlour.channels.sms import connections
from parlour.channels.sms.models import PhoneNumber
from parlour.channels.sms.provider import SmsCredentials
from parlour.config import Settings
from parlour.db.engine import make_database
from parlour.db.migrate import migrate
from parlour.db.tx import Tx, transaction
from parlour.realtime.hub import make_hub
from tests.fakes.twilio import inbound_params, sid, sign

SECRET = "bench-secret"
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "c" * 32
COMPANY = "+14155550100"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


async def add_twilio_number(
    tx: Tx, *, account_id: int, secret: str, account_sid: str, auth_token: str, e164: str
) -> None:
    """Connects the account to Twilio and gives it the number ``e164``, as an admin would."""
    await connections.save(
        tx,
        account_id=account_id,
        provider="twilio",
        secret_key=secret,
        creds=SmsCredentials(account_sid=account_sid, auth_token=auth_token),
    )
    tx.session.add(
        PhoneNumber(
            account_id=account_id, e164=e164, label="Bench", provider="twilio", sms_enabled=True
        )
    )


async def prepare_parlour(database_url: str) -> None:
    from parlour.accounts import service as accounts_service

    await migrate(database_url)
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    db, hub = make_database(settings), make_hub(settings)
    async with transaction(db, hub) as tx:
        acct = await accounts_service.get_or_create_account(tx, name="Bench")
        await add_twilio_number(
            tx,
            account_id=acct.id,
            secret=SECRET,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            e164=COMPANY,
        )
        await tx.commit()
    await db.dispose()


def requests_for(base: str, n: int, senders: int) -> list[tuple[dict[str, str], str]]:
    url = f"{base}/webhooks/twilio/sms"
    pool = [f"+1650{random.randint(200, 999)}{random.randint(0, 9999):04d}" for _ in range(senders)]
    out = []
    for i in range(n):
        params = inbound_params(
            account_sid=ACCOUNT_SID,
            from_=random.choice(pool),
            to=COMPANY,
            body=f"Message {i}: is the shop open on Sunday?",
            message_sid=sid("SM"),
        )
        out.append((params, sign(AUTH_TOKEN, url, params)))
    return out


async def fire(
    base: str, reqs: list[tuple[dict[str, str], str]], concurrency: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue = list(reqs)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one_worker() -> None:
            nonlocal errors
            while queue:
                params, signature = queue.pop()
                t0 = time.perf_counter()
                r = await client.post(
                    "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
                )
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1
                    if errors <= 3:
                        print(f"    {r.status_code} {r.text[:200]}")

        start = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return elapsed, latencies, errors


def run_server(cmd: list[str], env: dict[str, str], ready: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env)
    wait_ready(ready, proc)
    return proc


async def measure(name: str, base: str, n: int, senders: int, concurrency: int) -> float:
    reqs = requests_for(base, n, senders)
    elapsed, lat, errors = await fire(base, reqs, concurrency)
    rate = n / elapsed
    lat.sort()
    p50 = statistics.median(lat) * 1000
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000
    print(
        f"  {name:<38} {rate:8.1f} req/s   p50 {p50:6.1f} ms   p99 {p99:7.1f} ms   errors {errors}"
    )
    return rate


async def bench(
    database_url: str,
    bare_url: str,
    n: int,
    senders: int,
    concurrency: int,
    rounds: int,
    redis_url: str | None = None,
) -> float:
    """Both servers run side by side; rounds alternate between them, so that load from
    elsewhere on the machine falls on both alike. The ratio is the median of the rounds."""
    await prepare_parlour(database_url)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
    p_port, b_port = free_port(), free_port()
    bare_base, parlour_base = f"http://127.0.0.1:{b_port}", f"http://127.0.0.1:{p_port}"
    bare = run_server(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.sms.bare_app:app",
            "--port",
            str(b_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {**base_env, "BENCH_DB_URL": bare_url},
        f"{bare_base}/nothing",
    )
    parlour = run_server(
        [sys.executable, "-m", "parlour.cli", "serve", "--port", str(p_port)],
        {
            **base_env,
            "PARLOUR_DATABASE_URL": database_url,
            "PARLOUR_SECRET_KEY": SECRET,
            "PARLOUR_PUBLIC_URL": parlour_base,
            "PARLOUR_LOG_LEVEL": "warning",
            **({"PARLOUR_REDIS_URL": redis_url} if redis_url else {}),
        },
        f"{parlour_base}/healthz",
    )
    ratios = []
    try:
        for base in (bare_base, parlour_base):  # warm up: connections, caches, contacts
            await fire(base, requests_for(base, min(300, n), senders), concurrency)
        for i in range(rounds):
            print(f"round {i + 1}")
            b = await measure("bare Starlette + one INSERT", bare_base, n, senders, concurrency)
            p = await measure(
                "parlour serve, signed Twilio webhook", parlour_base, n, senders, concurrency
            )
            ratios.append(p / b)
            print(f"  ratio {p / b:.2f}")
    finally:
        for proc in (bare, parlour):
            proc.terminate()
            proc.wait(20)
    ratio = statistics.median(ratios)
    print(f"median ratio parlour / bare over {rounds} rounds: {ratio:.2f}")
    return ratio


@contextlib.asynccontextmanager
async def throwaway_database(postgres: bool) -> AsyncIterator[tuple[str, str]]:
    """A fresh database for one run, dropped after: ("postgresql" or "sqlite", its URL)."""
    if postgres:
        name = f"parlour_bench_{uuid.uuid4().hex[:8]}"
        await pg_admin(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL")
            yield "postgresql", f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        finally:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite")
            yield "sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'parlour.db'}"


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1:5432")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=300, help="distinct contact phones")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", metavar="URL", help="publish events through this Redis")
    args = parser.parse_args()
    print(f"{args.requests} signed webhooks, {args.concurrency} at a time, {args.senders} senders")
    if args.postgres:
        names = [f"parlour_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        for name in names:
            await pg_admin(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL")
            await bench(
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{names[0]}",
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{names[1]}",
                args.requests,
                args.senders,
                args.concurrency,
                args.rounds,
                args.redis,
            )
        finally:
            for name in names:
                await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite")
            await bench(
                f"sqlite+aiosqlite:///{Path(tmp) / 'parlour.db'}",
                f"sqlite+aiosqlite:///{Path(tmp) / 'bare.db'}",
                args.requests,
                args.senders,
                args.concurrency,
                args.rounds,
                args.redis,
            )


if __name__ == "__main__":
    asyncio.run(main())
