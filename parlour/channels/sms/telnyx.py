"""Telnyx: the second SMS provider, over its v2 REST API with httpx.

Telnyx takes an ``Idempotency-Key``, so a send retried after a crash is sent once, and it
signs webhooks with Ed25519: the signature covers ``"{timestamp}|{raw body}"`` and is
checked with the account's public key (Mission Control → Keys & Credentials).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from parlour.channels.sms import errors
from parlour.channels.sms.provider import OutgoingSms, SmsCredentials
from parlour.channels.sms.twilio import Media
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
            async with httpx.AsyncClient(timeout=self.timeout) as http:
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

    async def check_credentials(self, creds: SmsCredentials) -> None:
        await self._request("GET", "/v2/phone_numbers", creds, params={"page[size]": 1})

    async def fetch_media(self, creds: SmsCredentials | None, url: str) -> Media:
        # Telnyx media links are pre-signed: no credentials go with them.
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as http:
                resp = await http.get(url)
        except httpx.HTTPError as exc:
            raise TransientFailure(f"Could not fetch media: {exc!r}"[:300]) from exc
        if resp.status_code == 429 or resp.status_code >= 500:
            raise TransientFailure(f"Media fetch answered {resp.status_code}")
        if resp.status_code != 200:
            raise PermanentFailure(f"Media fetch answered {resp.status_code}", code="media_gone")
        return Media(resp.content, resp.headers.get("content-type", "application/octet-stream"))
