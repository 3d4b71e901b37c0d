"""The session cookie is HTTPS-only when Parlour is reached over HTTPS
(PARLOUR_PUBLIC_URL), so a browser never sends it in the clear; over plain HTTP (a
development server) it must not be, or the browser would drop it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import httpx
import pytest
from fastapi import FastAPI

from parlour.accounts.deps import SESSION_COOKIE
from parlour.app import create_app
from parlour.config import Settings
from tests.conftest import Tenant


@pytest.fixture(params=["https://inbox.example.com", "http://127.0.0.1:8000"])
def public_url(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(sqlite_url: str, public_url: str) -> Settings:
    return Settings(
        database_url=sqlite_url,
        secret_key="test-secret",
        public_url=public_url,
        run_worker=False,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_the_session_cookie_is_secure_only_behind_https(
    app: FastAPI, tenant: Tenant, public_url: str
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=public_url) as browser:
        login = await browser.post(
            "/api/v1/auth/login",
            json={"email": tenant.admin_email, "password": tenant.password},
            headers={"Origin": public_url},
        )
        assert login.status_code == 200, login.text
        cookie = SimpleCookie(login.headers["set-cookie"])[SESSION_COOKIE]
        https = public_url.startswith("https://")
        assert bool(cookie["secure"]) is https
        assert cookie["httponly"] is True
        assert cookie["samesite"].lower() == "lax"
        # The browser sends it back to the same site, signed in.
        me = await browser.get("/api/v1/auth/me")
        assert me.status_code == 200
        assert me.json()["user"]["email"] == tenant.admin_email
        # A Secure cookie never goes out over plain HTTP, even to the same host.
        plain_url = "http://" + public_url.split("://", 1)[1]
        plain = await browser.get(plain_url + "/api/v1/auth/me")
        assert plain.status_code == (401 if https else 200)
