"""The baseline: a bare aiosmtpd handler that parses each mail with the stdlib
(``email.message_from_bytes``, ``policy.default``) and does one INSERT. It takes every
recipient, and runs on its own process as Parlour's receiver does, aiosmtpd's protocol on
``loop.create_server``.

    BENCH_DB_URL=sqlite+aiosqlite:////tmp/bare.db BENCH_SMTP_PORT=2525 \
        uv run python -m bench.email.bare_receiver
"""

from __future__ import annotations

import asyncio
import os
import signal
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, event
from sqlalchemy.ext.asyncio import create_async_engine

URL = os.environ["BENCH_DB_URL"]
engine = create_async_engine(URL, **({} if URL.startswith("sqlite") else {"pool_size": 10}))
if URL.startswith("sqlite"):
    # The same journal settings Parlour uses, so that only the work per mail differs.
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


meta = MetaData()
mails = Table(
    "bench_mails",
    meta,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(998)),
    Column("sender", String(320)),
    Column("subject", Text),
    Column("body", Text),
)


class Handler:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        msg: Any = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        async with engine.begin() as conn:
            await conn.execute(
                mails.insert().values(
                    message_id=str(msg["Message-ID"] or ""),
                    sender=str(msg["From"] or ""),
                    subject=str(msg["Subject"] or ""),
                    body=part.get_content() if part is not None else "",
                )
            )
        return "250 2.0.0 OK: queued"


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    loop = asyncio.get_running_loop()
    handler = Handler()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bare", enable_SMTPUTF8=True, timeout=60, loop=loop),
        host="127.0.0.1",
        port=int(os.environ["BENCH_SMTP_PORT"]),
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
