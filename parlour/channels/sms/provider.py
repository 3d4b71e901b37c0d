"""The shapes an SMS provider has. Providers never touch the database.

``SmsProvider`` sends (the outbox worker calls it); ``SmsAccountApi`` is what the settings
routes, the CLI and the media downloads ask of the provider about a connected account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from parlour.outbox.delivery import ProviderReceipt

if TYPE_CHECKING:  # statuses.py reads webhooks, which import this module
    from parlour.channels.sms.statuses import ReportedStatus

# An MMS carries at most ten media items: a webhook naming more is refused (Twilio) or
# keeps the first ten (Telnyx).
MAX_MEDIA = 10


@dataclass(frozen=True)
class SmsCredentials:
    """One account's secrets at one provider, decrypted, as plain values."""

    # Twilio: the Account SID (AC…) and its auth token, which signs webhooks.
    account_sid: str = ""
    auth_token: str = ""
    # Twilio: an optional API key used for REST calls instead of the auth token.
    api_key_sid: str | None = None
    api_key_secret: str | None = None
    # Telnyx: the API key (REST) and the account's Ed25519 public key (webhooks).
    api_key: str | None = None
    public_key: str | None = None


@dataclass(frozen=True)
class OutgoingSms:
    from_number: str
    to: str
    body: str
    # Our message id; providers without idempotency keys carry it in the callback URL so
    # that a send interrupted by a crash can be looked up before being retried.
    message_id: int
    status_callback: str | None = None
    credentials: SmsCredentials | None = None
    # When we queued it: a lookup after a crash only considers what the provider created
    # after this instant.
    created_at: datetime | None = None


class SmsProvider(Protocol):
    # True when sending twice with the same idempotency key sends once.
    idempotent: bool

    async def send(self, msg: OutgoingSms, *, idempotency_key: str) -> ProviderReceipt: ...


@runtime_checkable
class LooksUpSent(Protocol):
    """A provider without idempotency keys that can tell what it already sent.

    Returns the messages it holds that could be this one (same from, to and body, created
    after ``msg.created_at``), oldest first; the worker takes the first not already
    recorded on another message.
    """

    async def find_sent(self, msg: OutgoingSms) -> list[ProviderReceipt]: ...


@runtime_checkable
class LooksUpStatus(Protocol):
    """A provider that can tell where a message it took is now (Twilio's message resource,
    Telnyx's message record): for when its delivery callback was lost.

    Returns the status as a callback would report it; raises TransientFailure to be asked
    again later, PermanentFailure when it will never tell (the message is unknown to it).
    """

    async def fetch_status(
        self, creds: SmsCredentials | None, provider_message_id: str
    ) -> ReportedStatus: ...


@dataclass(frozen=True)
class Media:
    data: bytes
    content_type: str


@dataclass(frozen=True)
class ProviderNumber:
    """A number on the provider account, as the provider lists it."""

    sid: str
    e164: str
    friendly_name: str
    sms: bool
    mms: bool


@dataclass(frozen=True)
class WebhookUrls:
    """Where the provider must send its webhooks, shown when an account is connected."""

    inbound: str
    # None when the provider sends statuses to the inbound URL too (Telnyx).
    status: str | None = None


@runtime_checkable
class SmsAccountApi(Protocol):
    """A provider's calls about a connected account rather than one message."""

    def webhook_urls(self) -> WebhookUrls: ...

    async def check_credentials(self, creds: SmsCredentials) -> None:
        """Raises PermanentFailure when the provider refuses these credentials."""

    async def fetch_media(self, creds: SmsCredentials | None, url: str) -> Media: ...


@runtime_checkable
class ListsNumbers(Protocol):
    """A provider whose numbers Parlour can list and import (Twilio)."""

    async def list_numbers(self, creds: SmsCredentials) -> list[ProviderNumber]: ...

    async def point_webhooks(self, creds: SmsCredentials, *, number_sid: str) -> None:
        """Sets the number's incoming-message webhook to Parlour."""
