"""Inbound mails per second through Parlour's SMTP receiver on one `parlour serve` process,
as a ratio of a bare aiosmtpd handler that parses with the stdlib and does one INSERT
(bare_receiver.py, its own process), measured in the same run on the same database.

    uv run python -m bench.email.receiver                   # SQLite
    uv run python -m bench.email.receiver --postgres        # PostgreSQL at 127.0.0.1:5432
    uv run python -m bench.email.receiver --mails 300 --rounds 1    # a quick look

Every mail is real-shaped: a plain-text reply quoting the history it answers, an HTML
mail with its text alternative, or a text mail with a small PDF attached, in turn; each
has its own Message-ID, and comes from a pool of senders who have all written once
before the clock starts, so each finds its contact and thread. The mails are built
before the clock starts. N clients (aiosmtplib) send at once, each over a persistent
connection: RSET, MAIL, RCPT, DATA for several mails, then QUIT and a new connection.
Traffic goes to 127.0.0.1 only, for a bounded number of mails. The raw numbers go to
bench/results/email-receiver-<database>.json (with the commit and load average).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiosmtplib
import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.run import RESULTS, ROOT, describe_app, machine
from bench.sms.webhooks import SECRET, free_port, pg_admin, wait_ready
from parlour.channels.email.models import Mailbox
from parlour.config import Settings
from parlour.db.engine import make_database
from parlour.db.migrate import migrate
from parlour.db.tx import transaction
from parlour.realtime.hub import make_hub

MAILBOX = "support@parlour-bench.example"
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ivo", "Jun"]
LAST = ["Okafor", "Müller", "Lindqvist", "García", "Tanaka", "Novak", "Smith", "Haddad"]
QUOTED = """\
Hello,

Thanks for your order #{n}. It left our warehouse this morning and should reach
you within three working days. You can follow it with the tracking link in your
account. If anything is missing or damaged, answer this mail and we will sort it
out.

Kind regards,
Parlour Support
"""
HTML = """\
<html><head><meta charset="utf-8"><style>p{{margin:0 0 1em}}</style></head>
<body><div dir="ltr"><p>Hi there,</p><p>I ordered the <b>walnut side table</b> (order
#{n}) and it arrived with a scratch on the top, see the photo link below. Could you send
a replacement, or tell me how to return it?</p><p><a href="https://photos.example.com/
s/{n}">The scratch</a></p><p>Best,<br>{name}</p></div>
<div class="gmail_signature"><table><tr><td style="color:#888;font-size:12px">
{name} · Sent from my phone</td></tr></table></div></body></html>
"""
# A small "PDF": real mails carry one of 20-60 kB; the bytes are only stored.
PDF = b"%PDF-1.4\n" + bytes(random.Random(7).randbytes(24_000)) + b"\n%%EOF\n"


def senders(count: int) -> list[tuple[str, str]]:
    rnd = random.Random(count)
    return [
        (
            f"{rnd.choice(FIRST)} {rnd.choice(LAST)}",
            f"customer{i:04d}@{rnd.choice(['gmail.com', 'outlook.com', 'example.org'])}",
        )
        for i in range(count)
    ]


def make_mail(i: int, sender: tuple[str, str], kind: int, tag: str = "") -> bytes:
    """Mail ``i`` of the run, of one of three shapes; ``tag`` goes into the Subject."""
    name, address = sender
    n = 10_000 + i
    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = f"Parlour Support <{MAILBOX}>"
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@mail.{address.split('@')[1]}>"
    msg["MIME-Version"] = "1.0"
    if kind == 0:  # a plain-text reply, quoting what it answers
        parent = f"<{uuid.uuid4().hex}@{MAILBOX.split('@')[1]}>"
        msg["Subject"] = f"Re: Your order #{n} has shipped {tag}".strip()
        msg["In-Reply-To"] = parent
        msg["References"] = f"<{uuid.uuid4().hex}@{MAILBOX.split('@')[1]}> {parent}"
        quoted = "".join(
            f"> {line}\n".replace("> \n", ">\n") for line in QUOTED.format(n=n).splitlines()
        )
        msg.set_content(
            f"Hi,\n\nThanks! It hasn't arrived yet though, and the tracking page still says\n"
            f"'label created'. Could you check with the carrier?\n\nThanks,\n{name.split()[0]}\n\n"
            f"On Tue, 1 Dec 2026 at 10:02, Parlour Support <{MAILBOX}> wrote:\n{quoted}"
        )
    elif kind == 1:  # HTML with its text alternative
        msg["Subject"] = f"Scratched table, order #{n} {tag}".strip()
        msg.set_content(
            f"Hi there,\n\nI ordered the walnut side table (order #{n}) and it arrived with a\n"
            f"scratch on the top. Could you send a replacement, or tell me how to return it?\n\n"
            f"Best,\n{name}\n"
        )
        msg.add_alternative(HTML.format(n=n, name=name), subtype="html")
    else:  # a text mail with a small attachment
        msg["Subject"] = f"Invoice for order #{n} {tag}".strip()
        msg.set_content(
            f"Hello,\n\nPlease find attached the invoice our accounts team asked for.\n\n{name}\n"
        )
        msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"invoice-{n}.pdf")
    return msg.as_bytes(policy=policy.SMTP)


def mails_for(n: int, pool: list[tuple[str, str]], start: int = 0) -> list[tuple[str, bytes]]:
    out = []
    for i in range(start, start + n):
        sender = random.choice(pool)
        out.append((sender[1], make_mail(i, sender, i % 3)))
    return out


async def prepare_parlour(database_url: str) -> int:
    """Migrates, and makes the account and its mailbox; returns the account's id."""
    from parlour.accounts import service as accounts_service

    await migrate(database_url)
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    db, hub = make_database(settings), make_hub(settings)
    async with transaction(db, hub) as tx:
        acct = await accounts_service.get_or_create_account(tx, name="Bench")
        tx.session.add(Mailbox(account_id=acct.id, address=MAILBOX, name="Support"))
        await tx.commit()
        account_id = acct.id
    await db.dispose()
    return account_id


def spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env)


def wait_smtp(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the port answers with an SMTP greeting."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"220"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"nothing answers SMTP on port {port}")


async def fire(
    port: int, mails: list[tuple[str, bytes]], concurrency: int, per_connection: int
) -> tuple[float, list[float], int]:
    """Sends every mail; returns the elapsed time, each mail's time (RSET to the answer to
    DATA) and the number refused."""
    latencies: list[float] = []
    errors = 0
    queue = list(mails)

    async def one_client() -> None:
        nonlocal errors
        while queue:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
            await client.connect()
            try:
                for k in range(per_connection):
                    if not queue:
                        break
                    sender, raw = queue.pop()
                    t0 = time.perf_counter()
                    try:
                        if k:
                            await client.rset()
                        await client.sendmail(sender, [MAILBOX], raw)
                    except aiosmtplib.SMTPException as e:
                        errors += 1
                        if errors <= 3:
                            print(f"    refused: {e}")
                        continue
                    latencies.append(time.perf_counter() - t0)
            finally:
                try:
                    await client.quit()
                except aiosmtplib.SMTPException:
                    client.close()

    start = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies, errors


def cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    times = psutil.Process(proc.pid).cpu_times()
    return float(times.user + times.system)


async def measure(
    name: str,
    server: subprocess.Popen[bytes],
    port: int,
    mails: list[tuple[str, bytes]],
    concurrency: int,
    per_connection: int,
) -> dict[str, float]:
    cpu0 = cpu_seconds(server)
    elapsed, lat, errors = await fire(port, mails, concurrency, per_connection)
    cpu_ms = (cpu_seconds(server) - cpu0) / len(mails) * 1000
    rate = len(mails) / elapsed
    lat.sort()
    p50 = statistics.median(lat) * 1000
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000
    print(
        f"  {name:<40} {rate:7.1f} mails/s   p50 {p50:6.1f} ms   p99 {p99:7.1f} ms"
        f"   server CPU {cpu_ms:5.1f} ms a mail   errors {errors}"
    )
    return {
        "mails_per_s": rate,
        "elapsed_s": elapsed,
        "p50_ms": p50,
        "p99_ms": p99,
        "server_cpu_ms_per_mail": cpu_ms,
        "errors": errors,
    }


async def count(url: str, sql: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def bench(database_url: str, bare_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both servers run side by side; rounds alternate between them, so that load from
    elsewhere on the machine falls on both alike. The ratio is the median of the rounds."""
    await prepare_parlour(database_url)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")}
    http_port, p_port, b_port = free_port(), free_port(), free_port()
    bare = spawn(
        [sys.executable, "-m", "bench.email.bare_receiver"],
        {**base_env, "BENCH_DB_URL": bare_url, "BENCH_SMTP_PORT": str(b_port)},
    )
    parlour_base = f"http://127.0.0.1:{http_port}"
    # BENCH_PROFILE=FILE: the parlour process runs under cProfile (bench/email/profiled.py).
    cli = "bench.email.profiled" if "BENCH_PROFILE" in os.environ else "parlour.cli"
    parlour = spawn(
        [sys.executable, "-m", cli, "serve", "--port", str(http_port)],
        {
            **base_env,
            "PARLOUR_DATABASE_URL": database_url,
            "PARLOUR_SECRET_KEY": SECRET,
            "PARLOUR_PUBLIC_URL": parlour_base,
            "PARLOUR_LOG_LEVEL": "warning",
            "PARLOUR_INBOUND_SMTP_HOST": "127.0.0.1",
            "PARLOUR_INBOUND_SMTP_PORT": str(p_port),
        },
    )
    rounds: list[dict[str, Any]] = []
    try:
        wait_smtp(b_port, bare)
        wait_ready(f"{parlour_base}/healthz", parlour)
        wait_smtp(p_port, parlour)
        pool = senders(args.senders)
        sent = 0
        for port in (b_port, p_port):  # warm up: every sender writes once, caches, contacts
            warm = [(s[1], make_mail(i, s, i % 3)) for i, s in enumerate(pool)]
            await fire(port, warm, args.concurrency, args.per_connection)
        sent += len(pool)
        for i in range(args.rounds):
            print(f"round {i + 1}")
            mails = mails_for(args.mails, pool, start=sent)
            b = await measure(
                "bare aiosmtpd + stdlib parse + one INSERT",
                bare,
                b_port,
                mails,
                args.concurrency,
                args.per_connection,
            )
            mails = mails_for(args.mails, pool, start=sent)
            p = await measure(
                "parlour serve, SMTP receiver",
                parlour,
                p_port,
                mails,
                args.concurrency,
                args.per_connection,
            )
            sent += args.mails
            ratio = p["mails_per_s"] / b["mails_per_s"]
            rounds.append({"bare": b, "parlour": p, "ratio": ratio})
            print(f"  ratio {ratio:.2f}")
    finally:
        for proc in (bare, parlour):
            proc.terminate()
            proc.wait(20)
    stored = await count(database_url, "SELECT count(*) FROM messages WHERE channel = 'email'")
    contacts = await count(database_url, "SELECT count(*) FROM contacts")
    bare_rows = await count(bare_url, "SELECT count(*) FROM bench_mails")
    print(
        f"stored: parlour {stored} messages, {contacts} contacts; bare {bare_rows} rows"
        f" (of {sent} sent to each)"
    )
    ratio = statistics.median(r["ratio"] for r in rounds)
    p_rate = statistics.median(r["parlour"]["mails_per_s"] for r in rounds)
    b_rate = statistics.median(r["bare"]["mails_per_s"] for r in rounds)
    print(
        f"median: parlour {p_rate:.1f} mails/s, bare {b_rate:.1f} mails/s; "
        f"ratio parlour / bare over {len(rounds)} rounds: {ratio:.2f}"
    )
    return {
        "rounds": rounds,
        "median_ratio": ratio,
        "median_parlour_mails_per_s": statistics.median(
            r["parlour"]["mails_per_s"] for r in rounds
        ),
        "median_bare_mails_per_s": statistics.median(r["bare"]["mails_per_s"] for r in rounds),
        "sent_each": sent,
        "stored": {
            "parlour_messages": stored,
            "parlour_contacts": contacts,
            "bare_rows": bare_rows,
        },
    }


def save(results: dict[str, Any], name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    results["machine"] = machine()
    results["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1:5432")
    parser.add_argument("--mails", type=int, default=1000, help="mails a round, each server")
    parser.add_argument("--senders", type=int, default=200, help="distinct sender addresses")
    parser.add_argument("--concurrency", type=int, default=16, help="SMTP clients at once")
    parser.add_argument("--per-connection", type=int, default=10, help="mails a connection")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", help="the results file's name (default: by database)")
    args = parser.parse_args()
    print(
        f"{args.mails} mails a round, {args.concurrency} clients at once, "
        f"{args.per_connection} a connection, {args.senders} senders"
    )
    results: dict[str, Any] = {
        "bench": "email-receiver",
        "args": vars(args),
        "code": describe_app(ROOT),
        "loadavg_before": os.getloadavg(),
    }
    if args.postgres:
        names = [f"parlour_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        for name in names:
            await pg_admin(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL")
            results["database"] = "postgresql"
            results.update(
                await bench(
                    f"postgresql+asyncpg://postgres@127.0.0.1:5432/{names[0]}",
                    f"postgresql+asyncpg://postgres@127.0.0.1:5432/{names[1]}",
                    args,
                )
            )
        finally:
            for name in names:
                await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite")
            results["database"] = "sqlite"
            results.update(
                await bench(
                    f"sqlite+aiosqlite:///{Path(tmp) / 'parlour.db'}",
                    f"sqlite+aiosqlite:///{Path(tmp) / 'bare.db'}",
                    args,
                )
            )
    results["loadavg_after"] = os.getloadavg()
    save(results, args.label or f"email-receiver-{results['database']}")


if __name__ == "__main__":
    asyncio.run(main())
