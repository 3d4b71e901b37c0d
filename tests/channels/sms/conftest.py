"""SMS tests run against local fakes of Twilio and Telnyx that speak their real wire formats."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from parlour.channels.sms import media
from parlour.channels.sms.models import PhoneNumber
from parlour.config import Settings
from parlour.db.tx import transaction
from parlour.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.fakes.telnyx import FakeTelnyx
from tests.fakes.twilio import FakeAccount, FakeTwilio, new_number, sign

PUBLIC_URL = "http://test"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_telnyx() -> Iterator[FakeTelnyx]:
    fake = FakeTelnyx().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio, fake_telnyx: FakeTelnyx) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url=PUBLIC_URL,
        run_worker=True,
        worker_poll_seconds=0.05,
        twilio_api_base=fake_twilio.base_url,
        telnyx_api_base=fake_telnyx.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(autouse=True)
def quick_media_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "RETRY_DELAYS", (0.05, 0.05, 0.05))


@dataclass
class Twilio:
    """A tenant connected to a fake Twilio account with one imported number."""

    account: FakeAccount
    number: str
    number_id: int


async def connect_twilio(
    client: httpx.AsyncClient, tenant: Tenant, fake: FakeTwilio, *, numbers: int = 1
) -> Twilio:
    acct = fake.add_account(numbers=[new_number() for _ in range(numbers)])
    r = await client.put(
        "/api/v1/sms/providers/twilio",
        json={"account_sid": acct.sid, "auth_token": acct.auth_token},
        headers=tenant.admin_headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/sms/providers/twilio/numbers/import", json={}, headers=tenant.admin_headers
    )
    assert r.status_code == 201, r.text
    first = r.json()["imported"][0]
    return Twilio(account=acct, number=first["e164"], number_id=first["id"])


@pytest.fixture
async def twilio(client: httpx.AsyncClient, tenant: Tenant, fake_twilio: FakeTwilio) -> Twilio:
    return await connect_twilio(client, tenant, fake_twilio)


async def post_inbound(
    client: httpx.AsyncClient,
    params: dict[str, str],
    auth_token: str,
    *,
    signed_url: str = f"{PUBLIC_URL}/webhooks/twilio/sms",
    signature: str | None = None,
) -> httpx.Response:
    headers = {"X-Twilio-Signature": sign(auth_token, signed_url, params)}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await client.post("/webhooks/twilio/sms", data=params, headers=headers)


async def pump_callbacks(client: httpx.AsyncClient, fake: FakeTwilio) -> list[int]:
    """Delivers the status callbacks the fake has queued, as Twilio would."""
    answers = []
    for url, params, signature in fake.take_pending():
        path = url.removeprefix(PUBLIC_URL)
        r = await client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        answers.append(r.status_code)
    return answers


async def thread_of(client: httpx.AsyncClient, tenant: Tenant, phone: str) -> list[Any]:
    """The messages of the contact with this phone, as the agent app shows them."""
    found = await client.get(
        "/api/v1/contacts", params={"q": phone.lstrip("+")}, headers=tenant.admin_headers
    )
    items = found.json()["items"]
    if not items:
        return []
    conv = await client.post(
        f"/api/v1/contacts/{items[0]['id']}/conversation", headers=tenant.admin_headers
    )
    thread = await client.get(
        f"/api/v1/conversations/{conv.json()['id']}/messages", headers=tenant.admin_headers
    )
    items_: list[Any] = thread.json()["items"]
    return items_


async def contact_phone(client: httpx.AsyncClient, tenant: Tenant, phone: str) -> Any:
    found = await client.get(
        "/api/v1/contacts", params={"q": phone.lstrip("+")}, headers=tenant.admin_headers
    )
    contact = found.json()["items"][0]
    full = await client.get(f"/api/v1/contacts/{contact['id']}", headers=tenant.admin_headers)
    return next(p for p in full.json()["phones"] if p["e164"] == phone)


async def _tenant(rt: Runtime) -> Tenant:
    # The shared fixture draws its console number from 9,000 values, which collide across a
    # long run; these tests make many tenants, so they draw from millions instead.
    tenant = await make_tenant(rt, with_channels=False)
    async with transaction(rt.db, rt.hub) as tx:
        tx.session.add(
            PhoneNumber(
                account_id=tenant.account_id,
                e164=new_number(),
                label="Main",
                provider="console",
                sms_enabled=True,
            )
        )
        await tx.commit()
    return tenant


@pytest.fixture
async def tenant(runtime: Runtime) -> Tenant:
    return await _tenant(runtime)


@pytest.fixture
async def other_tenant(runtime: Runtime) -> Tenant:
    return await _tenant(runtime)
