"""Email tests send through a real SMTP server on loopback (tests/fakes/smtp.py)."""

from __future__ import annotations

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
