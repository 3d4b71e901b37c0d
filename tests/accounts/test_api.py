"""Logging in, CSRF, API tokens and roles, through HTTP."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant


async def login(client: httpx.AsyncClient, tenant: Tenant) -> str:
    resp = await client.post(
        "/api/v1/auth/login", json={"email": tenant.admin_email, "password": tenant.password}
    )
    assert resp.status_code == 200
    assert "httponly" in resp.headers["set-cookie"].lower()
    csrf: str = resp.json()["csrf_token"]
    return csrf


async def test_browser_login_needs_csrf_for_writes(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    csrf = await login(client, tenant)
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["user"]["email"] == tenant.admin_email
    assert me.json()["csrf_token"] == csrf

    refused = await client.post("/api/v1/contacts", json={"name": "Eve"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    accepted = await client.post(
        "/api/v1/contacts", json={"name": "Eve"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 201

    out = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    client.cookies.clear()
    assert (await client.get("/api/v1/auth/me")).json()["code"] == "not_authenticated"


async def test_wrong_password_is_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    resp = await client.post(
        "/api/v1/auth/login", json={"email": tenant.admin_email, "password": "nope-nope-nope"}
    )
    assert resp.status_code == 401
    assert resp.json()["code"] == "bad_credentials"
    assert "set-cookie" not in resp.headers


async def test_api_tokens_are_shown_once_and_can_be_revoked(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post(
        "/api/v1/tokens", json={"name": "zapier"}, headers=tenant.admin_headers
    )
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("plr_")
    listed = await client.get("/api/v1/tokens", headers=tenant.admin_headers)
    assert all("token" not in t for t in listed.json())
    mine = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/auth/me", headers=mine)).status_code == 200
    gone = await client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=mine)
    assert gone.status_code == 204
    after = await client.get("/api/v1/auth/me", headers=mine)
    assert after.status_code == 401
    assert after.json()["code"] == "invalid_token"


async def test_only_admins_manage_users_and_numbers(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = {"email": "new@example.com", "name": "New", "password": "long enough pw"}
    resp = await client.post("/api/v1/users", json=body, headers=tenant.agent_headers)
    assert resp.status_code == 403
    assert resp.json()["code"] == "admin_only"
    resp = await client.post(
        "/api/v1/phone-numbers", json={"number": "+16505550999"}, headers=tenant.agent_headers
    )
    assert resp.status_code == 403


async def test_avatar_upload_accepts_images_only(client: httpx.AsyncClient, tenant: Tenant) -> None:
    from parlour.sample.avatars import identicon_png

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    bad = await client.put(
        "/api/v1/users/me/avatar",
        files={"file": ("a.svg", svg, "image/svg+xml")},
        headers=tenant.agent_headers,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_image"
    png = identicon_png("x")
    ok = await client.put(
        "/api/v1/users/me/avatar",
        files={"file": ("a.png", png, "image/png")},
        headers=tenant.agent_headers,
    )
    assert ok.status_code == 200
    url = ok.json()["avatar_url"]
    img = await client.get(url, headers=tenant.admin_headers)
    assert img.status_code == 200
    assert img.headers["content-type"] == "image/png"
    assert img.content == png


def test_login_throttle_blocks_after_repeated_failures() -> None:
    import pytest

    from parlour.accounts.throttle import LoginThrottle, TooManyAttempts

    throttle = LoginThrottle(limits={"email": 3, "ip": 4}, window=60)
    for _ in range(3):
        throttle.check("email:a", "ip:1")
        throttle.failed("email:a", "ip:1")
    with pytest.raises(TooManyAttempts) as exc:
        throttle.check("email:a", "ip:2")
    assert exc.value.status == 429
    throttle.check("email:b", "ip:1")  # the address has room for one more failure
    throttle.failed("email:b", "ip:1")
    with pytest.raises(TooManyAttempts):
        throttle.check("email:c", "ip:1")  # now the address is blocked too


async def test_repeated_wrong_passwords_get_429(client: httpx.AsyncClient, tenant: Tenant) -> None:
    codes = []
    for _ in range(11):
        resp = await client.post(
            "/api/v1/auth/login", json={"email": tenant.admin_email, "password": "wrong-wrong"}
        )
        codes.append(resp.json()["code"])
    assert codes[:10] == ["bad_credentials"] * 10
    assert codes[10] == "too_many_attempts"
    # Even the right password waits now: the guesser must not learn it is right.
    right = await client.post(
        "/api/v1/auth/login", json={"email": tenant.admin_email, "password": tenant.password}
    )
    assert right.status_code == 429
