"""Company phone numbers, as the API shows and takes them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from parlour.channels.sms.models import PhoneNumber
from parlour.types import ShortText

Provider = Literal["console", "twilio"]


class PhoneNumberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    label: ShortText = ""
    provider: Provider = "console"
    sms_enabled: bool = True


class PhoneNumberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: ShortText | None = None
    provider: Provider | None = None
    sms_enabled: bool | None = None


class PhoneNumberOut(BaseModel):
    id: int
    e164: str
    label: str
    provider: str
    sms_enabled: bool

    @classmethod
    def from_model(cls, n: PhoneNumber) -> PhoneNumberOut:
        return cls(
            id=n.id, e164=n.e164, label=n.label, provider=n.provider, sms_enabled=n.sms_enabled
        )
