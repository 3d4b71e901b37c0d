"""The baseline: a bare Starlette endpoint that parses the same form and does one INSERT."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, event
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

URL = os.environ["BENCH_DB_URL"]
engine = create_async_engine(URL, **({} if URL.startswith("sqlite") else {"pool_size": 10}))
if URL.startswith("sqlite"):
    # The same journal settings Parlour uses, so that only the work per request differs.
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


meta = MetaData()
inserts = Table(
    "bench_inserts",
    meta,
    Column("id", Integer, primary_key=True),
    Column("sid", String(64)),
    Column("body", Text),
)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    yield
    await engine.dispose()


async def webhook(request: Request) -> Response:
    form = await request.form()
    async with engine.begin() as conn:
        await conn.execute(
            inserts.insert().values(sid=str(form.get("MessageSid")), body=str(form.get("Body")))
        )
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response />', media_type="text/xml")


app = Starlette(
    routes=[Route("/webhooks/twilio/sms", webhook, methods=["POST"])], lifespan=lifespan
)
