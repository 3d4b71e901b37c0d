"""Migration 0008 moves each message's endpoints into the generic columns and each
thread's channel flags into ``channels``, on both databases, losing nothing."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from parlour.db.migrate import migrate

_ROWS_AT_0007 = [
    "INSERT INTO accounts (id, name, event_seq, sms_opt_out_scope, created_at)"
    " VALUES (1, 'Acme', 0, 'account', CURRENT_TIMESTAMP)",
    "INSERT INTO contacts (id, account_id, name, company, search_text, created_at, updated_at)"
    " VALUES (1, 1, 'Ann', '', 'ann', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO contact_phones (id, account_id, contact_id, e164, label, sms_opt_out, created_at)"
    " VALUES (5, 1, 1, '+15550100', 'mobile', false, CURRENT_TIMESTAMP)",
    "INSERT INTO contact_emails (id, account_id, contact_id, address, label, bounced, created_at)"
    " VALUES (6, 1, 1, 'ann@example.com', 'work', false, CURRENT_TIMESTAMP)",
    "INSERT INTO phone_numbers (id, account_id, e164, label, provider, sms_enabled, created_at)"
    " VALUES (7, 1, '+15550199', 'Main', 'console', true, CURRENT_TIMESTAMP)",
    "INSERT INTO mailboxes (id, account_id, address, name, provider, enabled, created_at)"
    " VALUES (8, 1, 'hi@acme.test', 'Acme', 'console', true, CURRENT_TIMESTAMP)",
    "INSERT INTO widgets (id, account_id, name, public_token, enabled, allowed_origins,"
    " greeting, color, identity_secret, created_at)"
    " VALUES (9, 1, 'Site', 'wgt_x', true, '[]', '', '#000000', 's', CURRENT_TIMESTAMP)",
    "INSERT INTO conversations (id, account_id, contact_id, status, last_message_preview,"
    " has_sms, has_webchat, has_email, created_at)"
    " VALUES (1, 1, 1, 'open', '', true, false, true, CURRENT_TIMESTAMP)",
]
_MESSAGE = (
    "INSERT INTO messages (id, account_id, conversation_id, direction, channel, sender_type,"
    " body, phone_number_id, mailbox_id, widget_id, contact_phone_id, contact_email_id,"
    " status, meta, created_at, updated_at) VALUES (:id, 1, 1, 'out', :channel, 'user', 'x',"
    " :number, :mailbox, :widget, :phone, :email, 'sent', '{}', CURRENT_TIMESTAMP,"
    " CURRENT_TIMESTAMP)"
)


async def test_endpoints_and_channel_flags_survive_the_move(fresh_url: str) -> None:
    await migrate(fresh_url, "0007")
    engine = create_async_engine(fresh_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            for sql in _ROWS_AT_0007:
                await conn.execute(text(sql))
            for values in (
                {"id": 1, "channel": "sms", "number": 7, "phone": 5},
                {"id": 2, "channel": "email", "mailbox": 8, "email": 6},
                {"id": 3, "channel": "webchat", "widget": 9},
            ):
                row = {"number": None, "mailbox": None, "widget": None, "phone": None}
                await conn.execute(text(_MESSAGE), {**row, "email": None, **values})
        await migrate(fresh_url)
        async with engine.connect() as conn:
            messages = (
                await conn.execute(
                    text("SELECT id, endpoint_id, contact_endpoint_id FROM messages ORDER BY id")
                )
            ).all()
            channels = await conn.scalar(text("SELECT channels FROM conversations"))
    finally:
        await engine.dispose()
    assert [tuple(m) for m in messages] == [(1, 7, 5), (2, 8, 6), (3, 9, None)]
    assert channels == "email sms"
