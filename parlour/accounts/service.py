"""Accounts, users, logins and API tokens."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select

from parlour.accounts.models import Account, ApiToken, LoginSession, Role, User
from parlour.accounts.passwords import hash_password, new_token, token_hash, verify_password
from parlour.contacts.lookalikes import lookalike_of
from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from parlour.files import service as files_service

MIN_PASSWORD = 8


async def get_or_create_account(tx: Tx, *, name: str) -> Account:
    account = await tx.session.scalar(select(Account).where(Account.name == name))
    if account is None:
        account = Account(name=name, event_seq=0)
        tx.session.add(account)
        await tx.session.flush()
    return account


async def create_user(
    tx: Tx, *, account_id: int, email: str, name: str, password: str, role: Role
) -> User:
    email = email.strip().lower()
    _check_strength(password)
    if await tx.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict("A user with this email already exists.", code="user_exists")
    await _refuse_lookalike(tx, account_id=account_id, email=email)
    user = User(
        account_id=account_id,
        email=email,
        name=name,
        role=role,
        password_hash=await asyncio.to_thread(hash_password, password),
    )
    tx.session.add(user)
    await tx.session.flush()
    return user


async def _refuse_lookalike(tx: Tx, *, account_id: int, email: str) -> None:
    # A team is small enough to compare with every address in it.
    team = await tx.session.scalars(select(User.email).where(User.account_id == account_id))
    twin = lookalike_of(email, team)
    if twin is not None:
        raise Conflict(
            f"{email} looks like {twin}, a user of this account: check the letters.",
            code="lookalike_email",
            details={"field": "email", "email": twin},
        )


async def get_user(tx: Tx, *, account_id: int, user_id: int) -> User:
    user = await tx.session.scalar(
        select(User).where(User.id == user_id, User.account_id == account_id)
    )
    if user is None:
        raise NotFound("No such user.")
    return user


async def get_user_by_email(tx: Tx, *, email: str) -> User:
    user = await tx.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"No user with email {email}.")
    return user


async def list_users(tx: Tx, *, account_id: int) -> list[User]:
    rows = await tx.session.scalars(
        select(User).where(User.account_id == account_id).order_by(User.name, User.id)
    )
    return list(rows)


async def update_user(
    tx: Tx,
    *,
    user: User,
    name: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
) -> User:
    if (role is not None and role != "admin") or active is False:
        await _keep_an_admin(tx, user=user)
    if name is not None:
        user.name = name
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
    await tx.session.flush()
    return user


async def _keep_an_admin(tx: Tx, *, user: User) -> None:
    """Refuses to take away the account's last active admin: nobody could then manage
    users, numbers or mailboxes, nor make anyone admin again, short of the command line."""
    if user.role != "admin" or not user.active:
        return
    others = await tx.session.scalar(
        select(func.count(User.id)).where(
            User.account_id == user.account_id,
            User.role == "admin",
            User.active.is_(True),
            User.id != user.id,
        )
    )
    if not others:
        raise Conflict(
            "This is the account's last admin: make another user admin first.",
            code="last_admin",
        )


def _check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"Passwords need at least {MIN_PASSWORD} characters.",
            code="weak_password",
            details={"field": "password"},
        )


async def change_own_password(
    tx: Tx, *, user: User, current: str | None, new: str, keep_session: str | None
) -> None:
    """A user's own change: their current password first (a session left open on a
    shared computer must not be enough to take the account over), then every other
    browser session ends. ``keep_session`` is the token of the session asking, which stays
    logged in; API tokens stay, listed and revocable under /api/v1/tokens."""
    if not current:
        raise InvalidInput(
            "Give your current password to change it.",
            code="current_password_required",
            details={"field": "current_password"},
        )
    if not await asyncio.to_thread(verify_password, user.password_hash, current):
        raise Forbidden(
            "The current password is wrong.",
            code="wrong_password",
            details={"field": "current_password"},
        )
    _check_strength(new)
    user.password_hash = await asyncio.to_thread(hash_password, new)
    ended = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_session is not None:
        ended = ended.where(LoginSession.token_hash != token_hash(keep_session))
    await tx.session.execute(ended)
    await tx.session.flush()


async def reset_password(tx: Tx, *, user: User, password: str) -> None:
    """An admin setting another user's password (they forgot theirs, or left): no old
    password is asked, and every browser session of that user ends, so whoever was logged
    in as them is out. Their API tokens stay: revoking those is their own call, or the
    admin's by deactivating the user."""
    _check_strength(password)
    user.password_hash = await asyncio.to_thread(hash_password, password)
    await tx.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    await tx.session.flush()


async def set_avatar(tx: Tx, *, user: User, data: bytes | None) -> User:
    if data is None:
        user.avatar_blob_id = None
    else:
        ctype = files_service.sniff_image(data)
        blob = await files_service.store(
            tx, account_id=user.account_id, data=data, content_type=ctype
        )
        user.avatar_blob_id = blob.id
    await tx.session.flush()
    return user


@dataclass(frozen=True)
class NewLogin:
    token: str
    csrf_token: str
    user: User


async def login(tx: Tx, *, email: str, password: str, days: int) -> NewLogin:
    user = await tx.session.scalar(select(User).where(User.email == email.strip().lower()))
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise Unauthorized("Wrong email or password.", code="bad_credentials")
    token = new_token("")
    csrf = secrets.token_urlsafe(24)
    tx.session.add(
        LoginSession(
            user_id=user.id,
            token_hash=token_hash(token),
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    await tx.session.flush()
    return NewLogin(token=token, csrf_token=csrf, user=user)


# Every request looks its caller up: the two statements are built once, with the token's
# hash (and the time) bound at each call. Building a statement and its cache key cost
# about as much CPU as running it.
_SESSION_OF = (
    select(User, LoginSession)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        LoginSession.token_hash == bindparam("token_hash"),
        LoginSession.expires_at > bindparam("now"),
        User.active.is_(True),
    )
)
_USER_OF_API_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), User.active.is_(True))
)


async def resolve_session(tx: Tx, *, token: str) -> tuple[User, LoginSession] | None:
    params = {"token_hash": token_hash(token), "now": utcnow()}
    row = (await tx.session.execute(_SESSION_OF, params)).first()
    return (row[0], row[1]) if row else None


async def logout(tx: Tx, *, token: str) -> None:
    await tx.session.execute(
        delete(LoginSession).where(LoginSession.token_hash == token_hash(token))
    )


@dataclass(frozen=True)
class NewToken:
    token: str
    record: ApiToken


async def create_api_token(tx: Tx, *, user: User, name: str) -> NewToken:
    token = new_token("plr_")
    record = ApiToken(
        account_id=user.account_id,
        user_id=user.id,
        name=name,
        token_hash=token_hash(token),
        prefix=token[:8],
    )
    tx.session.add(record)
    await tx.session.flush()
    return NewToken(token=token, record=record)


async def resolve_api_token(tx: Tx, *, token: str) -> User | None:
    found: User | None = await tx.session.scalar(
        _USER_OF_API_TOKEN, {"token_hash": token_hash(token)}
    )
    return found


async def list_api_tokens(tx: Tx, *, user: User) -> list[ApiToken]:
    rows = await tx.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    return list(rows)


async def revoke_api_token(tx: Tx, *, user: User, token_id: int) -> None:
    result = await tx.session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if result.rowcount == 0:
        raise NotFound("No such token.")
