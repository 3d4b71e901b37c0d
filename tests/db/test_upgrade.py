"""Upgrading a database made by the previous release loses nothing, on both databases.

Parlour has tagged no release yet, so "the previous release" is the schema before the two
newest parts of the product: 0012 (web-chat visitors), the head before workflows (0013) and
outgoing webhooks (0014). Those two migrations also rebuild existing tables (``accounts``,
``messages`` and ``tasks`` gain columns, which SQLite does by copying each table), the
kind of step that can drop or mangle rows. The rows are written with plain SQL as that
schema had them, one or more in each of its tables, and read back after ``migrate``:
counts, values, and the web app's API over them.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from parlour.app import create_app
from parlour.config import Settings
from parlour.db.migrate import MIGRATIONS, migrate

PREVIOUS_RELEASE = "0012"
TOKEN = "plr_made-by-the-previous-release"
NOW = "CURRENT_TIMESTAMP"

# Every table of the 0012 schema, as that release wrote them.
ROWS_AT_0012: dict[str, list[str]] = {
    "accounts": [
        "(id, name, event_seq, sms_opt_out_scope, created_at)"
        f" VALUES (1, 'Acme', 7, 'number', {NOW})",
        "(id, name, event_seq, sms_opt_out_scope, created_at)"
        f" VALUES (2, 'Other', 0, 'account', {NOW})",
    ],
    "blobs": [
        "(id, account_id, content_type, size, sha256, data, created_at)"
        f" VALUES (1, 1, 'image/png', 4, '{'0' * 64}', :png, {NOW})"
    ],
    "users": [
        "(id, account_id, email, name, role, password_hash, avatar_blob_id, active, created_at)"
        f" VALUES (1, 1, 'ada@acme.test', 'Ada', 'admin', 'argon2-hash', 1, true, {NOW})",
        "(id, account_id, email, name, role, password_hash, active, created_at)"
        f" VALUES (2, 1, 'sam@acme.test', 'Sam', 'agent', 'argon2-hash-2', false, {NOW})",
    ],
    "api_tokens": [
        "(id, account_id, user_id, name, token_hash, prefix, created_at)"
        f" VALUES (1, 1, 1, 'zapier', :token_hash, 'plr_made', {NOW})"
    ],
    "login_sessions": [
        "(id, user_id, token_hash, csrf_token, created_at, expires_at)"
        f" VALUES (1, 1, '{'a' * 64}', 'csrf', {NOW}, {NOW})"
    ],
    "idempotency_keys": [
        "(id, account_id, user_id, key, fingerprint, status_code, created_at)"
        f" VALUES (1, 1, 1, 'k-1', '{'f' * 64}', 201, {NOW})"
    ],
    "phone_numbers": [
        "(id, account_id, e164, label, provider, sms_enabled, created_at)"
        f" VALUES (1, 1, '+16505550100', 'Main', 'twilio', true, {NOW})"
    ],
    "sms_provider_accounts": [
        "(id, account_id, provider, account_sid, secrets_sealed, created_at, updated_at)"
        f" VALUES (1, 1, 'twilio', 'AC123', 'sealed', {NOW}, {NOW})"
    ],
    "mailboxes": [
        "(id, account_id, address, name, provider, enabled, created_at, smtp_host, signature,"
        " inbound_token, imap_host, imap_last_uid)"
        f" VALUES (1, 1, 'hello@acme.test', 'Support', 'smtp', true, {NOW}, 'smtp.acme.test',"
        " '-- Acme', 'inbound-token', 'imap.acme.test', 42)"
    ],
    "widgets": [
        "(id, account_id, name, public_token, enabled, allowed_origins, greeting, color,"
        " identity_secret, created_at, offline_mode, office_hours, timezone)"
        " VALUES (1, 1, 'Site', 'wgt_acme', true, '[\"https://acme.test\"]', 'Hi!', '#112233',"
        f" 'secret', {NOW}, 'office_hours', '{{\"mon\": [\"09:00\", \"17:00\"]}}', 'Europe/Paris')"
    ],
    "contacts": [
        "(id, account_id, name, company, preferred_channel, search_text, created_at,"
        f" updated_at, search_head) VALUES (1, 1, 'Grace Hopper', 'Navy', 'sms', 'grace hopper',"
        f" {NOW}, {NOW}, 'grace hopper')",
        "(id, account_id, name, company, search_text, created_at, updated_at)"
        f" VALUES (2, 1, 'Visitor 1a2b', '', 'visitor 1a2b', {NOW}, {NOW})",
    ],
    "contact_phones": [
        "(id, account_id, contact_id, e164, label, sms_opt_out, sms_opt_out_at,"
        " sms_opt_out_number, created_at)"
        f" VALUES (1, 1, 1, '+15550100', 'mobile', true, {NOW}, '+16505550100', {NOW})"
    ],
    "contact_emails": [
        "(id, account_id, contact_id, address, label, bounced, created_at)"
        f" VALUES (1, 1, 1, 'grace@navy.test', 'work', true, {NOW})"
    ],
    "contact_tags": ["(contact_id, tag, account_id) VALUES (1, 'vip', 1)"],
    "contact_notes": [
        "(id, account_id, contact_id, author_id, body, created_at)"
        f" VALUES (1, 1, 1, 1, 'Prefers mornings', {NOW})"
    ],
    "conversations": [
        "(id, account_id, contact_id, status, assignee_id, last_message_at, last_inbound_at,"
        " last_message_preview, last_message_channel, last_message_direction, created_at,"
        " search_head, channels)"
        f" VALUES (1, 1, 1, 'open', 1, {NOW}, {NOW}, 'See you then', 'email', 'out', {NOW},"
        " 'grace hopper', 'sms,email')",
        "(id, account_id, contact_id, status, last_message_at, last_message_preview,"
        " last_message_channel, last_message_direction, created_at, search_head, channels)"
        f" VALUES (2, 1, 2, 'closed', {NOW}, 'We are closed', 'webchat', 'out', {NOW},"
        " 'visitor 1a2b', 'webchat')",
    ],
    "read_markers": [f"(conversation_id, user_id, last_read_at) VALUES (1, 1, {NOW})"],
    "views": [
        "(id, account_id, user_id, name, filters, created_at)"
        f" VALUES (1, 1, 1, 'VIPs', '{{\"tag\": \"vip\"}}', {NOW})"
    ],
    "messages": [
        "(id, account_id, conversation_id, direction, channel, sender_type, body, from_address,"
        " to_address, provider_message_id, status, meta, created_at, updated_at, endpoint_id,"
        " contact_endpoint_id) VALUES (1, 1, 1, 'in', 'sms', 'contact', 'Are you open?',"
        f" '+15550100', '+16505550100', 'SM1', 'received', '{{}}', {NOW}, {NOW}, 1, 1)",
        "(id, account_id, conversation_id, direction, channel, sender_type, user_id, body,"
        " subject, html, from_address, to_address, status, meta, created_at, updated_at,"
        " endpoint_id, contact_endpoint_id) VALUES (2, 1, 1, 'out', 'email', 'user', 1,"
        " 'See you then', 'Re: Hours', '<p>See you then</p>', 'hello@acme.test',"
        " 'grace@navy.test', 'sent', '{\"message_id\": \"<m1@acme.test>\"}',"
        f" {NOW}, {NOW}, 1, 1)",
        "(id, account_id, conversation_id, direction, channel, sender_type, workflow_name, body,"
        " status, error_code, error_message, meta, created_at, updated_at, endpoint_id)"
        " VALUES (3, 1, 2, 'out', 'webchat', 'bot', 'Away', 'We are closed', 'failed', 'x',"
        f" 'gone', '{{}}', {NOW}, {NOW}, 1)",
    ],
    "attachments": [
        "(id, account_id, message_id, blob_id, filename, content_type, size, uploaded_by)"
        " VALUES (1, 1, 2, 1, 'map.png', 'image/png', 4, 1)"
    ],
    "webchat_visitors": [
        "(id, widget_id, account_id, contact_id, identifier, nonce, created_at, last_seen_at)"
        f" VALUES (1, 1, 1, 2, 'user-42', 'nonce', {NOW}, {NOW})"
    ],
    "webchat_uploads": ["(attachment_id, visitor_id) VALUES (1, 1)"],
    "outbox": [
        "(id, account_id, message_id, state, attempts, next_attempt_at, last_error, created_at)"
        f" VALUES (1, 1, 2, 'done', 1, {NOW}, NULL, {NOW})"
    ],
    "tasks": [
        "(id, account_id, kind, owner_id, title, status, message_id, created_at, completed_at)"
        f" VALUES (1, 1, 'email', 1, 'Email to grace@navy.test: Re: Hours', 'completed', 2,"
        f" {NOW}, {NOW})"
    ],
    "events": [
        "(id, account_id, seq, type, data, created_at)"
        f" VALUES (1, 1, 7, 'message.created', '{{\"id\": 2}}', {NOW})"
    ],
}


async def _write_previous_release(conn: AsyncConnection) -> None:
    params = {
        "png": b"\x89PNG",
        "token_hash": hashlib.sha256(TOKEN.encode()).hexdigest(),
    }
    for table, rows in ROWS_AT_0012.items():
        for values in rows:
            sql = f"INSERT INTO {table} {values}"
            await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})


async def _counts(conn: AsyncConnection) -> dict[str, int]:
    return {
        table: int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
        for table in ROWS_AT_0012
    }


async def _one(conn: AsyncConnection, sql: str) -> tuple[Any, ...]:
    return tuple((await conn.execute(text(sql))).one())


async def test_a_previous_release_database_upgrades_with_nothing_lost(fresh_url: str) -> None:
    await migrate(fresh_url, PREVIOUS_RELEASE)
    engine = create_async_engine(fresh_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            # Every table of that schema has rows (a table added to it must be added above).
            tables = await conn.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
            own = {t for t in tables if t != "alembic_version" and not t.startswith("sqlite_")}
            # SQLite's full-text indexes of contacts, which it keeps itself.
            own = {t for t in own if not t.startswith(("contacts_words", "contacts_fts"))}
            assert own == set(ROWS_AT_0012)
            await _write_previous_release(conn)
            before = await _counts(conn)

        await migrate(fresh_url)

        async with engine.connect() as conn:
            assert await _counts(conn) == before
            version = await _one(conn, "SELECT version_num FROM alembic_version")
            assert version == (ScriptDirectory(str(MIGRATIONS)).get_current_head(),)
            assert await _one(
                conn,
                "SELECT name, event_seq, sms_opt_out_scope, timezone FROM accounts WHERE id = 1",
            ) == ("Acme", 7, "number", "UTC")
            assert await _one(
                conn, "SELECT email, password_hash, role, active FROM users WHERE id = 2"
            ) == ("sam@acme.test", "argon2-hash-2", "agent", False)
            assert await _one(
                conn,
                "SELECT body, subject, html, user_id, status, endpoint_id, contact_endpoint_id"
                " FROM messages WHERE id = 2",
            ) == ("See you then", "Re: Hours", "<p>See you then</p>", 1, "sent", 1, 1)
            assert await _one(
                conn, "SELECT sender_type, workflow_name, error_message FROM messages WHERE id = 3"
            ) == ("bot", "Away", "gone")
            assert await _one(
                conn, "SELECT title, status, owner_id, message_id FROM tasks WHERE id = 1"
            ) == ("Email to grace@navy.test: Re: Hours", "completed", 1, 2)
            assert await _one(
                conn, "SELECT e164, sms_opt_out, sms_opt_out_number FROM contact_phones"
            ) == ("+15550100", True, "+16505550100")
            assert await _one(conn, "SELECT data FROM blobs") == (b"\x89PNG",)
            assert await _one(
                conn, "SELECT inbound_token, imap_last_uid, signature FROM mailboxes"
            ) == ("inbound-token", 42, "-- Acme")
    finally:
        await engine.dispose()

    # And the app reads it as before: the old API token works, the panel has both threads.
    settings = Settings(
        database_url=fresh_url,
        secret_key="test-secret",
        public_url="http://test",
        run_worker=False,
        imap_poll=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            me = await client.get("/api/v1/auth/me", headers=auth)
            assert me.status_code == 200, me.text
            assert me.json()["user"]["email"] == "ada@acme.test"
            names = {}
            for view in ("all", "closed"):
                panel = await client.get(f"/api/v1/conversations?view={view}", headers=auth)
                assert panel.status_code == 200, panel.text
                names[view] = [item["contact"]["name"] for item in panel.json()["items"]]
            assert names == {"all": ["Grace Hopper"], "closed": ["Visitor 1a2b"]}
            thread = await client.get("/api/v1/conversations/1/messages", headers=auth)
            assert [m["body"] for m in thread.json()["items"]] == ["Are you open?", "See you then"]
