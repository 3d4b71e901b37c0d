"""A real HTTP receiver on 127.0.0.1 for webhook deliveries, and an app whose only webhook
worker is the one a test drives (``run_worker`` off)."""

from __future__ import annotations

import datetime
import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from parlour.config import Settings


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Records every request. ``answers``: the statuses of the next requests (then 200);
    ``always``: one status for all; ``hang``: requests wait (until the test ends)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if tls else "http"
        self.received: list[Received] = []
        self.answers: list[int] = []
        self.always: int | None = None
        self.redirect_to: str | None = None
        self.body: bytes | None = None
        self.hang = False
        self.release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.answers.pop(0) if receiver.answers else receiver.always
                if receiver.hang:
                    receiver.release.wait(5)
                if receiver.redirect_to is not None:
                    self.send_response(302)
                    self.send_header("location", receiver.redirect_to)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                status = status or 200
                answer = b"thanks" if status < 300 else b"boom " * 300
                if receiver.body is not None:
                    answer = receiver.body
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host = "localhost" if self.scheme == "https" else "127.0.0.1"
        return f"{self.scheme}://{host}:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    try:
        yield r
    finally:
        r.stop()


@dataclass(frozen=True)
class Tls:
    """A self-signed certificate for the name "localhost" only (not its address): a
    client that connects to 127.0.0.1 verifies it only if it asks for "localhost"."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def make_tls() -> Tls:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return Tls(server, client)


@pytest.fixture
def tls() -> Tls:
    return make_tls()


@pytest.fixture
def tls_receiver(tls: Tls) -> Iterator[Receiver]:
    r = Receiver(tls.server)
    r.start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def allow_private() -> bool:
    """On: the receiver is on 127.0.0.1. Tests of the SSRF guard parametrise it off."""
    return True


@pytest.fixture
def settings(database_url: str, allow_private: bool) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url="http://test",
        # The test drives the webhook worker itself, pass by pass, with its own clock.
        run_worker=False,
        webhooks_allow_private=allow_private,
        _env_file=None,  # type: ignore[call-arg]
    )
