"""Before a server says it is ready: its busiest paths, run once on each pooled
connection, in transactions that are rolled back.

A PostgreSQL server that had just started answered its first texts at 100/s with a p99 of
0.34-1.9 s, where a warm one answers within 20 ms: each statement was compiled by
SQLAlchemy on its first use, then prepared by asyncpg on each connection on its first use
there, and the first requests queued behind that work. Behind a load balancer every
rolling restart sent traffic at that moment, as soon as ``/readyz`` said ready. Now
``/readyz`` says ready after this has run.

What runs is the real code, for a throwaway account made inside each transaction: an
inbound text from a new number and then from the same number, the contacts panel (a page,
a search), the thread, the contacts search, an agent's reply, marking the thread read,
looking up an API token. Nothing is committed: nothing is stored, numbered or published.
A failure is logged and the server starts anyway, only less warm.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import UTC, datetime

from parlour.accounts import service as accounts_service
from parlour.accounts.models import Account, User
from parlour.channels.sms import inbound
from parlour.channels.sms.models import PhoneNumber
from parlour.contacts import service as contacts_service
from parlour.conversations import outbound, panel, thread, thread_page
from parlour.conversations.channel import Author
from parlour.conversations.schemas import MessageIn
from parlour.conversations.views import builtin_views
from parlour.db.tx import Tx, transaction
from parlour.runtime import Runtime

log = logging.getLogger(__name__)

# 555-01xx numbers are set aside for fiction; the company one is unique per transaction,
# so transactions running side by side never wait on each other's rows.
_SENDER = "+12025550143"


async def warm_up(rt: Runtime, *, connections: int) -> None:
    """Runs the busiest paths on ``connections`` pooled connections at once (one on SQLite,
    whose single connection serves every statement)."""
    started = time.perf_counter()
    n = 1 if rt.db.dialect == "sqlite" else max(1, connections)
    results = await asyncio.gather(*(_one(rt, i) for i in range(n)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        log.warning("warming up failed on %d of %d connections: %r", len(failed), n, failed[0])
    log.info("warmed up %d connection(s) in %.0f ms", n, (time.perf_counter() - started) * 1000)


async def _one(rt: Runtime, index: int) -> None:
    async with transaction(rt.db, rt.hub) as tx:
        await _exercise(rt, tx, index)
        # Leaving the block without a commit rolls all of it back (parlour.db.tx).


async def _exercise(rt: Runtime, tx: Tx, index: int) -> None:
    now = datetime.now(UTC)
    tag = secrets.token_hex(6)
    account = Account(name=f"warm-up {tag}", created_at=now)
    tx.session.add(account)
    await tx.session.flush()
    user = User(
        account_id=account.id,
        email=f"warm-up-{tag}@warm-up.invalid",
        name="Warm-up",
        role="agent",
        password_hash="!",  # matches no password
        created_at=now,
    )
    e164 = f"+1202555{index % 100:02d}{secrets.randbelow(100):02d}"
    number = PhoneNumber(
        account_id=account.id, e164=e164, label="", provider="console", sms_enabled=True
    )
    tx.session.add_all([user, number])
    await tx.session.flush()

    settings = rt.settings
    conn = await tx.session.connection()
    routed = await inbound.route(
        conn, e164=e164, provider="console", secret_key=settings.secret_key
    )
    assert routed is not None
    ref = routed[0]
    received = None
    for text in ("Hello, is anyone there?", "Hello again"):
        sms = inbound.InboundSms(
            provider_message_id=f"warm-up-{secrets.token_hex(8)}",
            from_number=_SENDER,
            to_number=e164,
            body=text,
        )
        received = await inbound.receive(tx, number=ref, sms=sms, region=settings.default_region)
    assert received is not None
    conversation_id = received.message.conversation_id

    await accounts_service.resolve_api_token(tx, token=secrets.token_urlsafe(32))
    all_open = builtin_views(rt.channels)["all"][1]
    for q in (None, "hello", "20"):
        await panel.list_panel(
            tx,
            account_id=account.id,
            user_id=user.id,
            filters=all_open,
            q=q,
            cursor=None,
            limit=50,
        )
    await contacts_service.search_contacts(
        tx, account_id=account.id, q="warm", cursor=None, limit=50
    )
    await thread_page.list_messages(
        tx,
        channels=rt.channels,
        account_id=account.id,
        conversation_id=conversation_id,
        before=None,
        limit=50,
    )
    sms_channel = rt.channels["sms"]
    await outbound.send_message(
        tx,
        channel=sms_channel,
        account_id=account.id,
        conversation_id=conversation_id,
        author=Author.user(user),
        draft=outbound.draft_of(MessageIn(channel="sms", body="Yes, we are here."), sms_channel),
    )
    await thread.mark_read(
        tx, account_id=account.id, conversation_id=conversation_id, user_id=user.id
    )
    await tx.session.flush()
