"""A local HTTP server speaking the part of Twilio's REST API that Parlour uses.

Real HTTP on 127.0.0.1, Twilio's real request and response shapes (form-encoded requests,
JSON answers, the v2010 error body ``{code, message, more_info, status}``, paging fields),
HTTP basic auth with an Account SID + auth token or an API key, and status callbacks
signed the way Twilio signs them. The official SDK is pointed at it by configuration
(``PARLOUR_TWILIO_API_BASE``).

Also: ``inbound_params`` / ``sign`` build and sign an inbound-message webhook with every
field Twilio sends.
"""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from twilio.request_validator import RequestValidator

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
API = "/2010-04-01"


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature, computed by the SDK exactly as Twilio computes it."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def inbound_params(
    *,
    account_sid: str,
    from_: str,
    to: str,
    body: str,
    message_sid: str | None = None,
    media: list[tuple[str, str]] | None = None,
    **extra: str,
) -> dict[str, str]:
    """Every field of Twilio's "A message comes in" webhook, as Twilio sends them."""
    message_sid = message_sid or sid("MM" if media else "SM")
    params = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": message_sid,
        "NumMedia": str(len(media or [])),
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": message_sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "94105",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    for i, (url, ctype) in enumerate(media or []):
        params[f"MediaContentType{i}"] = ctype
        params[f"MediaUrl{i}"] = url
    params.update(extra)
    return params


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    status_callback: str | None
    created: datetime
    error_code: int | None = None
    num_media: int = 0

    def json(self, base: str) -> dict[str, Any]:
        uri = f"{API}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": format_datetime(self.created, usegmt=True),
            "date_sent": None,
            "date_updated": format_datetime(self.created, usegmt=True),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": str(self.num_media),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{API}/Accounts/{self.account_sid}/Messages/{self.sid}/Media.json"
            },
            "to": self.to,
            "uri": uri,
        }


@dataclass
class FakeNumber:
    sid: str
    e164: str
    friendly_name: str
    sms: bool = True
    mms: bool = True
    sms_url: str = ""


@dataclass
class Outcome:
    """What becomes of messages to one recipient."""

    # Refused at once: (HTTP status, Twilio code, message), ``refuse_times`` times (or
    # always when None), then accepted.
    refuse: tuple[int, int, str] | None = None
    refuse_times: int | None = None
    # Accepted, then reported by status callback with this final status and error code.
    final: str = "delivered"
    error_code: int | None = None


@dataclass
class FakeAccount:
    sid: str
    auth_token: str
    numbers: list[FakeNumber] = field(default_factory=list)
    api_keys: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio:
    def __init__(self) -> None:
        self.accounts: dict[str, FakeAccount] = {}
        self.messages: list[FakeMessage] = []
        self.outcomes: dict[str, Outcome] = {}
        self.requests: list[tuple[str, str]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_failures = 0  # answer 500 to this many media fetches first
        self.media_fetches = 0
        self.send_callbacks = True
        # When True, messages still move on to their final status (as a GET of the message
        # shows) but their status callbacks never reach Parlour: lost in an outage.
        self.lose_callbacks = False
        # When False, status callbacks wait in ``pending`` for the test to deliver them
        # (to an app served in-process); when True they are POSTed over HTTP.
        self.post_callbacks = False
        self.pending: list[tuple[str, dict[str, str], str]] = []
        # Crash tests: while set, a create waits (after or before storing the message)
        # until ``release`` is set, so the sender can be killed at that point.
        self.hang_after_accept = False
        self.hang_before_accept = False
        # ...or only the create that makes this many messages hangs, after storing it.
        self.hang_at: int | None = None
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.callback_answers: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- set-up -----------------------------------------------------------------------

    def add_account(self, *, numbers: list[str] = (), sms: bool = True) -> FakeAccount:  # type: ignore[assignment]
        acct = FakeAccount(sid=sid("AC"), auth_token=secrets.token_hex(16))
        for n in numbers:
            acct.numbers.append(FakeNumber(sid=sid("PN"), e164=n, friendly_name=n, sms=sms))
        self.accounts[acct.sid] = acct
        return acct

    def add_media(self, account: FakeAccount, data: bytes, content_type: str) -> str:
        msid, me = sid("MM"), sid("ME")
        self.media[me] = (data, content_type)
        return f"{self.base_url}{API}/Accounts/{account.sid}/Messages/{msid}/Media/{me}"

    def sent_to(self, number: str) -> list[FakeMessage]:
        with self._lock:
            return [m for m in self.messages if m.to == number]

    # --- server -----------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any] | None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                fake.requests.append((method, url.path))
                if url.path.startswith("/cdn/"):
                    fake._cdn(self, url.path.rsplit("/", 1)[-1])
                    return
                status, body, headers = fake.route(
                    method, url.path, query, form, self.headers.get("Authorization", "")
                )
                if headers:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._answer(status, body)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _cdn(self, handler: BaseHTTPRequestHandler, me: str) -> None:
        with self._lock:
            self.media_fetches += 1
            fail = self.media_failures > 0
            if fail:
                self.media_failures -= 1
        if fail:
            handler.send_response(500)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        found = self.media.get(me)
        if found is None:
            handler.send_response(404)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        data, ctype = found
        handler.send_response(200)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # --- the API ----------------------------------------------------------------------

    def _auth(self, header: str, account_sid: str) -> FakeAccount | None:
        acct = self.accounts.get(account_sid)
        if acct is None or not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        if user == acct.sid and password == acct.auth_token:
            return acct
        if acct.api_keys.get(user) == password:
            return acct
        return None

    def route(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], auth: str
    ) -> tuple[int, dict[str, Any] | None, dict[str, str] | None]:
        m = re.match(rf"^{API}/Accounts/(AC\w+)(/.*)$", path)
        if not m:
            return (*_error(404, 20404, "The requested resource was not found"), None)
        acct = self._auth(auth, m.group(1))
        if acct is None:
            return (*_error(401, 20003, "Authenticate"), None)
        rest = m.group(2)
        if method == "POST" and rest == "/Messages.json":
            return (*self._create(acct, form), None)
        if method == "GET" and rest == "/Messages.json":
            return 200, self._list_messages(acct, query), None
        mm = re.match(r"^/Messages/(\w+)\.json$", rest)
        if method == "GET" and mm:
            found = next((x for x in self.messages if x.sid == mm.group(1)), None)
            if found is None or found.account_sid != acct.sid:
                return (*_error(404, 20404, "The requested resource was not found"), None)
            return 200, found.json(self.base_url), None
        if method == "GET" and rest == "/IncomingPhoneNumbers.json":
            return 200, self._list_numbers(acct, query), None
        mn = re.match(r"^/IncomingPhoneNumbers/(PN\w+)\.json$", rest)
        if method == "POST" and mn:
            number = next((n for n in acct.numbers if n.sid == mn.group(1)), None)
            if number is None:
                return (*_error(404, 20404, "The requested resource was not found"), None)
            number.sms_url = form.get("SmsUrl", number.sms_url)
            return 200, self._number_json(acct, number), None
        me = re.match(r"^/Messages/\w+/Media/(ME\w+)$", rest)
        if method == "GET" and me:
            # Twilio answers media requests with a redirect to its CDN.
            return 302, None, {"Location": f"{self.base_url}/cdn/{me.group(1)}"}
        return (*_error(404, 20404, "The requested resource was not found"), None)

    def _create(self, acct: FakeAccount, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not any(n.e164 == from_ and n.sms for n in acct.numbers):
            return _error(
                400,
                21606,
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        if not body and "MediaUrl" not in form:
            return _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        outcome = self.outcomes.get(to, Outcome())
        if outcome.refuse and outcome.refuse_times != 0:
            if outcome.refuse_times is not None:
                outcome.refuse_times -= 1
            return _error(*outcome.refuse)
        if self.hang_before_accept:
            self.hanging.set()
            self.release.wait(30)
            return _error(503, 20500, "Internal Server Error")
        msg = FakeMessage(
            sid=sid("SM"),
            account_sid=acct.sid,
            to=to,
            from_=from_,
            body=body,
            status="queued",
            status_callback=form.get("StatusCallback"),
            created=datetime.now(UTC),
        )
        with self._lock:
            self.messages.append(msg)
            hang = self.hang_after_accept or self.hang_at == len(self.messages)
        if hang:
            self.hanging.set()
            self.release.wait(30)
        answer = msg.json(self.base_url)
        if msg.status_callback and self.send_callbacks:
            if self.post_callbacks:
                threading.Thread(
                    target=self._callbacks, args=(acct, msg, outcome), daemon=True
                ).start()
            else:
                self._callbacks(acct, msg, outcome)
        return 201, answer

    def _callbacks(self, acct: FakeAccount, msg: FakeMessage, outcome: Outcome) -> None:
        for status in ("sent", outcome.final):
            if self.post_callbacks:
                time.sleep(0.05)
            msg.status = status
            params = {
                "SmsSid": msg.sid,
                "SmsStatus": status,
                "MessageStatus": status,
                "To": msg.to,
                "MessageSid": msg.sid,
                "AccountSid": acct.sid,
                "From": msg.from_,
                "ApiVersion": "2010-04-01",
            }
            if status in ("undelivered", "failed") and outcome.error_code:
                params["ErrorCode"] = str(outcome.error_code)
                msg.error_code = outcome.error_code
            assert msg.status_callback
            if self.lose_callbacks:
                continue
            signature = sign(acct.auth_token, msg.status_callback, params)
            if not self.post_callbacks:
                with self._lock:
                    self.pending.append((msg.status_callback, params, signature))
                continue
            try:
                resp = httpx.post(
                    msg.status_callback,
                    data=params,
                    headers={"X-Twilio-Signature": signature},
                    timeout=10,
                )
                self.callback_answers.append(resp.status_code)
            except httpx.HTTPError:
                self.callback_answers.append(0)

    def take_pending(self) -> list[tuple[str, dict[str, str], str]]:
        with self._lock:
            taken, self.pending = self.pending, []
        return taken

    def _page(self, key: str, items: list[dict[str, Any]], path: str, size: int) -> dict[str, Any]:
        return {
            key: items[:size],
            "end": max(0, min(len(items), size) - 1),
            "first_page_uri": f"{path}?PageSize={size}&Page=0",
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{path}?PageSize={size}&Page=0",
        }

    def _list_messages(self, acct: FakeAccount, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            found = [
                m
                for m in self.messages
                if m.account_sid == acct.sid
                and (not query.get("To") or m.to == query["To"])
                and (not query.get("From") or m.from_ == query["From"])
            ]
        found.sort(key=lambda m: m.created, reverse=True)  # newest first, as Twilio lists
        size = int(query.get("PageSize", "50"))
        return self._page(
            "messages",
            [m.json(self.base_url) for m in found],
            f"{API}/Accounts/{acct.sid}/Messages.json",
            size,
        )

    def _number_json(self, acct: FakeAccount, n: FakeNumber) -> dict[str, Any]:
        return {
            "account_sid": acct.sid,
            "address_requirements": "none",
            "api_version": "2010-04-01",
            "beta": False,
            "capabilities": {"voice": True, "sms": n.sms, "mms": n.mms, "fax": False},
            "date_created": "Thu, 30 Jul 2015 20:12:31 +0000",
            "date_updated": "Thu, 30 Jul 2015 20:12:33 +0000",
            "friendly_name": n.friendly_name,
            "phone_number": n.e164,
            "sid": n.sid,
            "sms_method": "POST",
            "sms_url": n.sms_url,
            "status": "in-use",
            "uri": f"{API}/Accounts/{acct.sid}/IncomingPhoneNumbers/{n.sid}.json",
        }

    def _list_numbers(self, acct: FakeAccount, query: dict[str, str]) -> dict[str, Any]:
        size = int(query.get("PageSize", "50"))
        return self._page(
            "incoming_phone_numbers",
            [self._number_json(acct, n) for n in acct.numbers],
            f"{API}/Accounts/{acct.sid}/IncomingPhoneNumbers.json",
            size,
        )


def new_number() -> str:
    """A fresh, valid US number for each test (company numbers are unique across accounts)."""
    area = random.choice((212, 206, 312, 408, 415, 510, 617, 718))
    return f"+1{area}{random.randint(200, 999)}{random.randint(0, 9999):04d}"
