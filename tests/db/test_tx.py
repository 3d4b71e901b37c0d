"""Commits number their events in commit order, under the account's row lock taken last."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from parlour.contacts import service as contacts_service
from parlour.conversations import thread as conversations_thread
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
        sender = await contacts_service.create_sender_by_phone(
            tx, account_id=tenant.account_id, e164="+16505550199"
        )
        conv = await conversations_thread.get_or_open(
            tx, account_id=tenant.account_id, contact_id=sender.contact_id
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


async def test_concurrent_commits_number_events_in_commit_order(
    runtime: Runtime, tenant: Tenant
) -> None:
    """Many writers at once: every event gets its own number, a transaction's events get
    consecutive ones, the numbers have no holes, and the account's counter ends on the
    last. (On PostgreSQL the numbers are assigned inside COMMIT by a trigger.)"""
    from sqlalchemy import select

    from parlour.realtime.models import EventRecord
    from parlour.realtime.service import latest_seq

    start = await run_tx(runtime, lambda tx: latest_seq(tx, account_id=tenant.account_id))
    numbered: list[list[int]] = []

    class NoReadBack:
        async def get(self, *_: object) -> dict[int, int]:
            raise AssertionError("PostgreSQL's COMMIT should have announced every number")

    # PostgreSQL's numbers come with the COMMIT's answer: no query reads them back.
    object.__setattr__(runtime.db, "event_numbers", NoReadBack())

    async def write(i: int) -> None:
        async with transaction(runtime.db, runtime.hub) as tx:
            evs = [
                Event(type="contact.deleted", account_id=tenant.account_id, data={"i": i, "n": n})
                for n in range(2)
            ]
            for ev in evs:
                tx.emit(ev)
            await tx.commit()
            numbered.append([ev.seq for ev in evs])

    await asyncio.gather(*(write(i) for i in range(20)))
    assert all(b == a + 1 for a, b in numbered)
    assert sorted(seq for pair in numbered for seq in pair) == list(range(start + 1, start + 41))

    async def stored(tx: Tx) -> list[tuple[int | None, dict[str, int]]]:
        rows = await tx.session.execute(
            select(EventRecord.seq, EventRecord.data)
            .where(EventRecord.account_id == tenant.account_id, EventRecord.seq > start)
            .order_by(EventRecord.seq)
        )
        return [(seq, data) for seq, data in rows.tuples()]

    rows = await run_tx(runtime, stored)
    assert [seq for seq, _ in rows] == list(range(start + 1, start + 41))
    for pair in numbered:  # what each writer was told is what was stored
        assert rows[pair[0] - start - 1][1]["n"] == 0 and rows[pair[1] - start - 1][1]["n"] == 1
    assert await run_tx(runtime, lambda tx: latest_seq(tx, account_id=tenant.account_id)) == (
        start + 40
    )


async def test_a_rolled_back_transaction_uses_no_number(runtime: Runtime, tenant: Tenant) -> None:
    from parlour.realtime.service import latest_seq

    async def fail(tx: Tx) -> None:
        tx.emit(Event(type="contact.deleted", account_id=tenant.account_id, data={}))
        raise RuntimeError("changed my mind")

    before = await run_tx(runtime, lambda tx: latest_seq(tx, account_id=tenant.account_id))
    with pytest.raises(RuntimeError):
        await run_tx(runtime, fail)

    async def one(tx: Tx) -> int:
        ev = Event(type="contact.deleted", account_id=tenant.account_id, data={})
        tx.emit(ev)
        await tx.commit()
        return ev.seq

    assert await run_tx(runtime, one) == before + 1


async def test_events_are_numbered_when_the_commit_announces_nothing(
    runtime: Runtime, tenant: Tenant, database_url: str
) -> None:
    """PostgreSQL announces each number in a notice during COMMIT; a server set to send
    no notices (client_min_messages) still has the numbers read back."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite numbers events in the application")
    from parlour.realtime.service import latest_seq

    class Deaf(dict[int, int]):
        def __setitem__(self, key: int, value: int) -> None:
            return None

    object.__setattr__(runtime.db, "heard_event_numbers", Deaf())
    start = await run_tx(runtime, lambda tx: latest_seq(tx, account_id=tenant.account_id))

    async def two(tx: Tx) -> list[int]:
        evs = [Event(type="contact.deleted", account_id=tenant.account_id, data={}) for _ in "ab"]
        for ev in evs:
            tx.emit(ev)
        await tx.commit()
        return [ev.seq for ev in evs]

    assert await run_tx(runtime, two) == [start + 1, start + 2]


async def test_before_commit_writes_with_the_transaction_and_can_stop_it(
    runtime: Runtime, tenant: Tenant
) -> None:
    """What a hook writes is committed with the caller's writes; a hook that raises
    commits neither."""
    from sqlalchemy import func, select

    from parlour.contacts.models import Contact

    def add(tx: Tx, name: str) -> None:
        tx.session.add(Contact(account_id=tenant.account_id, name=name))

    async def commit_with(tx: Tx, *, fail: bool) -> None:
        add(tx, "Caller's")

        async def hook() -> None:
            add(tx, "Hook's")
            await tx.session.flush()
            if fail:
                raise RuntimeError("refused")

        tx.before_commit(hook)
        await tx.commit()

    async def names(tx: Tx) -> dict[str, int]:
        rows = await tx.session.execute(
            select(Contact.name, func.count())
            .where(Contact.account_id == tenant.account_id)
            .group_by(Contact.name)
        )
        return dict(rows.tuples().all())

    with pytest.raises(RuntimeError):
        await run_tx(runtime, lambda tx: commit_with(tx, fail=True))
    assert await run_tx(runtime, names) == {}
    await run_tx(runtime, lambda tx: commit_with(tx, fail=False))
    assert await run_tx(runtime, names) == {"Caller's": 1, "Hook's": 1}


async def test_a_failed_savepoint_takes_back_its_writes_and_its_events(
    runtime: Runtime, tenant: Tenant
) -> None:
    """A part of a transaction that fails on its own (a workflow's step) leaves nothing
    behind: not its rows, nor the events and callbacks it queued. The rest commits."""
    from sqlalchemy import select

    from parlour.realtime.models import EventRecord
    from parlour.realtime.service import latest_seq

    start = await run_tx(runtime, lambda tx: latest_seq(tx, account_id=tenant.account_id))
    called: list[str] = []
    async with transaction(runtime.db, runtime.hub) as tx:
        kept = await contacts_service.create_sender_by_phone(
            tx, account_id=tenant.account_id, e164="+16505550111"
        )
        tx.emit(Event(type="contact.updated", account_id=tenant.account_id, data={"n": 1}))
        with pytest.raises(RuntimeError):
            async with tx.savepoint():
                await contacts_service.create_sender_by_phone(
                    tx, account_id=tenant.account_id, e164="+16505550112"
                )
                tx.emit(Event(type="contact.updated", account_id=tenant.account_id, data={"n": 2}))
                tx.after_commit(lambda: called.append("after"))
                raise RuntimeError("the step failed")
        await tx.commit()

    async def stored(tx: Tx) -> list[dict[str, int]]:
        rows = await tx.session.scalars(
            select(EventRecord.data)
            .where(EventRecord.account_id == tenant.account_id, EventRecord.seq > start)
            .order_by(EventRecord.seq)
        )
        return [data for data in rows if "n" in data]

    assert await run_tx(runtime, stored) == [{"n": 1}]
    assert called == []

    async def phones(tx: Tx) -> set[str]:
        found = set()
        for e164 in ("+16505550111", "+16505550112"):
            if await contacts_service.find_by_phone(tx, account_id=tenant.account_id, e164=e164):
                found.add(e164)
        return found

    assert await run_tx(runtime, phones) == {"+16505550111"}
    assert kept.contact_id
