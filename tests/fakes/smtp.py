"""A real SMTP server on loopback (aiosmtpd) that records what it received, with switches
to answer 4xx or 5xx, optional AUTH, STARTTLS and implicit TLS (a throwaway certificate)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    # The user who logged in, if any; whether the session was encrypted.
    login: str | None
    tls: bool

    @property
    def message(self) -> EmailMessage:
        parsed: EmailMessage = message_from_bytes(self.data, policy=policy.default)  # type: ignore[assignment]
        return parsed


@dataclass
class Certificate:
    """A self-signed certificate for 127.0.0.1, and a client context that trusts it."""

    cert: Path
    key: Path

    @classmethod
    def make(cls, folder: Path) -> Certificate:
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
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_path, key_path = folder / "cert.pem", folder / "key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cls(cert=cert_path, key=key_path)

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class FakeSmtp:
    """``security``: "none", "starttls" (offered and required) or "tls" (implicit)."""

    security: str = "none"
    certificate: Certificate | None = None
    # When set, AUTH LOGIN/PLAIN is offered and only these credentials are taken.
    users: dict[str, str] = field(default_factory=dict)
    # The answer to the message's data instead of "250", e.g. "451 4.3.0 Try later".
    answer_data: str | None = None
    # The answer to RCPT TO instead of "250", e.g. "550 5.1.1 No such user".
    answer_rcpt: str | None = None
    # Take the message, then drop the connection before answering (a lost answer).
    drop_after_data: bool = False
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _controller: Controller | None = None

    def start(self) -> FakeSmtp:
        self.port = _free_port()
        kwargs: dict[str, Any] = {}
        if self.security != "none":
            assert self.certificate is not None
            ctx = self.certificate.server_context()
            if self.security == "tls":
                kwargs["ssl_context"] = ctx
                kwargs["server_hostname"] = "localhost"
            else:
                kwargs["tls_context"] = ctx
                kwargs["require_starttls"] = True
        if self.users:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_require_tls"] = self.security == "starttls"
        self._controller = Controller(self, hostname=HOST, port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.answer_rcpt:
            return self.answer_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.answer_data:
            return self.answer_data
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self.received.append(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=bytes(envelope.original_content or b""),
                login=login,
                tls=server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        if self.drop_after_data:
            server.transport.close()
        return f"250 2.0.0 Ok: queued as {len(self.received)}"


def temp_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="parlour-smtp-"))
