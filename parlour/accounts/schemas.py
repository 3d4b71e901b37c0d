"""Request and response shapes for logins, users and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from parlour.accounts.hours import TimeZone
from parlour.accounts.models import Account, ApiToken, User
from parlour.contacts.schemas import initials
from parlour.types import Name

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    email: Email
    password: Password


class UserIn(Strict):
    email: Email
    name: Name
    password: Password
    role: Literal["admin", "agent"] = "agent"


class UserPatch(Strict):
    name: Name | None = None
    role: Literal["admin", "agent"] | None = None
    active: bool | None = None
    password: Password | None = None
    # Needed to change one's own password (an admin setting another user's needs none).
    current_password: Password | None = None


class TokenIn(Strict):
    name: Name


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    avatar_url: str | None
    initials: str
    active: bool

    @classmethod
    def from_model(cls, u: User) -> UserOut:
        return cls(
            id=u.id,
            email=u.email,
            name=u.name,
            role=u.role,
            avatar_url=f"/api/v1/users/{u.id}/avatar?v={u.avatar_blob_id}"
            if u.avatar_blob_id
            else None,
            initials=initials(u.name or u.email),
            active=u.active,
        )


class AccountOut(BaseModel):
    id: int
    name: str
    sms_opt_out_scope: Literal["account", "number"]
    # Scheduled workflows fire by this clock.
    timezone: str

    @classmethod
    def from_model(cls, a: Account) -> AccountOut:
        return cls(
            id=a.id,
            name=a.name,
            sms_opt_out_scope=a.sms_opt_out_scope,
            timezone=a.timezone or "UTC",
        )


class AccountPatch(Strict):
    name: Name | None = None
    sms_opt_out_scope: Literal["account", "number"] | None = None
    timezone: TimeZone | None = None


class SessionOut(BaseModel):
    user: UserOut
    account: AccountOut
    csrf_token: str | None


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, t: ApiToken) -> TokenOut:
        return cls(
            id=t.id,
            name=t.name,
            prefix=t.prefix,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
        )


class NewTokenOut(TokenOut):
    token: str
