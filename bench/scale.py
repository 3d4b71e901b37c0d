"""How latency grows with the data: ``bench/run.py scale``.

Every row of the latency mode at 100k contacts / 1M messages, 300k / 3M and 1M / 10M, in
one table: p95 at each size, and how much the p50 grew from the smallest to the largest
(each as a multiple of the bare baseline's p50 measured in the same run, so a busier
moment of the machine does not count as growth). Each size is seeded once and kept
(``--dir`` for SQLite files, one database per size on PostgreSQL), then reused.

    uv run python bench/run.py scale --dialect sqlite          # files under /tmp/bench
    uv run python bench/run.py scale --dialect postgresql      # postgres@127.0.0.1
    uv run python bench/run.py scale --sizes 100k,1m           # fewer sizes

Seeding 1M / 10M takes about ten minutes on either database on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

from bench.run import ROOT, SEED_ADMIN, child_env, run_latency, save

# Contacts and messages for each size's name.
SIZES: dict[str, tuple[int, int]] = {
    "100k": (100_000, 1_000_000),
    "300k": (300_000, 3_000_000),
    "1m": (1_000_000, 10_000_000),
}
PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"


def database_url(args: argparse.Namespace, size: str) -> str:
    if args.dialect == "sqlite":
        return f"sqlite+aiosqlite:///{Path(args.dir).resolve() / f'scale-{size}.db'}"
    return f"{args.pg_server}/parlour_scale_{size}"


async def seeded_contacts(url: str) -> int:
    """How many contacts the seeded account has (0 when there is no such database)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            n = await conn.scalar(
                text(
                    "SELECT COUNT(*) FROM contacts WHERE account_id ="
                    " (SELECT account_id FROM users WHERE email = :e)"
                ).bindparams(e=SEED_ADMIN)
            )
            return int(n or 0)
    except Exception:
        return 0
    finally:
        await engine.dispose()


async def create_pg_database(url: str) -> None:
    import asyncpg

    server, name = url.rsplit("/", 1)
    conn = await asyncpg.connect(server.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def ensure_seeded(args: argparse.Namespace, size: str) -> str:
    url = database_url(args, size)
    contacts, messages = SIZES[size]
    have = asyncio.run(seeded_contacts(url))
    if have == contacts:
        print(f"{size}: seeded already ({url})", flush=True)
        return url
    if have:
        raise SystemExit(f"{url} holds {have} seeded contacts, not {contacts}: drop it first.")
    if args.dialect == "sqlite":
        Path(args.dir).mkdir(parents=True, exist_ok=True)
    else:
        asyncio.run(create_pg_database(url))
    print(f"{size}: seeding {contacts:,} contacts, {messages:,} messages into {url}", flush=True)
    subprocess.run(
        ["uv", "run", "parlour", "seed", "--contacts", str(contacts), "--messages", str(messages)],
        cwd=ROOT,
        env=child_env({"PARLOUR_DATABASE_URL": url}),
        check=True,
    )
    return url


def run_scale(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [s.strip().lower() for s in args.sizes.split(",")]
    unknown = set(sizes) - set(SIZES)
    if unknown:
        raise SystemExit(f"Unknown sizes {sorted(unknown)}: choose from {list(SIZES)}.")
    runs: dict[str, Any] = {}
    for size in sizes:
        url = ensure_seeded(args, size)
        latency_args = argparse.Namespace(
            database_url=url,
            label=f"scale-{args.dialect}-{size}",
            email=SEED_ADMIN,
            samples=args.samples,
            warmup=args.warmup,
            pages=10,
            block=10,
            by_row=False,
            app_dir=str(ROOT),
        )
        runs[size] = run_latency(latency_args)
        save(runs[size], latency_args.label)
    return {"dialect": args.dialect, "sizes": sizes, "runs": runs, "loadavg": os.getloadavg()}


def markdown(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    runs = results["runs"]
    first, last = runs[sizes[0]]["rows"], runs[sizes[-1]]["rows"]
    head = " | ".join(f"p95 ms at {s}" for s in sizes)
    lines = [
        f"| row ({results['dialect']}) | {head} | p50 growth {sizes[0]} → {sizes[-1]} |",
        "|---|" + "---:|" * (len(sizes) + 1),
    ]
    for name in first:
        p95s = " | ".join(
            f"{runs[s]['rows'][name]['p95']:.1f}" if name in runs[s]["rows"] else "-" for s in sizes
        )
        growth = "-"
        if name in last and first[name]["x_baseline_p50"]:
            growth = f"{last[name]['x_baseline_p50'] / first[name]['x_baseline_p50']:.2f}x"
        lines.append(f"| {name} | {p95s} | {growth} |")
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    scale = sub.add_parser("scale", help="every latency row at 100k/1M, 300k/3M and 1M/10M")
    scale.add_argument("--dialect", choices=["sqlite", "postgresql"], default="sqlite")
    scale.add_argument("--sizes", default=",".join(SIZES))
    scale.add_argument("--dir", default="/tmp/bench", help="where the SQLite files are kept")
    scale.add_argument("--pg-server", default=PG_SERVER)
    scale.add_argument("--samples", type=int, default=300)
    scale.add_argument("--warmup", type=int, default=30)
