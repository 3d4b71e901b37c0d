"""Mailboxes, as the API shows and takes them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from parlour.channels.email.models import Mailbox
from parlour.types import ShortText

Address = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]


class MailboxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: Address
    name: ShortText = ""
    provider: Literal["console"] = "console"
    enabled: bool = True


class MailboxPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText | None = None
    enabled: bool | None = None


class MailboxOut(BaseModel):
    id: int
    address: str
    name: str
    provider: str
    enabled: bool

    @classmethod
    def from_model(cls, m: Mailbox) -> MailboxOut:
        return cls(id=m.id, address=m.address, name=m.name, provider=m.provider, enabled=m.enabled)
