"""An account's SMS provider connections: credentials stored sealed, read back as plain values."""

from __future__ import annotations

from sqlalchemy import select

from parlour.channels.crypto import CannotDecrypt, seal, unseal
from parlour.channels.sms.models import SmsProviderAccount
from parlour.channels.sms.provider import SmsCredentials
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import NotFound


async def get_connection(tx: Tx, *, account_id: int, provider: str) -> SmsProviderAccount | None:
    found: SmsProviderAccount | None = await tx.session.scalar(
        select(SmsProviderAccount).where(
            SmsProviderAccount.account_id == account_id, SmsProviderAccount.provider == provider
        )
    )
    return found


async def list_connections(tx: Tx, *, account_id: int) -> list[SmsProviderAccount]:
    rows = await tx.session.scalars(
        select(SmsProviderAccount)
        .where(SmsProviderAccount.account_id == account_id)
        .order_by(SmsProviderAccount.provider)
    )
    return list(rows)


async def save(
    tx: Tx,
    *,
    account_id: int,
    provider: str,
    secret_key: str,
    creds: SmsCredentials,
) -> SmsProviderAccount:
    """Stores (or replaces) the account's credentials at ``provider``."""
    secrets = {
        k: v
        for k, v in {
            "auth_token": creds.auth_token,
            "api_key_secret": creds.api_key_secret,
            "api_key": creds.api_key,
        }.items()
        if v
    }
    conn = await get_connection(tx, account_id=account_id, provider=provider)
    if conn is None:
        conn = SmsProviderAccount(account_id=account_id, provider=provider, created_at=utcnow())
        tx.session.add(conn)
    conn.account_sid = creds.account_sid
    conn.api_key_sid = creds.api_key_sid
    conn.public_key = creds.public_key
    conn.secrets_sealed = seal(secret_key, secrets)
    conn.updated_at = utcnow()
    await tx.session.flush()
    return conn


async def remove(tx: Tx, *, account_id: int, provider: str) -> None:
    conn = await get_connection(tx, account_id=account_id, provider=provider)
    if conn is None:
        raise NotFound(f"{provider.title()} is not connected.", code="not_connected")
    await tx.session.delete(conn)
    await tx.session.flush()


def credentials_of(conn: SmsProviderAccount, *, secret_key: str) -> SmsCredentials | None:
    """The plain credentials, or None if they were sealed under another secret key."""
    try:
        secrets = unseal(secret_key, conn.secrets_sealed)
    except CannotDecrypt:
        return None
    return SmsCredentials(
        account_sid=conn.account_sid,
        auth_token=secrets.get("auth_token", ""),
        api_key_sid=conn.api_key_sid,
        api_key_secret=secrets.get("api_key_secret"),
        api_key=secrets.get("api_key"),
        public_key=conn.public_key,
    )


async def credentials_by_provider_account(
    tx: Tx, *, provider: str, account_sid: str, secret_key: str
) -> list[tuple[int, SmsCredentials]]:
    """The Parlour accounts (and their credentials) connected to one provider account, by
    its id (Twilio's ``AC...``): more than one may share it."""
    if not account_sid:
        return []
    rows = await tx.session.scalars(
        select(SmsProviderAccount).where(
            SmsProviderAccount.provider == provider,
            SmsProviderAccount.account_sid == account_sid,
        )
    )
    found = [(conn.account_id, credentials_of(conn, secret_key=secret_key)) for conn in rows]
    return [(account_id, creds) for account_id, creds in found if creds is not None]


async def public_keys(tx: Tx, *, provider: str) -> dict[str, list[int]]:
    """The public keys that sign ``provider``'s webhooks (Telnyx), each with the Parlour
    accounts connected under it."""
    rows = await tx.session.execute(
        select(SmsProviderAccount.public_key, SmsProviderAccount.account_id).where(
            SmsProviderAccount.provider == provider, SmsProviderAccount.public_key.is_not(None)
        )
    )
    keys: dict[str, list[int]] = {}
    for key, account_id in rows.tuples():
        if key:
            keys.setdefault(key, []).append(account_id)
    return keys


async def credentials_for(
    tx: Tx, *, account_id: int, provider: str, secret_key: str
) -> SmsCredentials | None:
    conn = await get_connection(tx, account_id=account_id, provider=provider)
    return credentials_of(conn, secret_key=secret_key) if conn else None
