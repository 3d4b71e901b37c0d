"""Where a mail's time goes in Parlour's SMTP receiver: the receiver's hooks called
in-process, one mail after another (no network, no concurrency), on SQLite, with the
main functions they call timed (wall time; on SQLite, whose statements run inline on the
event loop, that is the CPU time). The bare handler of bare_receiver.py is timed alike.

    uv run python -m bench.email.sections            # 600 mails after 200 to warm up

A quick experiment, to read beside receiver.py's ratio; it changes nothing in parlour/,
it wraps functions of the loaded modules.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import Envelope
from sqlalchemy import event

from bench.email.receiver import MAILBOX, make_mail, prepare_parlour, senders
from bench.sms.webhooks import SECRET

SPENT: dict[str, float] = defaultdict(float)


def timed(owner: Any, attr: str, name: str) -> None:
    fn = getattr(owner, attr)

    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapper(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await fn(*a, **kw)
            finally:
                SPENT[name] += time.perf_counter() - t0

    else:

        @functools.wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                SPENT[name] += time.perf_counter() - t0

    setattr(owner, attr, wrapper)


async def run(tmp: Path, warm: int, mails: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp / 'parlour.db'}"
    os.environ["BENCH_DB_URL"] = f"sqlite+aiosqlite:///{tmp / 'bare.db'}"
    from bench.email import bare_receiver
    from parlour.channels.email import inbound, mime, receiver
    from parlour.channels.registry import make_channels, make_providers
    from parlour.config import Settings
    from parlour.contacts import service as contacts_service
    from parlour.conversations import inbound as conversations_inbound
    from parlour.db.engine import make_database
    from parlour.db.tx import Tx
    from parlour.files import service as files_service
    from parlour.realtime.hub import make_hub
    from parlour.runtime import Runtime

    await prepare_parlour(url)
    settings = Settings(database_url=url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    rt = Runtime(
        settings=settings,
        db=make_database(settings),
        hub=make_hub(settings),
        channels=make_channels(settings, make_providers(settings)),
    )
    await rt.hub.start()
    handler = receiver.Handler(rt)
    async with bare_receiver.engine.begin() as conn:
        await conn.run_sync(bare_receiver.meta.create_all)
    bare = bare_receiver.Handler()
    pool = senders(200)
    rnd = random.Random(3)

    async def one(h: Any, i: int, sender: tuple[str, str], raw: bytes | None = None) -> None:
        env = Envelope()
        env.mail_from = sender[1]
        env.original_content = raw or make_mail(i, sender, i % 3)
        if h is handler:
            assert (await h.handle_RCPT(None, None, env, MAILBOX, [])).startswith("250")
        else:
            env.rcpt_tos.append(MAILBOX)
        assert (await h.handle_DATA(None, None, env)).startswith("250")

    for i, s in enumerate(pool[:warm]):
        await one(handler, i, s)
        await one(bare, i, s)
    sections = [
        (receiver.Handler, "handle_RCPT", "handle_RCPT (a mailbox lookup)"),
        (receiver.Handler, "handle_DATA", "handle_DATA"),
        (receiver.Handler, "_mailbox_of", "  Handler._mailbox_of (RCPT's and DATA's)"),
        (mime, "parse", "  mime.parse"),
        (inbound, "store", "  inbound.store"),
        (inbound, "_thread_answered", "    _thread_answered"),
        (contacts_service, "sender_by_email", "    contacts.sender_by_email"),
        (contacts_service, "get_contact", "      contacts.get_contact"),
        (contacts_service, "create_sender_by_email", "    contacts.create_sender_by_email"),
        (files_service, "store", "    files.store (raw mail, attachments)"),
        (inbound, "receive_inbound", "    conversations.receive_inbound"),
        (conversations_inbound, "_thread_row", "      _thread_row"),
        (conversations_inbound, "_emit_received", "      _emit_received"),
        (Tx, "commit", "  Tx.commit"),
        (bare_receiver.Handler, "handle_DATA", "bare handle_DATA (stdlib parse, INSERT)"),
    ]
    for owner, attr, name in sections:
        timed(owner, attr, name)
    statements = [0]

    @event.listens_for(rt.db.writer.sync_engine, "before_cursor_execute")
    @event.listens_for(rt.db.reader.sync_engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        statements[0] += 1

    # The mails are made before the clock starts, each with its own Message-ID.
    batch = [(s, make_mail(warm + i, s, i % 3)) for i, s in enumerate(rnd.choices(pool, k=mails))]
    t0 = time.perf_counter()
    for i, (s, raw) in enumerate(batch):
        await one(handler, warm + i, s, raw)
    total = time.perf_counter() - t0
    parlour_statements = statements[0] / mails
    batch = [(s, make_mail(warm + i, s, i % 3)) for i, s in enumerate(rnd.choices(pool, k=mails))]
    event.listen(bare_receiver.engine.sync_engine, "before_cursor_execute", _count)
    statements[0] = 0
    for i, (s, raw) in enumerate(batch):
        await one(bare, warm + i, s, raw)
    bare_statements = statements[0] / mails
    await rt.hub.stop()
    await rt.db.dispose()
    await bare_receiver.engine.dispose()
    print(f"{mails} mails one at a time, after {warm} to warm up; ms a mail (share of parlour's)")
    print(
        f"{'parlour, RCPT + DATA hooks':<48} {total / mails * 1000:6.2f}"
        f"  ({parlour_statements:.1f} SQL statements a mail, its BEGINs counted; the bare"
        f" handler {bare_statements:.1f}, its BEGIN not)"
    )
    for _, _, name in sections:
        spent = SPENT[name]
        ms = spent / mails * 1000
        print(f"{name:<48} {ms:6.2f}  {spent / total * 100:5.1f} %")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--warm", type=int, default=200, help="senders who write first")
    parser.add_argument("--mails", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await run(Path(tmp), args.warm, args.mails)


if __name__ == "__main__":
    asyncio.run(main())
