"""A local HTTP server speaking the part of Telnyx's v2 API that Parlour uses, and a signer
for Telnyx webhooks (Ed25519 over ``"{timestamp}|{body}"``)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


@dataclass
class TelnyxSent:
    id: str
    from_: str
    to: str
    text: str
    webhook_url: str | None
    idempotency_key: str | None
    # Where the message is now, as ``GET /v2/messages/{id}`` tells (a test moves it on).
    status: str = "queued"
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    errors: list[dict[str, Any]] = field(default_factory=list)


class FakeTelnyx:
    def __init__(self) -> None:
        self.api_key = "KEY" + secrets.token_hex(16)
        self._private = Ed25519PrivateKey.generate()
        self.public_key = base64.b64encode(
            self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode()
        self.sent: list[TelnyxSent] = []
        self.posts = 0
        self.gets = 0  # of single messages
        self.by_key: dict[str, TelnyxSent] = {}
        self.refuse: dict[str, tuple[int, str, str]] = {}
        self.media: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    def sign(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = self._private.sign(ts.encode() + b"|" + body)
        return {
            "telnyx-signature-ed25519": base64.b64encode(sig).decode(),
            "telnyx-timestamp": ts,
            "content-type": "application/json",
        }

    def record(self, sent: TelnyxSent) -> dict[str, Any]:
        """The message as Telnyx answers a send or ``GET /v2/messages/{id}``."""
        return {
            "record_type": "message",
            "direction": "outbound",
            "id": sent.id,
            "type": "SMS",
            "from": {"phone_number": sent.from_, "carrier": "Telnyx", "line_type": "Wireless"},
            "to": [
                {
                    "phone_number": sent.to,
                    "status": sent.status,
                    "carrier": "T-MOBILE USA, INC.",
                    "line_type": "Wireless",
                }
            ],
            "text": sent.text,
            "media": [],
            "webhook_url": sent.webhook_url,
            "encoding": "GSM-7",
            "parts": 1,
            "created_at": sent.created_at,
            "errors": sent.errors,
        }

    def add_media(self, data: bytes, content_type: str) -> str:
        key = uuid.uuid4().hex
        self.media[key] = (data, content_type)
        return f"{self.base_url}/media/{key}"

    def start(self) -> FakeTelnyx:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _auth(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    self._json(
                        401,
                        {
                            "errors": [
                                {
                                    "code": "10009",
                                    "title": "Authentication failed",
                                    "detail": "The API key is invalid.",
                                }
                            ]
                        },
                    )
                    return False
                return True

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                if path.startswith("/media/"):
                    found = fake.media.get(path.rsplit("/", 1)[-1])
                    if found is None:
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", found[1])
                    self.send_header("Content-Length", str(len(found[0])))
                    self.end_headers()
                    self.wfile.write(found[0])
                    return
                if not self._auth():
                    return
                if path == "/v2/phone_numbers":
                    self._json(200, {"data": [], "meta": {"total_results": 0}})
                    return
                if path.startswith("/v2/messages/"):
                    with fake._lock:
                        fake.gets += 1
                        wanted = path.removeprefix("/v2/messages/")
                        found = next((m for m in fake.sent if m.id == wanted), None)
                    if found is not None:
                        self._json(200, {"data": fake.record(found)})
                        return
                    self._json(
                        404,
                        {
                            "errors": [
                                {
                                    "code": "10005",
                                    "title": "Resource not found",
                                    "detail": "The requested resource or URL could not be found.",
                                }
                            ]
                        },
                    )
                    return
                self._json(404, {"errors": [{"code": "10005", "title": "Not found"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if urlparse(self.path).path != "/v2/messages":
                    self._json(404, {"errors": [{"code": "10005", "title": "Not found"}]})
                    return
                if not self._auth():
                    return
                key = self.headers.get("Idempotency-Key")
                with fake._lock:
                    fake.posts += 1
                    if body.get("to") in fake.refuse:
                        status, code, detail = fake.refuse[body["to"]]
                        self._json(
                            status, {"errors": [{"code": code, "title": detail, "detail": detail}]}
                        )
                        return
                    sent = fake.by_key.get(key) if key else None
                    if sent is None:
                        sent = TelnyxSent(
                            id=str(uuid.uuid4()),
                            from_=body.get("from", ""),
                            to=body.get("to", ""),
                            text=body.get("text", ""),
                            webhook_url=body.get("webhook_url"),
                            idempotency_key=key,
                        )
                        fake.sent.append(sent)
                        if key:
                            fake.by_key[key] = sent
                self._json(200, {"data": fake.record(sent)})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def inbound_event(
    *, from_: str, to: str, text: str, media: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A ``message.received`` webhook as Telnyx sends it."""
    now = datetime.now(UTC).isoformat()
    return {
        "data": {
            "event_type": "message.received",
            "id": str(uuid.uuid4()),
            "occurred_at": now,
            "payload": {
                "completed_at": None,
                "cost": None,
                "direction": "inbound",
                "encoding": "GSM-7",
                "errors": [],
                "from": {
                    "carrier": "T-Mobile USA",
                    "line_type": "long_code",
                    "phone_number": from_,
                },
                "id": str(uuid.uuid4()),
                "media": media or [],
                "messaging_profile_id": str(uuid.uuid4()),
                "parts": 1,
                "received_at": now,
                "record_type": "message",
                "sent_at": None,
                "tags": [],
                "text": text,
                "to": [
                    {
                        "carrier": "Telnyx",
                        "line_type": "Wireless",
                        "phone_number": to,
                        "status": "webhook_delivered",
                    }
                ],
                "type": "MMS" if media else "SMS",
                "valid_until": None,
                "webhook_failover_url": None,
                "webhook_url": "https://example.com/webhooks",
            },
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks"},
    }


def status_event(
    sent: TelnyxSent, *, kind: str, status: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A ``message.sent`` / ``message.finalized`` webhook for a message we sent."""
    return {
        "data": {
            "event_type": kind,
            "id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "payload": {
                "direction": "outbound",
                "errors": errors or [],
                "from": {"carrier": "Telnyx", "line_type": "Wireless", "phone_number": sent.from_},
                "id": sent.id,
                "record_type": "message",
                "text": sent.text,
                "to": [
                    {
                        "carrier": "T-MOBILE USA, INC.",
                        "line_type": "Wireless",
                        "phone_number": sent.to,
                        "status": status,
                    }
                ],
                "type": "SMS",
            },
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": sent.webhook_url},
    }
