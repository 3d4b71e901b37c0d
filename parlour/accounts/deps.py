"""Who is calling: a browser session (cookie + CSRF header) or an API token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from parlour.accounts import service
from parlour.accounts.models import User
from parlour.db.deps import SAFE_METHODS, TxDep
from parlour.db.tx import Tx
from parlour.errors import Forbidden, Unauthorized
from parlour.idempotency.http import claim_key
from parlour.openapi import answers
from parlour.runtime import runtime_of

SESSION_COOKIE = "parlour_session"
CSRF_HEADER = "X-CSRF-Token"


async def authenticate(
    tx: Tx, *, authorization: str | None, cookie: str | None
) -> tuple[User, str | None]:
    """Returns the user and, for cookie logins, the session's CSRF token."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Use 'Authorization: Bearer <token>'.", code="bad_auth_header")
        user = await service.resolve_api_token(tx, token=token.strip())
        if user is None:
            raise Unauthorized("This API token is not valid.", code="invalid_token")
        return user, None
    if cookie:
        found = await service.resolve_session(tx, token=cookie)
        if found:
            return found[0], found[1].csrf_token
    raise Unauthorized("Log in first.", code="not_authenticated")


async def user_of_request(request: Request, tx: Tx) -> User:
    """The caller, with the CSRF check that cookie logins need for writes."""
    user, csrf = await authenticate(
        tx,
        authorization=request.headers.get("authorization"),
        cookie=request.cookies.get(SESSION_COOKIE),
    )
    if csrf is not None and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf.encode()):
            raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    request.state.csrf_token = csrf
    request.state.settings = runtime_of(request).settings
    return user


def session_token_of(request: Request) -> str | None:
    """The browser session a request came with, if that is how it was authenticated (a
    request with an API token may carry a cookie too: that session is not the caller)."""
    if getattr(request.state, "csrf_token", None) is None:
        return None
    return request.cookies.get(SESSION_COOKIE)


def require_admin(user: User) -> User:
    if user.role != "admin":
        raise Forbidden("Only an admin can do this.", code="admin_only")
    return user


@answers(401, writes=(403,))
async def current_user(request: Request, tx: TxDep) -> User:
    user = await user_of_request(request, tx)
    # A write sent with an Idempotency-Key is answered again if it was answered, or its
    # key is held with its writes: from here on, the key is known to be this user's.
    await claim_key(request, tx, account_id=user.account_id, user_id=user.id)
    return user


@answers(403)
async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    return require_admin(user)


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
