"""Settings → Web chat, as an admin changes it: the identity secret rotated, office hours
that run past midnight."""

from __future__ import annotations

import httpx

from parlour.runtime import Runtime
from tests.channels.webchat.conftest import ORIGIN, site_of, start, vouch
from tests.conftest import Tenant


async def test_a_rotated_secret_is_new_and_the_old_one_no_longer_vouches(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    url = f"/api/v1/widgets/{site.widget_id}/identity-secret"
    resp = await client.post(url, headers=tenant.admin_headers)
    assert resp.status_code == 200, resp.text
    fresh = resp.json()["identity_secret"]
    assert fresh != site.secret and len(fresh) == 64
    shown = await client.get(url, headers=tenant.admin_headers)
    assert shown.json() == {"identity_secret": fresh}

    refused = await client.post(
        f"/widget/v1/{site.public_token}/visitors",
        json={"visitor_token": None, "identity": vouch(site, "user-1")},
        headers={"Origin": ORIGIN},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "identity_invalid"
    site.secret = fresh
    await start(client, site, identity=vouch(site, "user-1"))


async def test_an_agent_cannot_rotate_the_secret(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    url = f"/api/v1/widgets/{site.widget_id}/identity-secret"
    resp = await client.post(url, headers=tenant.agent_headers)
    assert resp.status_code == 403
    assert resp.json()["code"] == "admin_only"
    shown = await client.get(url, headers=tenant.admin_headers)
    assert shown.json() == {"identity_secret": site.secret}


async def test_office_hours_may_run_past_midnight(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    hours = {"mon": ["09:00", "17:00"], "fri": ["18:00", "02:00"]}
    resp = await client.patch(
        f"/api/v1/widgets/{site.widget_id}",
        json={"offline_mode": "office_hours", "office_hours": hours, "timezone": "Europe/Paris"},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 200, resp.text
    listed = await client.get("/api/v1/widgets", headers=tenant.admin_headers)
    widget = next(w for w in listed.json() if w["id"] == site.widget_id)
    assert widget["office_hours"] == hours
    assert (widget["offline_mode"], widget["timezone"]) == ("office_hours", "Europe/Paris")


async def test_a_day_that_starts_and_ends_at_once_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    site = await site_of(runtime, tenant)
    resp = await client.patch(
        f"/api/v1/widgets/{site.widget_id}",
        json={"office_hours": {"tue": ["09:00", "09:00"]}},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "validation_error"
    assert "same time" in str(body)
    listed = await client.get("/api/v1/widgets", headers=tenant.admin_headers)
    assert "tue" not in next(w for w in listed.json() if w["id"] == site.widget_id)["office_hours"]
