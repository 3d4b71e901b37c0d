"""/metrics (off by default, behind its own token) and `parlour status`: what an operator
watches — requests by route, the outbox's depth and age, the hub, failures by reason."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from typer.testing import CliRunner

from parlour.cli import app as cli
from parlour.config import Settings
from parlour.outbox.worker import OutboxWorker
from parlour.runtime import Runtime
from tests.conftest import Tenant

TOKEN = "metrics-secret"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # No worker: a queued message stays queued while the test looks.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url="http://test",
        run_worker=False,
        metrics_token=TOKEN,
        _env_file=None,  # type: ignore[call-arg]
    )


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the text format."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}" + (rf"\{{{re.escape(want)}\}}" if want else "") + r" (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"no {name} {labels} in:\n{text}"
    return float(found.group(1))


async def test_metrics_need_their_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"


async def test_metrics_are_off_without_a_token(database_url: str) -> None:
    from parlour.app import create_app

    app = create_app(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 404


async def test_metrics_count_requests_by_route_and_show_the_outbox(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    made = await client.post(
        "/api/v1/contacts",
        json={"name": "Metered", "phones": [{"number": "+16505550181"}]},
        headers=tenant.admin_headers,
    )
    assert made.status_code == 201
    missing = await client.get("/api/v1/contacts/999999999", headers=tenant.admin_headers)
    assert missing.status_code == 404
    conv = await client.post(
        f"/api/v1/contacts/{made.json()['id']}/conversation", headers=tenant.admin_headers
    )
    sent = await client.post(
        f"/api/v1/conversations/{conv.json()['id']}/messages",
        json={"channel": "sms", "body": "counted"},
        headers=tenant.admin_headers,
    )
    assert sent.status_code == 201, sent.text

    r = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    created = sample(
        text, "parlour_http_requests_total", method="POST", route="/api/v1/contacts", status="201"
    )
    assert created >= 1
    # One series per route, not per id.
    by_id = "/api/v1/contacts/{contact_id}"
    assert sample(text, "parlour_http_requests_total", method="GET", route=by_id, status="404")
    assert "999999999" not in text
    assert sample(text, "parlour_outbox_rows", state="pending") >= 1
    assert sample(text, "parlour_outbox_oldest_queued_seconds") >= 0
    assert sample(text, "parlour_hub_connected") == 1
    assert sample(text, "parlour_database_up") == 1
    assert "parlour_http_request_duration_seconds_bucket" in text

    await OutboxWorker(runtime).run_once()
    text = (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    assert sample(text, "parlour_outbox_deliveries_total", channel="sms", outcome="sent") >= 1
    assert sample(text, "parlour_outbox_delivery_duration_seconds_count", channel="sms") >= 1


def test_parlour_status_reports_the_database_and_the_outbox(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLOUR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARLOUR_PUBLIC_URL", "http://127.0.0.1:9")  # no server there
    result = CliRunner().invoke(cli, ["status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["database"] == "ok"
    assert report["redis"] == "not configured"
    assert report["server"].startswith("not answering")
    assert set(report) >= {"outbox", "oldest_queued", "awaiting_reconciliation", "failed_by_reason"}


def test_parlour_status_says_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARLOUR_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:9/none")
    monkeypatch.setenv("PARLOUR_PUBLIC_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert "unreachable" in result.output
    assert "Traceback" not in result.output
