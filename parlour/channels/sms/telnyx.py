"""Telnyx: the second SMS provider, over its v2 REST API with httpx.

Telnyx takes an ``Idempotency-Key``, so a send retried after a crash is sent once, and it
signs webhooks with Ed25519: the signature covers ``"{timestamp}|{raw body}"`` and is
checked with the account's public key (Mission Control → Keys & Credentials). Its webhooks'
JSON is read here into Parlour's values too.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from parlour.channels.sms import errors
from parlour.channels.sms import http as sms_http
from parlour.channels.sms.inbound import InboundSms, MediaRef
from parlour.channels.sms.provider import (
    MAX_MEDIA,
    Media,
    OutgoingSms,
    SmsCredentials,
    WebhookUrls,
)
from parlour.channels.sms.statuses import TELNYX_STATUS, ReportedStatus
from parlour.outbox.delivery import (
    DeliveryError,
    PermanentFailure,
    ProviderReceipt,
    TransientFailure,
)

WEBHOOK_PATH = "/webhooks/telnyx"
SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
# Telnyx's own SDKs refuse webhooks signed more than five minutes ago: a captured request
# cannot be replayed later.
TOLERANCE_SECONDS = 300


def public_key_valid(public_key: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
    except (ValueError, binascii.Error):
        return False
    return True


def signature_valid(
    *,
    public_key: str,
    body: bytes,
    signature: str,
    timestamp: str,
    now: float | None = None,
) -> bool:
    try:
        signed_at = int(timestamp)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), timestamp.encode() + b"|" + body)
    except (ValueError, binascii.Error, InvalidSignature):
        return False
    return abs((time.time() if now is None else now) - signed_at) <= TOLERANCE_SECONDS


def _failure(resp: httpx.Response) -> DeliveryError:
    try:
        first: dict[str, Any] = (resp.json().get("errors") or [{}])[0]
    except (ValueError, AttributeError, IndexError):
        first = {}
    code = str(first.get("code") or f"http_{resp.status_code}")
    text = str(first.get("detail") or first.get("title") or resp.reason_phrase)
    if resp.status_code == 429 or resp.status_code >= 500:
        return TransientFailure(f"Telnyx answered {resp.status_code}: {text}"[:300], code=code)
    return PermanentFailure(errors.describe("telnyx", code, text), code=code)


class TelnyxSms:
    idempotent = True

    def __init__(self, *, api_base: str, public_url: str, timeout: float = 15.0) -> None:
        self.api_base = api_base.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.timeout = timeout

    def webhook_url(self, message_id: int | None = None) -> str:
        query = f"?{urlencode({'message_id': message_id})}" if message_id else ""
        return f"{self.public_url}{WEBHOOK_PATH}{query}"

    def webhook_urls(self) -> WebhookUrls:
        return WebhookUrls(inbound=self.webhook_url())

    def _headers(self, creds: SmsCredentials | None) -> dict[str, str]:
        if creds is None or not creds.api_key:
            raise PermanentFailure(
                "Telnyx is not connected for this account. Connect it in Settings → SMS.",
                code="telnyx_not_connected",
            )
        return {"Authorization": f"Bearer {creds.api_key}", "Accept": "application/json"}

    async def _request(
        self, method: str, path: str, creds: SmsCredentials | None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self._headers(creds), **kwargs.pop("headers", {})}
        try:
            async with sms_http.client(timeout=self.timeout) as http:
                resp = await http.request(
                    method, f"{self.api_base}{path}", headers=headers, **kwargs
                )
        except httpx.HTTPError as exc:
            raise TransientFailure(f"Could not reach Telnyx: {exc!r}"[:300]) from exc
        if resp.status_code >= 300:
            raise _failure(resp)
        return resp

    async def send(self, msg: OutgoingSms, *, idempotency_key: str) -> ProviderReceipt:
        resp = await self._request(
            "POST",
            "/v2/messages",
            msg.credentials,
            headers={"Idempotency-Key": idempotency_key},
            json={
                "from": msg.from_number,
                "to": msg.to,
                "text": msg.body,
                "webhook_url": msg.status_callback or self.webhook_url(msg.message_id),
                "use_profile_webhooks": False,
            },
        )
        try:
            return ProviderReceipt(provider_message_id=str(resp.json()["data"]["id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientFailure("Telnyx answered without a message id.") from exc

    async def fetch_status(
        self, creds: SmsCredentials | None, provider_message_id: str
    ) -> ReportedStatus:
        """The message record (``GET /v2/messages/{id}``; Telnyx keeps it for ten days):
        ``to[0].status`` and ``errors``, as in its webhooks."""
        resp = await self._request(
            "GET", f"/v2/messages/{quote(provider_message_id, safe='')}", creds
        )
        try:
            data = resp.json()["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientFailure("Telnyx answered without the message.") from exc
        if not isinstance(data, dict):
            raise TransientFailure("Telnyx answered without the message.")
        first_error = _dig(data, "errors", 0) or {}
        return ReportedStatus(
            provider="telnyx",
            provider_message_id=provider_message_id,
            # A status Parlour does not know is not final: ask again later.
            status=TELNYX_STATUS.get(str(_dig(data, "to", 0, "status")), "sent"),
            error_code=str(first_error.get("code")) if first_error.get("code") else None,
            error_text=first_error.get("detail") or first_error.get("title"),
        )

    async def check_credentials(self, creds: SmsCredentials) -> None:
        await self._request("GET", "/v2/phone_numbers", creds, params={"page[size]": 1})

    async def fetch_media(self, creds: SmsCredentials | None, url: str) -> Media:
        # Telnyx media links are pre-signed: no credentials go with them.
        try:
            async with sms_http.client(timeout=self.timeout, follow_redirects=True) as http:
                resp = await http.get(url)
        except httpx.HTTPError as exc:
            raise TransientFailure(f"Could not fetch media: {exc!r}"[:300]) from exc
        if resp.status_code == 429 or resp.status_code >= 500:
            raise TransientFailure(f"Media fetch answered {resp.status_code}")
        if resp.status_code != 200:
            raise PermanentFailure(f"Media fetch answered {resp.status_code}", code="media_gone")
        return Media(resp.content, resp.headers.get("content-type", "application/octet-stream"))


# --- webhook payloads ------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookEvent:
    """A messaging webhook Parlour acts on: an inbound text, or a status of one we sent."""

    kind: str  # message.received | message.sent | message.finalized
    payload: dict[str, Any]
    # The company's side of the message, which names the account (and its public key).
    company_number: str

    @property
    def received(self) -> bool:
        return self.kind == "message.received"


def _dig(obj: Any, *path: str | int) -> Any:
    for key in path:
        try:
            obj = obj[key]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


def parse_event(body: bytes) -> WebhookEvent | None:
    """The webhook's JSON body, once its signature was checked; None for the event types
    that are not ours to act on."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise errors.invalid_webhook("The body is not JSON (or nested too deep).", "body") from exc
    kind = _dig(event, "data", "event_type")
    payload = _dig(event, "data", "payload")
    if not isinstance(kind, str) or not isinstance(payload, dict):
        raise errors.invalid_webhook("data.event_type and data.payload are required.", "data")
    if kind == "message.received":
        company = _dig(payload, "to", 0, "phone_number")
    elif kind in ("message.sent", "message.finalized"):
        company = _dig(payload, "from", "phone_number")
    else:
        return None
    return WebhookEvent(kind=kind, payload=payload, company_number=str(company or ""))


def inbound_sms(payload: dict[str, Any], *, to_number: str) -> InboundSms:
    """A ``message.received`` payload as an inbound text to the company number."""
    sid = payload.get("id")
    sender = _dig(payload, "from", "phone_number")
    if not isinstance(sid, str) or not sid or len(sid) > 200:
        raise errors.invalid_webhook("payload.id is missing.", "payload.id")
    if not isinstance(sender, str) or not sender:
        raise errors.invalid_webhook("payload.from.phone_number is missing.", "payload.from")
    if "\x00" in sid + sender:
        raise errors.invalid_webhook("The payload contains a NUL character.", "payload")
    refs = []
    for item in payload.get("media") or []:
        url = _dig(item, "url")
        ctype = str(_dig(item, "content_type") or "application/octet-stream")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise errors.invalid_webhook("A media item has no URL.", "payload.media")
        if "\x00" in url + ctype:
            raise errors.invalid_webhook("A media item contains a NUL character.", "payload.media")
        refs.append(MediaRef(url=url, content_type=ctype))
    text = payload.get("text")
    return InboundSms(
        provider_message_id=sid,
        from_number=sender,
        to_number=to_number,
        body=(text if isinstance(text, str) else "").replace("\x00", ""),
        media=tuple(refs[:MAX_MEDIA]),
    )


def status_report(payload: dict[str, Any]) -> ReportedStatus:
    """A ``message.sent`` or ``message.finalized`` payload as the status it reports."""
    sid = payload.get("id")
    if not isinstance(sid, str) or not sid:
        raise errors.invalid_webhook("payload.id is missing.", "payload.id")
    raw_status = _dig(payload, "to", 0, "status")
    status = TELNYX_STATUS.get(str(raw_status))
    if status is None:
        raise errors.invalid_webhook(f"Unknown status {raw_status!r}.", "payload.to")
    first_error = _dig(payload, "errors", 0) or {}
    return ReportedStatus(
        provider="telnyx",
        provider_message_id=sid,
        status=status,
        error_code=str(first_error.get("code")) if first_error.get("code") else None,
        error_text=first_error.get("detail") or first_error.get("title"),
    )
