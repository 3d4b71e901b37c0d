"""Benchmark harness: latency of a real `parlour serve`, its memory, and the demo's start.

Run from the repository root, e.g.::

    # latency at scale (the database must have been seeded with `parlour seed`)
    uv run python bench/run.py latency --database-url sqlite+aiosqlite:////tmp/bench/big.db \
        --label sqlite
    # memory of an idle server on the demo database, and how long `parlour demo` takes
    uv run python bench/run.py demo
    # the fresh-clone setup: `git clone ... && make demo` until the login line
    uv run python bench/run.py fresh-clone
    # every latency row at 100k/1M, 300k/3M and 1M/10M, seeded once each (bench/scale.py)
    uv run python bench/run.py scale --dialect sqlite
    # many agents at once, texts coming in (see bench/load.py)
    uv run python bench/run.py load --database-url sqlite+aiosqlite:////tmp/bench/big.db

Every server is a separate process started here (``uv run parlour serve``, and a bare
Starlette app as the baseline), measured over HTTP with sequential requests after a
warm-up, in blocks of 10 requests of one row, the rows in turn (see ``measure``). Results
are printed as a Markdown table and written as JSON under bench/results/.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder would come first on the path, and its email/ would hide
# Python's own email package: the repository root goes there instead (as with -m bench.run).
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LOGS = Path(os.environ.get("BENCH_LOGS", "/tmp/parlour-bench-logs"))
SEED_ADMIN = "seed-admin@seed.example"
DEMO_ADMIN = "admin@example.com"

# Search fragments as an agent would type them. Names come from parlour/sample/words.py's lists.
NAME_FRAGMENTS = ["martin", "johans", "okafor", "priya", "william", "costa", "ingrid", "kenji"]
# Typed without accents, matching accented names: Álvarez, Ólafsdóttir, Amélie, Chloé, ...
FOLDED_FRAGMENTS = ["alvarez", "olafsd", "amelie", "chloe", "fernandez", "muller", "zoe", "lea"]


# --- processes -------------------------------------------------------------------------


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for a child process; without our venv, which may be another checkout's."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A server process started by the harness, in its own process group."""

    name: str
    cmd: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    proc: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/healthz", timeout: float = 180) -> None:
        t0 = time.perf_counter()
        self.start_background()
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {LOGS / (self.name + '.log')}")
            try:
                if httpx.get(self.base_url + ready_path, timeout=1).status_code == 200:
                    self.started_in = time.perf_counter() - t0
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready in {timeout} s")

    def start_background(self) -> None:
        """Starts the process, without waiting for it to serve (``parlour worker`` serves
        nothing to wait for)."""
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / f"{self.name}.log", "wb")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=self.cwd,
            env=child_env(self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def python(self) -> psutil.Process:
        """The Python process serving (``uv run`` starts it as a child)."""
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        for p in [root, *root.children(recursive=True)]:
            if "python" in p.name().lower() or "parlour" in p.name().lower():
                return p
        return root

    def rss_mb(self) -> float:
        return float(self.python().memory_info().rss) / 1e6

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def parlour_server(database_url: str, port: int, *, app_dir: Path, name: str = "parlour") -> Server:
    return Server(
        name=name,
        cwd=app_dir,
        cmd=["uv", "run", "parlour", "serve", "--port", str(port)],
        port=port,
        # No access log: one line per request would be measured too. The worker stays on,
        # as in a default `parlour serve`.
        env={
            "PARLOUR_DATABASE_URL": database_url,
            "PARLOUR_PORT": str(port),
            "PARLOUR_LOG_LEVEL": "warning",
        },
    )


def baseline_server(port: int) -> Server:
    return Server(
        name="baseline",
        cmd=["uv", "run", "python", "-m", "bench.baseline", "--port", str(port)],
        port=port,
    )


def api_token(database_url: str, email: str, app_dir: Path) -> str:
    out = subprocess.run(
        ["uv", "run", "parlour", "token", "create", "--email", email, "--name", "bench"],
        cwd=app_dir,
        env=child_env({"PARLOUR_DATABASE_URL": database_url}),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


# --- measuring -------------------------------------------------------------------------


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile of already sorted samples."""
    k = max(0, min(len(sorted_ms) - 1, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[k]


def summary(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    return {
        "n": len(s),
        "p50": percentile(s, 50),
        "p95": percentile(s, 95),
        "p99": percentile(s, 99),
        "mean": statistics.fmean(s),
        "max": s[-1],
    }


def cpu_seconds(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    t = proc.cpu_times()
    return float(t.user + t.system)


@dataclass
class Row:
    """One row of the table: GETs over ``urls`` (round robin) with ``client``; ``proc`` is
    the server, whose CPU time per request is recorded too: unlike latency, it hardly
    depends on what else the machine is running."""

    client: httpx.Client
    urls: list[str]
    proc: psutil.Process | None = None
    ms: list[float] = field(default_factory=list)
    per_url: dict[str, list[float]] = field(default_factory=dict)
    cpu_s: float = 0.0

    def warm(self, n: int) -> None:
        """``n`` uncounted requests, from the URL the next sample will ask for."""
        for i in range(len(self.ms), len(self.ms) + n):
            self.client.get(self.urls[i % len(self.urls)]).raise_for_status()

    def sample(self) -> None:
        url = self.urls[len(self.ms) % len(self.urls)]
        cpu0 = cpu_seconds(self.proc)
        t0 = time.perf_counter()
        resp = self.client.get(url)
        ms = (time.perf_counter() - t0) * 1000
        self.cpu_s += cpu_seconds(self.proc) - cpu0
        resp.raise_for_status()
        self.ms.append(ms)
        self.per_url.setdefault(url, []).append(ms)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = summary(self.ms)
        if len(self.per_url) > 1:
            # Which of the row's requests make its tail (e.g. which search needle).
            out["by_url"] = {
                url: {"p50": statistics.median(ms), "max": max(ms)}
                for url, ms in self.per_url.items()
            }
        if self.proc is not None:
            out["server_cpu_ms"] = self.cpu_s * 1000 / len(self.ms)
        return out


def measure(rows: dict[str, Row], *, samples: int, warmup: int, block: int) -> None:
    """Sequential GETs, ``samples`` a row after a warm-up of each, taken in blocks of
    ``block`` requests of one row, the rows in turn.

    On a shared VM whose speed drifts by a third from one minute to the next, a slow minute
    then falls on every row alike, the baseline's included, instead of on whichever rows it
    met. Each block starts with one request left uncounted, as the warm-up is: the row's
    code and data are back in the CPU's caches, as when its samples are taken together
    (``block`` = ``samples``, the order of sessions 1 to 4)."""
    for row in rows.values():
        row.warm(warmup)
    while any(len(row.ms) < samples for row in rows.values()):
        for row in rows.values():
            todo = min(block, samples - len(row.ms))
            if todo <= 0:
                continue
            row.warm(1)
            for _ in range(todo):
                row.sample()


def measure_calls(
    fn: Callable[[], None], *, samples: int, warmup: int, proc: psutil.Process | None = None
) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    out: list[float] = []
    cpu0 = cpu_seconds(proc)
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    result = summary(out)
    if proc is not None:
        result["server_cpu_ms"] = (cpu_seconds(proc) - cpu0) * 1000 / samples
    return result


# --- what to ask for -------------------------------------------------------------------


@dataclass
class Targets:
    account_id: int
    threads_200: list[int]
    thread_1000: int
    thread_1000_size: int
    phones: list[str]
    names: list[str]


async def find_targets(database_url: str, admin_email: str) -> Targets:
    """Conversations with long threads and a few contact phones, straight from the database."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            account_id = (
                await conn.execute(
                    text("SELECT account_id FROM users WHERE email = :e"), {"e": admin_email}
                )
            ).scalar_one()
            rows = (
                await conn.execute(
                    text(
                        "SELECT conversation_id, COUNT(*) AS n FROM messages"
                        " WHERE account_id = :a GROUP BY conversation_id"
                        " HAVING COUNT(*) >= 200 ORDER BY n DESC LIMIT 40"
                    ),
                    {"a": account_id},
                )
            ).all()
            phones = list(
                (
                    await conn.execute(
                        text(
                            "SELECT e164 FROM contact_phones WHERE account_id = :a"
                            " ORDER BY id LIMIT 8 OFFSET 5000"
                        ),
                        {"a": account_id},
                    )
                ).scalars()
            )
            names = list(
                (
                    await conn.execute(
                        text(
                            "SELECT name FROM contacts WHERE account_id = :a"
                            " ORDER BY id LIMIT 8 OFFSET 20000"
                        ),
                        {"a": account_id},
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    if not rows or rows[0][1] < 1000:
        raise SystemExit("Seed the database first: no thread with >= 1000 messages.")
    return Targets(
        account_id=account_id,
        threads_200=[r[0] for r in rows[1:] if r[1] >= 200][:20],
        thread_1000=rows[0][0],
        thread_1000_size=rows[0][1],
        phones=phones,
        names=names,
    )


def fold_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def phone_fragments(phones: list[str]) -> list[str]:
    """Digits as typed: national number, a middle run, with spaces/dashes, +1 prefix."""
    frags: list[str] = []
    for i, p in enumerate(phones):
        national = p[2:]
        style = i % 4
        if style == 0:
            frags.append(national[-7:])
        elif style == 1:
            frags.append(f"({national[:3]}) {national[3:6]}-{national[6:]}")
        elif style == 2:
            frags.append(national[3:8])
        else:
            frags.append(p)
    return frags


def run_latency(args: argparse.Namespace) -> dict[str, Any]:
    targets = asyncio.run(find_targets(args.database_url, args.email))
    app_dir = Path(args.app_dir).resolve()
    token = api_token(args.database_url, args.email, app_dir)
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, Any] = {
        "label": args.label,
        "database": redact(args.database_url),
        "loadavg_before": os.getloadavg(),
        "app": describe_app(app_dir),
    }
    base = baseline_server(free_port())
    app = parlour_server(args.database_url, free_port(), app_dir=app_dir)
    base.start("/ping")
    app.start("/readyz")
    results["parlour_started_in_s"] = app.started_in
    n, w = args.samples, args.warmup
    table: dict[str, Row] = {}
    rows: dict[str, dict[str, Any]] = {}
    hits: dict[str, dict[str, int]] = {}
    try:
        with (
            httpx.Client(base_url=base.base_url, timeout=30) as bc,
            httpx.Client(base_url=app.base_url, headers=headers, timeout=30) as c,
        ):
            sp = app.python()
            table["baseline: bare Starlette JSON GET"] = Row(bc, ["/ping"], base.python())
            table["parlour /healthz (no auth, no DB)"] = Row(c, ["/healthz"], sp)
            panel = "/api/v1/conversations?view=all&limit=50"
            table["panel: first page (50)"] = Row(c, [panel], sp)

            cursors: list[str] = []
            page = c.get(panel).json()
            while page["next_cursor"] and len(cursors) < args.pages:
                cursors.append(page["next_cursor"])
                page = c.get(panel, params={"cursor": page["next_cursor"]}).json()
            deep = [f"{panel}&cursor={cur}" for cur in cursors]
            table[f"panel: next pages (2..{len(deep) + 1}, via cursor)"] = Row(c, deep, sp)

            searches = {
                "name": NAME_FRAGMENTS,
                # A whole name, typed lower-case without accents: few matches.
                "full name": [fold_name(n) for n in targets.names],
                "accent-folded": FOLDED_FRAGMENTS,
                "phone digits": phone_fragments(targets.phones),
                # Two letters: too short for trigrams, served by the fallback prefix match.
                "2 letters (prefix fallback)": ["jo", "ma", "an", "el"],
            }
            for kind, frags in searches.items():
                for path, label in (
                    ("/api/v1/conversations?view=all&limit=50&q=", "panel search"),
                    ("/api/v1/contacts?limit=50&q=", "contacts search"),
                ):
                    urls = [path + quote(f) for f in frags]
                    hits[f"{label} ({kind})"] = {
                        f: len(c.get(u).json()["items"]) for f, u in zip(frags, urls, strict=True)
                    }
                    table[f"{label}: {kind}"] = Row(c, urls, sp)

            threads = [
                f"/api/v1/conversations/{cid}/messages?limit=200" for cid in targets.threads_200
            ]
            table["thread: newest 200 messages"] = Row(c, threads, sp)
            measure(table, samples=n, warmup=w, block=n if args.by_row else args.block)
            rows = {name: row.result() for name, row in table.items()}

            long_url = f"/api/v1/conversations/{targets.thread_1000}/messages"
            pages: list[float] = []

            def read_1000() -> None:
                before: str | None = None
                got = 0
                while got < 1000:
                    params: dict[str, Any] = {"limit": 200}
                    if before:
                        params["before"] = before
                    t0 = time.perf_counter()
                    resp = c.get(long_url, params=params)
                    pages.append((time.perf_counter() - t0) * 1000)
                    resp.raise_for_status()
                    body = resp.json()
                    got += len(body["items"])
                    before = body["older_cursor"]
                    assert before or got >= 1000

            rows["thread: 1000 messages (5 pages of 200, total)"] = measure_calls(
                read_1000, samples=max(50, n // 4), warmup=3, proc=sp
            )
            rows["thread: older page of 200 (via cursor)"] = summary(pages)
            results["rss_after_requests_mb"] = app.rss_mb()
    finally:
        app.stop()
        base.stop()
    results["order"] = "by row" if args.by_row else f"rows in turn, blocks of {args.block}"
    baseline_p50 = rows["baseline: bare Starlette JSON GET"]["p50"]
    for r in rows.values():
        r["x_baseline_p50"] = r["p50"] / baseline_p50
    results["rows"] = rows
    results["loadavg_after"] = os.getloadavg()
    results["search_hits"] = hits
    results["targets"] = {
        "threads_200": targets.threads_200,
        "thread_1000": targets.thread_1000,
        "thread_1000_size": targets.thread_1000_size,
        "phone_fragments": phone_fragments(targets.phones),
        "full_names": [fold_name(n) for n in targets.names],
    }
    return results


def describe_app(app_dir: Path) -> dict[str, str]:
    """Which code was measured: the commit, and whether the tree had local changes."""

    def git(*a: str) -> str:
        return subprocess.run(
            ["git", *a], cwd=app_dir, capture_output=True, text=True
        ).stdout.strip()

    return {
        "dir": str(app_dir),
        "commit": git("rev-parse", "--short", "HEAD"),
        "local_changes": git("status", "--porcelain", "--untracked-files=no", "parlour"),
    }


def redact(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//", url)


# --- the demo --------------------------------------------------------------------------


def time_until_login(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> float:
    """Seconds from starting ``cmd`` until it prints the login line; then stops it."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{cmd[-1].replace('/', '_')}-until-login.log", "wb") as log:
        try:
            for line in proc.stdout:
                log.write(line)
                if b"Log in as" in line:
                    return time.perf_counter() - t0
                if time.perf_counter() - t0 > timeout:
                    break
            raise RuntimeError(f"no login line from {cmd}; see {log.name}")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.stdout.close()


def run_demo(args: argparse.Namespace) -> dict[str, Any]:
    db = Path(args.db)
    results: dict[str, Any] = {"label": "demo"}
    runs = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = subprocess.run(
            ["uv", "run", "parlour", "demo", "--no-serve", "--db", str(db)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(time.perf_counter() - t0)
        assert "Log in as" in out.stdout
    results["demo_no_serve_s"] = runs
    url = f"sqlite+aiosqlite:///{db.resolve()}"
    token = api_token(url, DEMO_ADMIN, ROOT)
    app = parlour_server(url, free_port(), app_dir=ROOT, name="parlour-demo")
    app.start("/readyz")
    try:
        time.sleep(args.idle)
        results["rss_idle_after_start_mb"] = app.rss_mb()
        with httpx.Client(
            base_url=app.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as c:
            convs = c.get("/api/v1/conversations?view=all&limit=50").json()["items"]
            urls = ["/api/v1/conversations?view=all&limit=50", "/api/v1/contacts?q=zoe"]
            urls += [f"/api/v1/conversations/{cv['id']}/messages?limit=50" for cv in convs[:10]]
            urls += ["/api/v1/views", "/api/v1/users", "/api/v1/phone-numbers"]
            for i in range(args.requests):
                c.get(urls[i % len(urls)]).raise_for_status()
        results["requests_made"] = args.requests
        results["rss_after_requests_mb"] = app.rss_mb()
        time.sleep(args.idle)
        results["rss_idle_after_requests_mb"] = app.rss_mb()
        results["uss_idle_after_requests_mb"] = app.python().memory_full_info().uss / 1e6
    finally:
        app.stop()
    return results


def run_fresh_clone(args: argparse.Namespace) -> dict[str, Any]:
    dest = Path(args.dest)
    if dest.exists():
        subprocess.run(["rm", "-rf", str(dest)], check=True)
    t0 = time.perf_counter()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    cloned = time.perf_counter() - t0
    until_login = time_until_login(
        ["make", "demo"], dest, {"PARLOUR_PORT": str(free_port())}, timeout=args.timeout
    )
    return {
        "label": "fresh-clone",
        "git_clone_s": cloned,
        "make_demo_until_login_s": until_login,
        "total_s": cloned + until_login,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=dest, capture_output=True, text=True
        ).stdout.strip(),
    }


# --- output ----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| request | p50 ms | p95 ms | p99 ms | n | p50 / baseline | server CPU ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results["rows"].items():
        lines.append(
            f"| {name} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['n']} "
            f"| {r['x_baseline_p50']:.1f}x | {r.get('server_cpu_ms', float('nan')):.1f} |"
        )
    return "\n".join(lines)


def save(results: dict[str, Any], name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    results["machine"] = machine()
    results["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description="Parlour benchmarks.")
    sub = parser.add_subparsers(dest="command", required=True)
    lat = sub.add_parser("latency", help="p50/p95/p99 of panel, search and thread requests")
    lat.add_argument("--database-url", required=True)
    lat.add_argument("--label", required=True, help="names the results file")
    lat.add_argument("--email", default=SEED_ADMIN, help="the seeded admin")
    lat.add_argument("--samples", type=int, default=300)
    lat.add_argument("--warmup", type=int, default=30)
    lat.add_argument("--pages", type=int, default=10, help="how deep next pages go")
    lat.add_argument("--block", type=int, default=10, help="samples of a row in a row")
    lat.add_argument("--by-row", action="store_true", help="each row's samples all together")
    lat.add_argument(
        "--app-dir", default=str(ROOT), help="checkout whose `parlour serve` is measured"
    )
    demo = sub.add_parser("demo", help="`parlour demo` time and an idle server's memory")
    demo.add_argument("--db", default="/tmp/parlour-bench-demo.db")
    demo.add_argument("--repeat", type=int, default=3)
    demo.add_argument("--requests", type=int, default=300)
    demo.add_argument("--idle", type=float, default=3.0, help="seconds left idle")
    fresh = sub.add_parser("fresh-clone", help="time `git clone && make demo` to the login")
    fresh.add_argument("--dest", default="/tmp/parlour-fresh")
    fresh.add_argument("--timeout", type=float, default=900)
    from bench import load, scale

    load.add_parser(sub)
    scale.add_parser(sub)
    args = parser.parse_args()

    if args.command == "scale":
        results = scale.run_scale(args)
        save(results, f"scale-{args.dialect}")
        print(scale.markdown(results))
    elif args.command == "load":
        results = load.run_load(args)
        save(results, args.label)
        print(load.markdown(results))
    elif args.command == "latency":
        results = run_latency(args)
        save(results, args.label)
        print(markdown(results))
        print(json.dumps(results["search_hits"], indent=1, ensure_ascii=False))
    elif args.command == "demo":
        results = run_demo(args)
        save(results, "demo")
        print(json.dumps(results, indent=2))
    else:
        results = run_fresh_clone(args)
        save(results, "fresh-clone")
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
