"""Idle visitor WebSockets held per GiB of server memory: one `parlour serve` process
(SQLite), N visitor sockets opened and left idle, the server's VmRSS read before and after.

    uv run python -m bench.widget.idle                     # 2000 then 5000 sockets
    uv run python -m bench.widget.idle --sockets 2000 5000
    uv run python -m bench.widget.idle --no-deflate       # clients offer no compression

Each N runs on a fresh server and database. "before" is read once the server has answered
a few requests and opened and closed 20 visitor sockets (its code paths are loaded); each
socket counts as open only once the server's hello frame reached it. While they are held
the server must still answer ``GET /healthz`` and a visitor's ``GET /widget/v1/messages``
(timed). sockets per GiB = N / ΔRSS in GiB. The widget's limits are per address (60
requests per 10 s): 25 visitors share each loopback address (127.0.x.y). Traffic goes to
127.0.0.0/8 only. The file limit is raised with setrlimit (the server inherits it). The
raw numbers go to bench/results/widget-idle.json (with the commit and load average).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.email.receiver import save
from bench.run import ROOT, describe_app
from bench.sms.webhooks import free_port, run_server
from bench.widget.latency import ORIGIN, prepare, server_env, source

PER_ADDRESS = 25
GIB = 1024**3


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


DEFLATE = True


async def open_socket(url: str, token: str, addr: str) -> Any:
    ws = await websockets.connect(
        f"{url}?token={token}",
        origin=ORIGIN,  # type: ignore[arg-type]
        local_addr=(addr, 0),
        ping_interval=None,  # tiny clients: no keepalive tasks of their own
        max_queue=4,
        open_timeout=60,
        # Browsers offer permessage-deflate, and uvicorn accepts it: on by default here.
        compression="deflate" if DEFLATE else None,
    )
    frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
    assert frame["type"] == "hello", frame
    return ws


async def one(n: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'parlour.db'}"
        tokens = await prepare(database_url, n + 20)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        url = f"ws://127.0.0.1:{port}/widget/v1/ws"
        proc = run_server(
            [sys.executable, "-m", "parlour.cli", "serve", "--port", str(port)],
            server_env(database_url, base),
            f"{base}/healthz",
        )
        held: list[Any] = []
        try:
            warm_addr = "127.255.0.1"
            for k in range(20):
                ws = await open_socket(url, tokens[n + k], warm_addr if k < 10 else "127.255.0.2")
                await ws.close()
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                for _ in range(20):
                    await client.get("/healthz")
            await asyncio.sleep(2)
            before = rss_bytes(proc.pid)
            sem = asyncio.Semaphore(concurrency)

            async def opener(i: int) -> None:
                async with sem:
                    held.append(await open_socket(url, tokens[i], source(i, PER_ADDRESS)))

            t0 = time.perf_counter()
            await asyncio.gather(*(opener(i) for i in range(n)))
            open_seconds = time.perf_counter() - t0
            await asyncio.sleep(3)
            after = rss_bytes(proc.pid)
            # Still answering while they are held?
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                t0 = time.perf_counter()
                health = await client.get("/healthz")
                health_ms = (time.perf_counter() - t0) * 1000
            async with httpx.AsyncClient(
                base_url=base,
                timeout=60,
                transport=httpx.AsyncHTTPTransport(local_address="127.255.0.3"),
                headers={"Authorization": f"Bearer {tokens[0]}", "Origin": ORIGIN},
            ) as visitor:
                t0 = time.perf_counter()
                msgs = await visitor.get("/widget/v1/messages")
                msgs_ms = (time.perf_counter() - t0) * 1000
            still_open = sum(1 for ws in held if ws.close_code is None)
            fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
        finally:
            await asyncio.gather(*(ws.close() for ws in held), return_exceptions=True)
            proc.terminate()
            proc.wait(20)
    delta = after - before
    per_gib = n / (delta / GIB) if delta > 0 else float("inf")
    print(
        f"{n} idle sockets ({len(held)} got hello, {still_open} still open, server fds {fds}), "
        f"opened in {open_seconds:.1f} s: RSS {before / 2**20:.1f} → {after / 2**20:.1f} MiB, "
        f"{delta / n / 1024:.1f} KiB a socket, {per_gib:,.0f} sockets per GiB; "
        f"healthz {health.status_code} in {health_ms:.1f} ms, "
        f"GET /widget/v1/messages {msgs.status_code} in {msgs_ms:.1f} ms"
    )
    return {
        "sockets": n,
        "hello_received": len(held),
        "still_open": still_open,
        "server_fds": fds,
        "open_seconds": open_seconds,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "kib_per_socket": delta / n / 1024,
        "sockets_per_gib": per_gib,
        "healthz_status": health.status_code,
        "healthz_ms": health_ms,
        "messages_status": msgs.status_code,
        "messages_ms": msgs_ms,
        "loadavg": os.getloadavg(),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--concurrency", type=int, default=50, help="sockets being opened at once")
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="clients do not offer permessage-deflate (to see what its zlib state costs)",
    )
    parser.add_argument("--label", default="widget-idle")
    args = parser.parse_args()
    global DEFLATE
    DEFLATE = not args.no_deflate
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(args.sockets) * 2 + 1000
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, want)), hard))
    results: dict[str, Any] = {
        "bench": "widget-idle",
        "args": vars(args),
        "code": describe_app(ROOT),
        "database": "sqlite",
        "deflate": not args.no_deflate,
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
        "loadavg_before": os.getloadavg(),
        "runs": [],
    }
    for n in args.sockets:
        results["runs"].append(await one(n, args.concurrency))
    results["loadavg_after"] = os.getloadavg()
    save(results, args.label)


if __name__ == "__main__":
    asyncio.run(main())
