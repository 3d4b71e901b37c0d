"""Before /readyz says ready, the server runs its busiest paths once on each pooled
connection (parlour/warmup.py): it must store, number and publish nothing."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import func, select

from parlour.accounts.models import Account, User
from parlour.app import create_app
from parlour.channels.registry import make_providers
from parlour.config import Settings
from parlour.contacts.models import Contact
from parlour.conversations.models import Conversation, Message
from parlour.db.tx import Tx
from parlour.outbox.models import OutboxItem
from parlour.realtime.models import EventRecord
from parlour.runtime import Runtime
from tests.conftest import run_tx

MODELS = (Account, User, Contact, Conversation, Message, OutboxItem, EventRecord)


async def _counts(rt: Runtime) -> dict[str, int]:
    async def count(tx: Tx) -> dict[str, int]:
        return {
            model.__name__: int(
                await tx.session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in MODELS
        }

    return await run_tx(rt, count)


async def test_warming_up_stores_nothing_and_the_server_is_then_ready(
    settings: Settings, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    before = await _counts(runtime)  # the database is shared with other tests
    warm = settings.model_copy(update={"warm_up": True})
    app = create_app(warm, providers=make_providers(warm))
    caplog.set_level(logging.INFO, logger="parlour.warmup")
    async with app.router.lifespan_context(app):
        rt: Runtime = app.state.runtime
        assert rt.ready.is_set()
        warmed = [r for r in caplog.records if r.name == "parlour.warmup"]
        assert [r.levelname for r in warmed] == ["INFO"], [r.getMessage() for r in warmed]
        expected = 1 if rt.db.dialect == "sqlite" else 8
        assert f"warmed up {expected} connection(s)" in warmed[0].getMessage()
        assert await _counts(rt) == before
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/readyz")).status_code == 200
