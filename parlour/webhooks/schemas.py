"""Webhook endpoints and their deliveries, as the API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from parlour.types import ShortText
from parlour.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# What subscribers see. The event log's "contact.updated" of a new contact is sent as
# "contact.created" (parlour.webhooks.service.exposed_type).
WebhookEventType = Literal[
    "message.created",
    "message.updated",
    "conversation.updated",
    "conversation.read",
    "contact.created",
    "contact.updated",
    "contact.deleted",
]
EVENT_TYPES: tuple[str, ...] = get_args(WebhookEventType)
# Sent by "Send test event", whatever the endpoint subscribed to.
TEST_EVENT = "webhook.test"

WebhookUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


EventTypes = Annotated[
    list[WebhookEventType], Field(max_length=len(EVENT_TYPES)), AfterValidator(_unique)
]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: WebhookUrl
    description: ShortText = ""
    # Empty: every event type.
    event_types: EventTypes = Field(default_factory=list)
    enabled: bool = True


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: WebhookUrl | None = None
    description: ShortText | None = None
    event_types: EventTypes | None = None
    # True again clears the failure count and why Parlour had disabled it.
    enabled: bool | None = None


class EndpointOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    # Set when Parlour disabled it because deliveries kept failing.
    disabled_reason: str | None
    # Deliveries in a row that failed every attempt.
    failures: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, e: WebhookEndpoint) -> EndpointOut:
        return cls(
            id=e.id,
            url=e.url,
            description=e.description,
            event_types=list(e.event_types or []),
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            failures=e.failures,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )


class EndpointCreated(EndpointOut):
    # Shown once here; admins can read it again at GET /webhooks/{id}/secret.
    secret: str


class SecretOut(BaseModel):
    secret: str


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    latency_ms: int
    response: str | None
    error: str | None

    @classmethod
    def from_model(cls, a: WebhookAttempt) -> AttemptOut:
        return cls(
            at=a.at,
            status_code=a.status_code,
            latency_ms=a.latency_ms,
            response=a.response,
            error=a.error,
        )


DeliveryStatus = Literal["pending", "delivering", "succeeded", "failed"]


class DeliveryOut(BaseModel):
    id: int
    # The webhook-id header: the same for every attempt and resend.
    msg_id: str
    event_type: str
    event_seq: int | None
    status: DeliveryStatus
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    payload: dict[str, Any]
    # Oldest first.
    attempts: list[AttemptOut]

    @classmethod
    def from_model(cls, d: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
        return cls(
            id=d.id,
            msg_id=d.msg_id,
            event_type=d.event_type,
            event_seq=d.event_seq,
            status=d.status,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            created_at=d.created_at,
            finished_at=d.finished_at,
            payload=d.payload,
            attempts=[AttemptOut.from_model(a) for a in attempts],
        )
