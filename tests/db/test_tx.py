"""Commits number their events under the account's row lock, taken last."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from parlour.contacts import service as contacts_service
from parlour.conversations import service as conversations_service
from parlour.conversations.models import Conversation
from parlour.db.tx import Tx, transaction
from parlour.realtime.events import Event
from parlour.runtime import Runtime
from tests.conftest import Tenant, run_tx


async def test_a_commit_with_pending_changes_does_not_deadlock_a_concurrent_webhook(
    runtime: Runtime, tenant: Tenant, database_url: str
) -> None:
    """An agent's change to a thread (pending in the ORM until commit) and an inbound text
    updating the same thread at once: both must commit. Taking the account's lock before
    writing the pending change deadlocked them on PostgreSQL."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite writers take turns: two write transactions never overlap")
    rt = runtime

    async def open_thread(tx: Tx) -> int:
        contact = await contacts_service.find_or_create_by_phone(
            tx, account_id=tenant.account_id, e164="+16505550199"
        )
        conv = await conversations_service.get_or_open(
            tx, account_id=tenant.account_id, contact_id=contact.id
        )
        return conv.id

    conv_id = await run_tx(rt, open_thread)
    webhook_updated = asyncio.Event()
    agent_committing = asyncio.Event()

    async def webhook() -> None:
        async with transaction(rt.db, rt.hub) as tx:
            conn = await tx.session.connection()
            # Like receive_inbound: the thread's row is written at once (and locked).
            await conn.execute(
                update(Conversation)
                .where(Conversation.id == conv_id)
                .values(last_message_preview="from the webhook")
            )
            webhook_updated.set()
            await agent_committing.wait()
            await asyncio.sleep(0.3)  # the agent's commit is under way meanwhile
            tx.emit(Event(type="conversation.updated", account_id=tenant.account_id, data={}))
            await tx.commit()

    async def agent() -> None:
        await webhook_updated.wait()
        async with transaction(rt.db, rt.hub) as tx:
            conv = await tx.session.get(Conversation, conv_id)
            assert conv is not None
            conv.status = "closed"  # pending until commit
            tx.emit(Event(type="conversation.updated", account_id=tenant.account_id, data={}))
            agent_committing.set()
            await tx.commit()

    await asyncio.wait_for(asyncio.gather(webhook(), agent()), timeout=20)

    async def read(tx: Tx) -> tuple[str, str]:
        conv = await tx.session.get(Conversation, conv_id, populate_existing=True)
        assert conv is not None
        return conv.status, conv.last_message_preview

    assert await run_tx(rt, read) == ("closed", "from the webhook")
