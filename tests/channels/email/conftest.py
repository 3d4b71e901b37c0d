"""Email tests send through a real SMTP server on loopback (tests/fakes/smtp.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parlour.channels.email.smtp import SmtpEmail
from parlour.channels.registry import Providers, make_providers
from parlour.config import Settings
from tests.conftest import Tenant
from tests.fakes.smtp import Certificate, FakeSmtp


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return Certificate.make(Path(tmp_path_factory.mktemp("smtp-cert")))


@pytest.fixture
def providers(settings: Settings, certificate: Certificate) -> Providers:
    made = make_providers(settings)
    # The relay's certificate is the tests' own: trusted here, checked as any other.
    made.email["smtp"] = SmtpEmail(timeout=5, tls_context=certificate.client_context())
    return made


@pytest.fixture
def sink() -> Iterator[FakeSmtp]:
    fake = FakeSmtp().start()
    yield fake
    fake.stop()


def unique_address() -> str:
    return f"help@{uuid.uuid4().hex[:10]}.example"


async def add_mailbox(
    client: httpx.AsyncClient, tenant: Tenant, address: str, **relay: Any
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/mailboxes",
        json={"address": address, "name": "Support", **relay},
        headers=tenant.admin_headers,
    )
    assert r.status_code == 201, r.text
    box: dict[str, Any] = r.json()
    return box


async def relay_mailbox(
    client: httpx.AsyncClient, tenant: Tenant, sink: FakeSmtp
) -> dict[str, Any]:
    """A new mailbox that sends through ``sink``, in the clear (a local relay)."""
    return await add_mailbox(
        client,
        tenant,
        unique_address(),
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_security="none",
    )
