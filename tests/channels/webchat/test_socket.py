"""The visitor's WebSocket: their own thread's web-chat messages live, shaped for a
visitor; the rest of the account never; catching up after a drop through GET /messages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from parlour.app import create_app
from parlour.channels.registry import Providers
from parlour.config import Settings
from parlour.runtime import Runtime
from tests.channels.webchat.conftest import ORIGIN, Site, bearer, site_of, vouch
from tests.conftest import Tenant, make_tenant


@contextmanager
def serving(settings: Settings, providers: Providers) -> Iterator[tuple[TestClient, Runtime]]:
    app = create_app(settings, providers=providers)
    with TestClient(app) as tc:
        yield tc, app.state.runtime


def tenant_and_site(tc: TestClient, rt: Runtime) -> tuple[Tenant, Site]:
    tenant: Tenant = tc.portal.call(make_tenant, rt)  # type: ignore[union-attr]
    site: Site = tc.portal.call(site_of, rt, tenant)  # type: ignore[union-attr]
    return tenant, site


def visitor(tc: TestClient, site: Site) -> str:
    resp = tc.post(f"/widget/v1/{site.public_token}/visitors", json={}, headers={"Origin": ORIGIN})
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["visitor_token"]
    return token


def say(tc: TestClient, token: str, body: str) -> dict[str, Any]:
    resp = tc.post("/widget/v1/messages", json={"body": body}, headers=bearer(token))
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


def thread_id(tc: TestClient, tenant: Tenant, name: str) -> int:
    items = tc.get("/api/v1/conversations", headers=tenant.agent_headers).json()["items"]
    (found,) = [c["id"] for c in items if c["contact"]["name"] == name]
    return int(found)


def reply(tc: TestClient, tenant: Tenant, conv: int, body: str) -> int:
    resp = tc.post(
        f"/api/v1/conversations/{conv}/messages",
        json={"channel": "webchat", "body": body},
        headers=tenant.agent_headers,
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def next_of(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind:
            return frame


def test_a_visitor_sees_their_thread_live_and_catches_up_once(
    settings: Settings, providers: Providers
) -> None:
    with serving(settings, providers) as (tc, rt):
        tenant, site = tenant_and_site(tc, rt)
        token = visitor(tc, site)
        first = say(tc, token, "Hello?")
        name = first["sender"]["name"]
        conv = thread_id(tc, tenant, name)
        stranger = visitor(tc, site)
        say(tc, stranger, "someone else's question")
        stranger_conv = thread_id(tc, tenant, say(tc, stranger, "again")["sender"]["name"])

        with tc.websocket_connect(f"/widget/v1/ws?token={token}", headers={"Origin": ORIGIN}) as ws:
            assert ws.receive_json() == {"type": "hello", "unread": 0}
            reply(tc, tenant, stranger_conv, "not for you")
            out_id = reply(tc, tenant, conv, "Hi, how can I help?")
            frame = next_of(ws, "message")
            message = frame["message"]
            assert (message["id"], message["direction"], message["body"]) == (
                out_id,
                "out",
                "Hi, how can I help?",
            )
            assert message["sender"]["type"] == "user"
            assert set(message) == {
                "id",
                "direction",
                "body",
                "sender",
                "attachments",
                "created_at",
                "read",
                "client_id",
            }
            mine = say(tc, token, "My order is late")  # a second tab sees the visitor's own
            assert next_of(ws, "message")["message"]["id"] == mine["id"]
            tc.post(f"/api/v1/conversations/{conv}/typing", headers=tenant.agent_headers)
            assert next_of(ws, "typing") == {"type": "typing", "name": "Sam Agent"}
            last_seen = mine["id"]

        # Away: two replies; back, the widget asks for what came after the last it saw.
        away = [reply(tc, tenant, conv, f"while away {i}") for i in range(2)]
        with tc.websocket_connect(f"/widget/v1/ws?token={token}", headers={"Origin": ORIGIN}) as ws:
            hello = ws.receive_json()
            assert hello["type"] == "hello" and hello["unread"] >= 2
            deadline = time.monotonic() + 5
            while True:
                resp = tc.get(f"/widget/v1/messages?after={last_seen}", headers=bearer(token))
                got = [m["id"] for m in resp.json()["items"]]
                if got == away or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert got == away
            live = reply(tc, tenant, conv, "and now live")
            assert next_of(ws, "message")["message"]["id"] == live


def test_bad_tokens_origins_malformed_frames_and_floods_are_closed(
    settings: Settings, providers: Providers
) -> None:
    with serving(settings, providers) as (tc, rt):
        tenant, site = tenant_and_site(tc, rt)
        token = visitor(tc, site)
        for url, code in (
            ("/widget/v1/ws?token=forged", 4401),
            ("/widget/v1/ws", 4401),
        ):
            with pytest.raises(WebSocketDisconnect) as exc, tc.websocket_connect(url) as ws:
                ws.receive_json()
            assert exc.value.code == code

        tc.portal.call(partial(site_of, rt, tenant, allowed_origins=[ORIGIN]))  # type: ignore[union-attr]
        with (
            pytest.raises(WebSocketDisconnect) as exc,
            tc.websocket_connect(
                f"/widget/v1/ws?token={token}", headers={"Origin": "https://evil.example"}
            ) as ws,
        ):
            ws.receive_json()
        assert exc.value.code == 4403

        with tc.websocket_connect(f"/widget/v1/ws?token={token}", headers={"Origin": ORIGIN}) as ws:
            assert ws.receive_json()["type"] == "hello"
            ws.send_json({"type": "typing"})
            ws.send_text("not json")
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 1008

        with tc.websocket_connect(f"/widget/v1/ws?token={token}", headers={"Origin": ORIGIN}) as ws:
            assert ws.receive_json()["type"] == "hello"
            with pytest.raises(WebSocketDisconnect) as exc:
                for _ in range(200):
                    ws.send_json({"type": "typing"})
                ws.receive_json()
            assert exc.value.code == 4429

        tc.portal.call(partial(site_of, rt, tenant, enabled=False))  # type: ignore[union-attr]
        with (
            pytest.raises(WebSocketDisconnect) as exc,
            tc.websocket_connect(f"/widget/v1/ws?token={token}", headers={"Origin": ORIGIN}) as ws,
        ):
            ws.receive_json()
        assert exc.value.code == 4403


def test_a_socket_whose_visitor_was_merged_away_is_told_to_start_again(
    settings: Settings, providers: Providers
) -> None:
    with serving(settings, providers) as (tc, rt):
        _, site = tenant_and_site(tc, rt)
        ident = vouch(site, "user-1")
        known = tc.post(
            f"/widget/v1/{site.public_token}/visitors",
            json={"identity": ident},
            headers={"Origin": ORIGIN},
        ).json()["visitor_token"]
        say(tc, known, "logged in")
        anon = visitor(tc, site)
        say(tc, anon, "not yet")
        with tc.websocket_connect(f"/widget/v1/ws?token={anon}", headers={"Origin": ORIGIN}) as ws:
            assert ws.receive_json()["type"] == "hello"
            resp = tc.post(
                f"/widget/v1/{site.public_token}/visitors",
                json={"visitor_token": anon, "identity": vouch(site, "user-1")},
                headers={"Origin": ORIGIN},
            )
            assert resp.status_code == 200
            with pytest.raises(WebSocketDisconnect) as exc:
                while True:
                    ws.receive_json()
            assert exc.value.code == 4401


def test_a_visitor_connected_before_writing_sees_their_thread_start(
    settings: Settings, providers: Providers
) -> None:
    with serving(settings, providers) as (tc, rt):
        tenant, site = tenant_and_site(tc, rt)
        token = visitor(tc, site)
        other = visitor(tc, site)
        with tc.websocket_connect(f"/widget/v1/ws?token={token}", headers={"Origin": ORIGIN}) as ws:
            assert ws.receive_json() == {"type": "hello", "unread": 0}
            say(tc, other, "not mine")
            first = say(tc, token, "my first")
            assert next_of(ws, "message")["message"]["id"] == first["id"]
            conv = thread_id(tc, tenant, first["sender"]["name"])
            answer = reply(tc, tenant, conv, "welcome")
            assert next_of(ws, "message")["message"]["id"] == answer


def test_an_agent_online_is_an_agents_socket_not_a_visitors(
    settings: Settings, providers: Providers
) -> None:
    with serving(settings, providers) as (tc, rt):
        tenant, site = tenant_and_site(tc, rt)
        tc.portal.call(partial(site_of, rt, tenant, offline_mode="no_agent_online"))  # type: ignore[union-attr]
        token = visitor(tc, site)
        url = f"/widget/v1/{site.public_token}/config"

        def online() -> bool:
            conf = tc.get(url, headers={"Origin": ORIGIN}).json()
            assert conf["ask_email"] is not conf["online"]
            return bool(conf["online"])

        with tc.websocket_connect(f"/widget/v1/ws?token={token}", headers={"Origin": ORIGIN}) as ws:
            ws.receive_json()
            assert not online()
            agent_token = tenant.agent_headers["Authorization"].split()[1]
            with tc.websocket_connect(f"/api/v1/ws?token={agent_token}") as agent:
                agent.receive_json()
                assert online()
        assert not online()
