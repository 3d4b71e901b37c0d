"""Login, the current user, users and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, UploadFile

from parlour.accounts import service
from parlour.accounts.deps import SESSION_COOKIE, AdminUser, CurrentUser, session_token_of
from parlour.accounts.models import Account, User
from parlour.accounts.schemas import (
    AccountOut,
    AccountPatch,
    LoginIn,
    NewTokenOut,
    SessionOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from parlour.db.deps import TxDep
from parlour.db.tx import Tx
from parlour.errors import Forbidden, Unauthorized
from parlour.files.api import blob_response, read_upload
from parlour.openapi import answers
from parlour.runtime import runtime_of
from parlour.types import PathId

auth = APIRouter(prefix="/auth", tags=["auth"])
users = APIRouter(prefix="/users", tags=["users"])
tokens = APIRouter(prefix="/tokens", tags=["tokens"])
account = APIRouter(prefix="/account", tags=["account"])


@auth.post("/login")
@answers({401: "`bad_credentials`: no user with this email and password."}, 429)
async def login(body: LoginIn, request: Request, response: Response, tx: TxDep) -> SessionOut:
    rt = runtime_of(request)
    settings, throttle = rt.settings, rt.login_throttle
    keys = ("email:" + body.email.strip().lower(), "ip:" + (request.client or ("?", 0))[0])
    throttle.check(*keys)
    try:
        new = await service.login(
            tx, email=body.email, password=body.password, days=settings.session_days
        )
    except Unauthorized:
        throttle.failed(*keys)
        raise
    throttle.succeeded(keys[0])
    acct = await tx.session.get(Account, new.user.account_id)
    assert acct is not None
    await tx.commit()
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return SessionOut(
        user=UserOut.from_model(new.user),
        account=AccountOut.from_model(acct),
        csrf_token=new.csrf_token,
    )


@auth.post("/logout", status_code=204, response_class=Response, response_model=None)
async def logout(request: Request, response: Response, user: CurrentUser, tx: TxDep) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await service.logout(tx, token=token)
        await tx.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")


@auth.get("/me")
async def me(request: Request, user: CurrentUser, tx: TxDep) -> SessionOut:
    acct = await tx.session.get(Account, user.account_id)
    assert acct is not None
    return SessionOut(
        user=UserOut.from_model(user),
        account=AccountOut.from_model(acct),
        csrf_token=request.state.csrf_token,
    )


@account.get("")
async def get_account(user: CurrentUser, tx: TxDep) -> AccountOut:
    acct = await tx.session.get(Account, user.account_id)
    assert acct is not None
    return AccountOut.from_model(acct)


@account.patch("")
async def update_account(body: AccountPatch, user: AdminUser, tx: TxDep) -> AccountOut:
    acct = await tx.session.get(Account, user.account_id)
    assert acct is not None
    if body.name is not None:
        acct.name = body.name
    if body.sms_opt_out_scope is not None:
        acct.sms_opt_out_scope = body.sms_opt_out_scope
    if body.timezone is not None:
        acct.timezone = body.timezone
    await tx.commit()
    return AccountOut.from_model(acct)


@users.get("")
async def list_users(user: CurrentUser, tx: TxDep) -> list[UserOut]:
    return [UserOut.from_model(u) for u in await service.list_users(tx, account_id=user.account_id)]


@users.post("", status_code=201)
async def create_user(body: UserIn, admin: AdminUser, tx: TxDep) -> UserOut:
    new = await service.create_user(
        tx,
        account_id=admin.account_id,
        email=body.email,
        name=body.name,
        password=body.password,
        role=body.role,
    )
    await tx.commit()
    return UserOut.from_model(new)


@users.patch("/{user_id}")
@answers(429)  # guesses at the current password count as failed logins
async def update_user(
    user_id: PathId, body: UserPatch, request: Request, user: CurrentUser, tx: TxDep
) -> UserOut:
    target = await service.get_user(tx, account_id=user.account_id, user_id=user_id)
    if user.role != "admin" and (
        target.id != user.id or body.role is not None or body.active is not None
    ):
        raise Forbidden("Only an admin can change other users or roles.", code="admin_only")
    await service.update_user(tx, user=target, name=body.name, role=body.role, active=body.active)
    if body.password is not None and target.id == user.id:
        await _change_own_password(request, tx, user, body)
    elif body.password is not None:
        await service.reset_password(tx, user=target, password=body.password)
    await tx.commit()
    return UserOut.from_model(target)


async def _change_own_password(request: Request, tx: Tx, user: User, body: UserPatch) -> None:
    # Guesses at the current password count as failed logins of that email: an open
    # session must not become a way around the login throttle.
    throttle = runtime_of(request).login_throttle
    key = "email:" + user.email
    throttle.check(key)
    assert body.password is not None
    try:
        await service.change_own_password(
            tx,
            user=user,
            current=body.current_password,
            new=body.password,
            keep_session=session_token_of(request),
        )
    except Forbidden:
        throttle.failed(key)
        raise
    throttle.succeeded(key)


@users.put("/me/avatar")
async def upload_my_avatar(
    file: UploadFile, request: Request, user: CurrentUser, tx: TxDep
) -> UserOut:
    data = await read_upload(file, limit=runtime_of(request).settings.max_upload_bytes)
    await service.set_avatar(tx, user=user, data=data)
    await tx.commit()
    return UserOut.from_model(user)


@users.delete("/me/avatar")
async def remove_my_avatar(user: CurrentUser, tx: TxDep) -> UserOut:
    await service.set_avatar(tx, user=user, data=None)
    await tx.commit()
    return UserOut.from_model(user)


@users.get("/{user_id}/avatar", response_class=Response)
async def user_avatar(user_id: PathId, user: CurrentUser, tx: TxDep) -> Response:
    target = await service.get_user(tx, account_id=user.account_id, user_id=user_id)
    return await blob_response(tx, account_id=user.account_id, blob_id=target.avatar_blob_id)


@tokens.get("")
async def list_tokens(user: CurrentUser, tx: TxDep) -> list[TokenOut]:
    return [TokenOut.from_model(t) for t in await service.list_api_tokens(tx, user=user)]


@tokens.post("", status_code=201)
async def create_token(body: TokenIn, user: CurrentUser, tx: TxDep) -> NewTokenOut:
    new = await service.create_api_token(tx, user=user, name=body.name)
    await tx.commit()
    return NewTokenOut(**TokenOut.from_model(new.record).model_dump(), token=new.token)


@tokens.delete("/{token_id}", status_code=204, response_class=Response, response_model=None)
async def revoke_token(token_id: PathId, user: CurrentUser, tx: TxDep) -> None:
    await service.revoke_api_token(tx, user=user, token_id=token_id)
    await tx.commit()
