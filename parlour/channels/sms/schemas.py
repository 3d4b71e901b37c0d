"""Company phone numbers and SMS provider connections, as the API shows and takes them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from parlour.channels.sms.models import PhoneNumber, SmsProviderAccount
from parlour.channels.sms.segments import MAX_BODY, SegmentInfo

Provider = Literal["console", "twilio", "telnyx"]
# The column's length (PhoneNumber.label), so the documented limit is the stored one.
NumberLabel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=PhoneNumber.__table__.c.label.type.length),
]


class PhoneNumberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    label: NumberLabel = ""
    provider: Provider = "console"
    sms_enabled: bool = True


class PhoneNumberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: NumberLabel | None = None
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


def _pattern(regex: str, what: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


Secret = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AccountSid = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    _pattern(r"AC[0-9a-fA-F]{32}", "a Twilio Account SID (AC followed by 32 hex digits)"),
]
ApiKeySid = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    _pattern(r"SK[0-9a-fA-F]{32}", "a Twilio API key SID (SK followed by 32 hex digits)"),
]


class TwilioConnectIn(BaseModel):
    """Twilio credentials. The auth token is always needed: Twilio signs webhooks with it.
    An API key (SID + secret), when given, is used for REST calls instead."""

    model_config = ConfigDict(extra="forbid")
    account_sid: AccountSid
    auth_token: Secret
    api_key_sid: ApiKeySid | None = None
    api_key_secret: Secret | None = None
    # Ask Twilio whether the credentials work before saving them.
    verify: bool = True


class TelnyxConnectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_key: Secret
    # The account's Ed25519 public key, base64 (Mission Control → Keys & Credentials).
    public_key: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=40, max_length=100)
    ]
    verify: bool = True


class ConnectionOut(BaseModel):
    """A provider connection, without its secrets."""

    provider: str
    connected: bool
    account_sid: str | None
    api_key_sid: str | None
    public_key: str | None
    # Whether the stored secrets can be read with this server's PARLOUR_SECRET_KEY.
    readable: bool
    updated_at: datetime | None
    # Paste these into the provider's console.
    inbound_webhook_url: str
    status_callback_url: str | None

    @classmethod
    def from_model(
        cls,
        conn: SmsProviderAccount,
        *,
        readable: bool,
        inbound_url: str,
        status_url: str | None,
    ) -> ConnectionOut:
        return cls(
            provider=conn.provider,
            connected=True,
            account_sid=conn.account_sid or None,
            api_key_sid=conn.api_key_sid,
            public_key=conn.public_key,
            readable=readable,
            updated_at=conn.updated_at,
            inbound_webhook_url=inbound_url,
            status_callback_url=status_url,
        )


class ProviderNumberOut(BaseModel):
    """A number held at the provider, and whether Parlour already has it."""

    sid: str
    e164: str
    friendly_name: str
    sms: bool
    mms: bool
    imported: bool


E164In = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class ImportNumbersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # E.164 numbers to import; null imports every SMS-capable number on the account.
    numbers: list[E164In] | None = Field(default=None, max_length=1000)
    # Also set each number's "A message comes in" webhook at Twilio to this Parlour.
    configure_webhooks: bool = False


class ImportNumbersOut(BaseModel):
    imported: list[PhoneNumberOut]
    already_present: list[str]


class SegmentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[str, StringConstraints(max_length=20_000)]


class SegmentsOut(BaseModel):
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    characters: int
    units: int
    per_segment: int
    remaining: int
    max_characters: int
    too_long: bool

    @classmethod
    def from_info(cls, info: SegmentInfo) -> SegmentsOut:
        return cls(
            encoding=info.encoding,
            segments=info.segments,
            characters=info.characters,
            units=info.units,
            per_segment=info.per_segment,
            remaining=info.remaining,
            max_characters=MAX_BODY,
            too_long=info.characters > MAX_BODY,
        )
