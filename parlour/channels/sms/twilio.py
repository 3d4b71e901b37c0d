"""Twilio, through its official SDK: sending, looking up what was sent, numbers, media; and
its webhooks' form parameters, read into Parlour's values.

The SDK is pointed at ``PARLOUR_TWILIO_API_BASE`` (Twilio itself by default; a local fake
in tests) by configuration, so the requests and answers are Twilio's real wire format.
Twilio takes no idempotency key, so ``idempotent`` is False: a send interrupted by a crash
is looked up (``find_sent``) before it is ever retried.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from parlour.channels.sms import errors
from parlour.channels.sms import http as sms_http
from parlour.channels.sms.inbound import InboundSms, MediaRef
from parlour.channels.sms.keywords import from_twilio_opt_out_type
from parlour.channels.sms.provider import (
    MAX_MEDIA,
    Media,
    OutgoingSms,
    ProviderNumber,
    SmsCredentials,
    WebhookUrls,
)
from parlour.channels.sms.statuses import TWILIO_STATUS, ReportedStatus
from parlour.outbox.delivery import (
    DeliveryError,
    PermanentFailure,
    ProviderReceipt,
    TransientFailure,
)

STATUS_PATH = "/webhooks/twilio/status"
CLOCK_SKEW = timedelta(seconds=10)
INBOUND_PATH = "/webhooks/twilio/sms"
MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
MAX_FIELDS = 200  # Twilio sends about 20, plus two per media item


class HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]
    """The SDK's HTTP layer over httpx (already Parlour's HTTP client) instead of aiohttp.

    The SDK still builds every request (URL, form fields, auth, headers) and parses every
    answer; this only carries them.
    """

    def __init__(self, *, timeout: float) -> None:
        super().__init__(logging.getLogger("parlour.sms.twilio.http"), True, timeout)
        self._http = sms_http.client(timeout=timeout)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's signature
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        resp = await self._http.request(
            method.upper(),
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            follow_redirects=allow_redirects,
        )
        return TwilioResponse(resp.status_code, resp.text, resp.headers)

    async def close(self) -> None:
        await self._http.aclose()


def signature_valid(*, auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    """Twilio's own validator; it also tries the URL with and without the port, because
    Twilio signs ``https://host/...`` and ``https://host:443/...`` inconsistently."""
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def failure_from(status: int, code: object, text: str) -> DeliveryError:
    """Twilio's error answer as a delivery error: 429 and 5xx are worth retrying."""
    code_s = str(code) if code else None
    if status == 429 or code_s == "20429" or status >= 500:
        return TransientFailure(f"Twilio answered {status}: {text}"[:300], code=code_s or "")
    return PermanentFailure(
        errors.describe("twilio", code_s, text), code=code_s or f"http_{status}"
    )


class TwilioSms:
    idempotent = False

    def __init__(self, *, api_base: str, public_url: str, timeout: float = 15.0) -> None:
        self.api_base = api_base.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.timeout = timeout

    def status_callback_url(self, message_id: int) -> str:
        return f"{self.public_url}{STATUS_PATH}?{urlencode({'message_id': message_id})}"

    def inbound_url(self) -> str:
        return f"{self.public_url}{INBOUND_PATH}"

    def webhook_urls(self) -> WebhookUrls:
        return WebhookUrls(inbound=self.inbound_url(), status=f"{self.public_url}{STATUS_PATH}")

    @asynccontextmanager
    async def _client(self, creds: SmsCredentials | None) -> AsyncIterator[Client]:
        if creds is None or not creds.account_sid:
            raise PermanentFailure(
                "Twilio is not connected for this account. Connect it in Settings → SMS.",
                code="twilio_not_connected",
            )
        http = HttpxTwilioClient(timeout=self.timeout)
        try:
            if creds.api_key_sid and creds.api_key_secret:
                client = Client(
                    creds.api_key_sid, creds.api_key_secret, creds.account_sid, http_client=http
                )
            else:
                client = Client(creds.account_sid, creds.auth_token, http_client=http)
            client.api.base_url = self.api_base
            yield client
        except TwilioRestException as exc:
            raise failure_from(exc.status, exc.code, exc.msg) from exc
        except TwilioServiceException as exc:
            raise failure_from(exc.status, exc.code, exc.detail or exc.title) from exc
        except TwilioException as exc:
            # Listing pages raises a bare TwilioException carrying Twilio's answer.
            answer = next((a for a in exc.args if isinstance(a, TwilioResponse)), None)
            if answer is None:
                raise TransientFailure(f"Twilio failed: {exc!r}"[:300]) from exc
            try:
                body = json.loads(answer.text)
            except ValueError:
                body = {}
            raise failure_from(
                answer.status_code, body.get("code"), str(body.get("message") or exc.args[0])
            ) from exc
        except (httpx.HTTPError, TimeoutError) as exc:
            raise TransientFailure(f"Could not reach Twilio: {exc!r}"[:300]) from exc
        finally:
            await http.close()

    async def send(self, msg: OutgoingSms, *, idempotency_key: str) -> ProviderReceipt:
        async with self._client(msg.credentials) as client:
            sent = await client.messages.create_async(
                to=msg.to,
                from_=msg.from_number,
                body=msg.body,
                status_callback=msg.status_callback or self.status_callback_url(msg.message_id),
            )
        if sent.status in ("failed", "undelivered"):
            code = str(sent.error_code) if sent.error_code else None
            raise PermanentFailure(
                errors.describe("twilio", code, sent.error_message), code=code or "failed"
            )
        return ProviderReceipt(provider_message_id=str(sent.sid), status="sent")

    async def find_sent(self, msg: OutgoingSms) -> list[ProviderReceipt]:
        # Twilio's dates have whole seconds, and its clock is not ours: look a little earlier.
        since = msg.created_at.replace(microsecond=0) - CLOCK_SKEW if msg.created_at else None
        async with self._client(msg.credentials) as client:
            found = await client.messages.list_async(to=msg.to, from_=msg.from_number, limit=100)
        matches = [
            m
            for m in found
            if m.body == msg.body
            and (since is None or (m.date_created is not None and m.date_created >= since))
            and m.status not in ("failed", "undelivered", "canceled")
        ]
        matches.sort(key=lambda m: m.date_created or datetime.min.replace(tzinfo=UTC))
        return [ProviderReceipt(provider_message_id=str(m.sid), status="sent") for m in matches]

    async def fetch_status(
        self, creds: SmsCredentials | None, provider_message_id: str
    ) -> ReportedStatus:
        """The message resource (``GET .../Messages/{Sid}.json``): its status and error."""
        if not MESSAGE_SID.match(provider_message_id):
            raise PermanentFailure("Not a Twilio message SID.", code="unknown_message")
        async with self._client(creds) as client:
            found = await client.messages(provider_message_id).fetch_async()
        # A status Parlour does not know yet (Twilio adds some) is not final: ask again later.
        status = TWILIO_STATUS.get(str(found.status), "sent")
        return ReportedStatus(
            provider="twilio",
            provider_message_id=provider_message_id,
            status=status,
            error_code=str(found.error_code) if found.error_code else None,
            error_text=found.error_message or None,
        )

    async def check_credentials(self, creds: SmsCredentials) -> None:
        """Raises PermanentFailure (code 20003) when Twilio refuses these credentials."""
        async with self._client(creds) as client:
            await client.incoming_phone_numbers.list_async(limit=1)

    async def list_numbers(self, creds: SmsCredentials) -> list[ProviderNumber]:
        async with self._client(creds) as client:
            found = await client.incoming_phone_numbers.list_async(limit=1000)
        return [
            ProviderNumber(
                sid=str(n.sid),
                e164=str(n.phone_number),
                friendly_name=str(n.friendly_name or ""),
                sms=bool((n.capabilities or {}).get("sms")),
                mms=bool((n.capabilities or {}).get("mms")),
            )
            for n in found
        ]

    async def point_webhooks(self, creds: SmsCredentials, *, number_sid: str) -> None:
        """Sets the number's "A message comes in" webhook to Parlour."""
        async with self._client(creds) as client:
            await client.incoming_phone_numbers(number_sid).update_async(
                sms_url=self.inbound_url(), sms_method="POST"
            )

    async def fetch_media(self, creds: SmsCredentials | None, url: str) -> Media:
        """Downloads MMS media. Twilio answers with a redirect to its CDN; httpx drops the
        credentials when following it to another host."""
        auth = None
        if creds is not None:
            user, password = (
                (creds.api_key_sid, creds.api_key_secret)
                if creds.api_key_sid and creds.api_key_secret
                else (creds.account_sid, creds.auth_token)
            )
            auth = httpx.BasicAuth(user, password)
        try:
            async with sms_http.client(timeout=self.timeout, follow_redirects=True) as http:
                resp = await http.get(url, auth=auth)
        except httpx.HTTPError as exc:
            raise TransientFailure(f"Could not fetch media: {exc!r}"[:300]) from exc
        if resp.status_code == 429 or resp.status_code >= 500:
            raise TransientFailure(f"Media fetch answered {resp.status_code}")
        if resp.status_code != 200:
            raise PermanentFailure(f"Media fetch answered {resp.status_code}", code="media_gone")
        return Media(resp.content, resp.headers.get("content-type", "application/octet-stream"))


# --- webhook payloads ------------------------------------------------------------------
# Called after the signature check: the webhook layer verifies, these only read.


def form_params(body: bytes) -> dict[str, str]:
    """A webhook's form-encoded body as Twilio's parameters (what its signature covers)."""
    # The standard library's parser, not Starlette's form parser: it is ten times faster,
    # and every inbound text pays for it. Form bodies are ASCII; fields decode as UTF-8.
    try:
        items = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise errors.invalid_webhook("The body is not valid form encoding.", "body") from exc
    params: dict[str, str] = {}
    for key, value in items:
        if key in params:
            # Twilio never repeats a field; a repeated one could hide a second value from
            # the signature check, so it is refused outright.
            raise errors.invalid_webhook(f"The field {key} is repeated.", key)
        params[key] = value
    return params


def inbound_sms(params: dict[str, str]) -> InboundSms:
    """The "A message comes in" webhook's parameters as an inbound text."""
    for key, value in params.items():
        # PostgreSQL refuses NUL in text; only the body may carry one, and loses it.
        if key != "Body" and "\x00" in value:
            raise errors.invalid_webhook(f"{key} contains a NUL character.", key)
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or ""
    if not MESSAGE_SID.match(sid):
        raise errors.invalid_webhook("MessageSid is missing or malformed.", "MessageSid")
    if not params.get("From"):
        raise errors.invalid_webhook("From is missing.", "From")
    raw_count = params.get("NumMedia", "0") or "0"
    if not raw_count.isdigit() or int(raw_count) > MAX_MEDIA:
        raise errors.invalid_webhook("NumMedia must be a number from 0 to 10.", "NumMedia")
    refs = []
    for i in range(int(raw_count)):
        url = params.get(f"MediaUrl{i}", "")
        if not url.startswith(("https://", "http://")):
            raise errors.invalid_webhook(f"MediaUrl{i} is missing or not a URL.", f"MediaUrl{i}")
        ctype = params.get(f"MediaContentType{i}") or "application/octet-stream"
        refs.append(MediaRef(url=url, content_type=ctype))
    return InboundSms(
        provider_message_id=sid,
        from_number=params["From"],
        to_number=params.get("To", ""),
        body=params.get("Body", "").replace("\x00", ""),
        media=tuple(refs),
        keyword=from_twilio_opt_out_type(params.get("OptOutType")),
    )


def status_report(params: dict[str, str]) -> ReportedStatus:
    """A status callback's parameters as the status it reports."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not MESSAGE_SID.match(sid):
        raise errors.invalid_webhook("MessageSid is missing or malformed.", "MessageSid")
    raw_status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    status = TWILIO_STATUS.get(raw_status)
    if status is None:
        raise errors.invalid_webhook(f"Unknown MessageStatus {raw_status!r}.", "MessageStatus")
    return ReportedStatus(
        provider="twilio",
        provider_message_id=sid,
        status=status,
        error_code=params.get("ErrorCode") or None,
        error_text=params.get("ErrorMessage") or None,
    )
