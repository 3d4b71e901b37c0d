"""Users' passwords, sessions and roles, through HTTP: changing a password, an admin
setting another's, and an account that always keeps an admin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import Tenant

NEW_PASSWORD = "a brand new passphrase"

Browser = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def browser(app: FastAPI) -> Browser:
    """A browser of its own: its own cookie jar, so its own login session."""

    @asynccontextmanager
    async def open_browser() -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c

    return open_browser


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    return {"X-CSRF-Token": resp.json()["csrf_token"]}


async def logged_in(client: httpx.AsyncClient) -> bool:
    resp = await client.get("/api/v1/auth/me")
    assert resp.status_code in (200, 401), resp.text
    return resp.status_code == 200


async def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(
    browser: Browser, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    me = f"/api/v1/users/{tenant.admin_id}"
    async with browser() as laptop, browser() as phone:
        csrf = await log_in(laptop, tenant.admin_email, tenant.password)
        await log_in(phone, tenant.admin_email, tenant.password)

        missing = await laptop.patch(me, json={"password": NEW_PASSWORD}, headers=csrf)
        assert (missing.status_code, missing.json()["code"]) == (422, "current_password_required")
        wrong = await laptop.patch(
            me,
            json={"password": NEW_PASSWORD, "current_password": "not my password"},
            headers=csrf,
        )
        assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong_password")
        assert await logged_in(phone)

        changed = await laptop.patch(
            me,
            json={"password": NEW_PASSWORD, "current_password": tenant.password},
            headers=csrf,
        )
        assert changed.status_code == 200, changed.text
        # The browser that changed it stays logged in; the other one is out.
        assert await logged_in(laptop)
        assert not await logged_in(phone)

    # API tokens keep working, and are still listed to revoke.
    tokens = await client.get("/api/v1/tokens", headers=tenant.admin_headers)
    assert tokens.status_code == 200
    assert [t["name"] for t in tokens.json()] == ["t"]
    old = await client.post(
        "/api/v1/auth/login", json={"email": tenant.admin_email, "password": tenant.password}
    )
    assert old.json()["code"] == "bad_credentials"
    async with browser() as again:
        await log_in(again, tenant.admin_email, NEW_PASSWORD)


async def test_changing_ones_password_with_an_api_token_also_needs_the_current_one(
    browser: Browser, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = await client.get("/api/v1/auth/me", headers=tenant.agent_headers)
    agent_id, agent_email = agent.json()["user"]["id"], agent.json()["user"]["email"]
    async with browser() as laptop:
        await log_in(laptop, agent_email, tenant.password)
        wrong = await client.patch(
            f"/api/v1/users/{agent_id}",
            json={"password": NEW_PASSWORD, "current_password": "guess guess"},
            headers=tenant.agent_headers,
        )
        assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong_password")
        ok = await client.patch(
            f"/api/v1/users/{agent_id}",
            json={"password": NEW_PASSWORD, "current_password": tenant.password},
            headers=tenant.agent_headers,
        )
        assert ok.status_code == 200, ok.text
        # Called with a token, no browser session was the caller's: all of them end.
        assert not await logged_in(laptop)
    assert (await client.get("/api/v1/auth/me", headers=tenant.agent_headers)).status_code == 200


async def test_guessing_the_current_password_is_throttled_like_logins(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    me = f"/api/v1/users/{tenant.admin_id}"
    codes = []
    for i in range(11):
        resp = await client.patch(
            me,
            json={"password": NEW_PASSWORD, "current_password": f"guess number {i}"},
            headers=tenant.admin_headers,
        )
        codes.append(resp.json()["code"])
    assert codes == ["wrong_password"] * 10 + ["too_many_attempts"]


async def test_an_admin_sets_another_users_password_and_logs_them_out(
    browser: Browser, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    agent = (await client.get("/api/v1/auth/me", headers=tenant.agent_headers)).json()["user"]
    async with browser() as agents_laptop:
        await log_in(agents_laptop, agent["email"], tenant.password)
        reset = await client.patch(
            f"/api/v1/users/{agent['id']}",
            json={"password": NEW_PASSWORD},
            headers=tenant.admin_headers,
        )
        assert reset.status_code == 200, reset.text
        assert not await logged_in(agents_laptop)
        await log_in(agents_laptop, agent["email"], NEW_PASSWORD)
        assert await logged_in(agents_laptop)

        # An agent cannot do the same to anyone else.
        refused = await client.patch(
            f"/api/v1/users/{tenant.admin_id}",
            json={"password": NEW_PASSWORD},
            headers=tenant.agent_headers,
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "admin_only")


async def test_the_last_admin_can_neither_demote_nor_deactivate_themselves(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    me = f"/api/v1/users/{tenant.admin_id}"
    for change in ({"role": "agent"}, {"active": False}):
        refused = await client.patch(me, json=change, headers=tenant.admin_headers)
        assert (refused.status_code, refused.json()["code"]) == (409, "last_admin")
    still = await client.get("/api/v1/users", headers=tenant.admin_headers)
    mine = next(u for u in still.json() if u["id"] == tenant.admin_id)
    assert (mine["role"], mine["active"]) == ("admin", True)

    # With a second admin, either may step down.
    promoted = await client.patch(
        f"/api/v1/users/{tenant.agent_id}", json={"role": "admin"}, headers=tenant.admin_headers
    )
    assert promoted.status_code == 200
    stepped_down = await client.patch(me, json={"role": "agent"}, headers=tenant.admin_headers)
    assert stepped_down.status_code == 200
    assert stepped_down.json()["role"] == "agent"
    last = await client.patch(
        f"/api/v1/users/{tenant.agent_id}", json={"active": False}, headers=tenant.agent_headers
    )
    assert (last.status_code, last.json()["code"]) == (409, "last_admin")


async def test_a_user_whose_email_looks_like_a_teammates_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    # The admin's address with its first "a" in Cyrillic.
    fake = "\u0430" + tenant.admin_email[1:]
    body = {"email": fake, "name": "Ada Admin", "password": NEW_PASSWORD}
    refused = await client.post("/api/v1/users", json=body, headers=tenant.admin_headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "lookalike_email")
    assert refused.json()["details"]["email"] == tenant.admin_email
    users = await client.get("/api/v1/users", headers=tenant.admin_headers)
    assert fake not in [u["email"] for u in users.json()]
    # In another account nobody could take them for each other.
    elsewhere = await client.post("/api/v1/users", json=body, headers=other_tenant.admin_headers)
    assert elsewhere.status_code == 201, elsewhere.text
