"""The agents' WebSocket: live events for one account, and catching up after a drop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from parlour.app import create_app
from parlour.channels.registry import Providers
from parlour.config import Settings
from parlour.db.tx import Tx
from parlour.realtime.events import Event
from parlour.runtime import Runtime
from tests.conftest import Tenant, make_tenant


@contextmanager
def serving(
    settings: Settings, providers: Providers
) -> Iterator[tuple[TestClient, Runtime, Tenant, str]]:
    """A running app, its runtime, a tenant, and the token its admin's socket opens with."""
    app = create_app(settings, providers=providers)
    with TestClient(app) as tc:
        rt = app.state.runtime
        me = tc.portal.call(make_tenant, rt)  # type: ignore[union-attr]
        yield tc, rt, me, me.admin_headers["Authorization"].split()[1]


def test_events_arrive_live_and_are_replayed_after_reconnect(
    settings: Settings, providers: Providers
) -> None:
    with serving(settings, providers) as (tc, rt, me, token):
        stranger = tc.portal.call(make_tenant, rt)  # type: ignore[union-attr]

        def create(name: str, tenant: Any) -> None:
            resp = tc.post("/api/v1/contacts", json={"name": name}, headers=tenant.admin_headers)
            assert resp.status_code == 201

        with tc.websocket_connect(f"/api/v1/ws?token={token}") as ws:
            hello = ws.receive_json()
            assert hello["type"] == "hello"
            start = hello["seq"]
            create("Not yours", stranger)  # another account: must not reach me
            create("Live", me)
            event = ws.receive_json()
            assert (event["type"], event["seq"]) == ("contact.updated", start + 1)
            assert event["data"]["contact"]["name"] == "Live"

        create("While away 1", me)
        create("While away 2", me)
        with tc.websocket_connect(f"/api/v1/ws?token={token}&since={start + 1}") as ws:
            assert ws.receive_json() == {"type": "hello", "seq": start + 3}
            missed = [ws.receive_json() for _ in range(2)]
            assert [(e["seq"], e["data"]["contact"]["name"]) for e in missed] == [
                (start + 2, "While away 1"),
                (start + 3, "While away 2"),
            ]
            create("Live again", me)
            assert ws.receive_json()["data"]["contact"]["name"] == "Live again"


def test_socket_refuses_unauthenticated_and_cross_site(
    settings: Settings, providers: Providers
) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    app = create_app(settings, providers=providers)
    with TestClient(app) as tc:
        with pytest.raises(WebSocketDisconnect) as exc, tc.websocket_connect("/api/v1/ws") as ws:
            ws.receive_json()
        assert exc.value.code == 4401
        rt = app.state.runtime
        me = tc.portal.call(make_tenant, rt)  # type: ignore[union-attr]
        login = tc.post(
            "/api/v1/auth/login", json={"email": me.admin_email, "password": me.password}
        )
        assert login.status_code == 200
        with (
            pytest.raises(WebSocketDisconnect) as exc,
            tc.websocket_connect("/api/v1/ws", headers={"origin": "https://evil.example"}) as ws,
        ):
            ws.receive_json()
        assert exc.value.code == 4401
        with tc.websocket_connect("/api/v1/ws", headers={"origin": "http://testserver"}) as ws:
            assert ws.receive_json()["type"] == "hello"


def test_a_since_that_is_no_event_number_is_refused_with_a_close_code(
    settings: Settings, providers: Providers
) -> None:
    """``?since=-1e30`` dropped the socket unanswered; now it is refused, saying why."""
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with serving(settings, providers) as (tc, _, _, token):
        for since in ("-1e30", "-1", "1.5", "true", "9" * 40, "\u0661"):
            with (
                pytest.raises(WebSocketDisconnect) as exc,
                tc.websocket_connect(f"/api/v1/ws?token={token}&since={since}") as ws,
            ):
                ws.receive_json()
            assert (exc.value.code, exc.value.reason) == (4400, "since: an event number, from 0")
        with tc.websocket_connect(f"/api/v1/ws?token={token}&since=0") as ws:
            assert ws.receive_json()["type"] == "hello"


async def test_old_events_are_pruned_and_recent_ones_kept(runtime: Runtime) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select, update

    from parlour.db.base import utcnow
    from parlour.realtime.models import EventRecord
    from parlour.realtime.service import prune_events
    from tests.conftest import run_tx

    tenant = await make_tenant(runtime)

    async def emit_two(tx: Tx) -> None:
        for name in ("old", "new"):
            tx.emit(Event(type="contact.deleted", account_id=tenant.account_id, data={"n": name}))

    await run_tx(runtime, emit_two)

    async def age_first(tx: Tx) -> None:
        first = await tx.session.scalar(
            select(func.min(EventRecord.seq)).where(EventRecord.account_id == tenant.account_id)
        )
        await tx.session.execute(
            update(EventRecord)
            .where(EventRecord.account_id == tenant.account_id, EventRecord.seq == first)
            .values(created_at=utcnow() - timedelta(days=10))
        )

    await run_tx(runtime, age_first)
    await run_tx(runtime, prune_events)

    async def left(tx: Tx) -> list[object]:
        rows = await tx.session.scalars(
            select(EventRecord.data).where(EventRecord.account_id == tenant.account_id)
        )
        return list(rows)

    assert await run_tx(runtime, left) == [{"n": "new"}]


class _LostPublications:
    """A hub whose publications go astray (a Redis blip, say); events are still stored."""

    async def publish(self, event: Event) -> None:
        return None


async def _store_unpublished(rt: Runtime, account_id: int, n: int) -> list[Event]:
    """Commits ``n`` events whose publication is lost; returns them, numbered."""
    from parlour.db.tx import transaction

    async with transaction(rt.db, _LostPublications()) as tx:  # type: ignore[arg-type]
        evs = [
            Event(type="contact.deleted", account_id=account_id, data={"n": i}) for i in range(n)
        ]
        for ev in evs:
            tx.emit(ev)
        await tx.commit()
        return evs


def test_events_arrive_in_sequence_order_even_when_published_out_of_order(
    settings: Settings, providers: Providers
) -> None:
    with serving(settings, providers) as (tc, rt, me, token):

        def publish(ev: Event) -> None:
            tc.portal.call(rt.hub.publish, ev)  # type: ignore[union-attr]

        with tc.websocket_connect(f"/api/v1/ws?token={token}") as ws:
            start = ws.receive_json()["seq"]
            # Two commits whose publications overtook each other.
            first, second = tc.portal.call(_store_unpublished, rt, me.account_id, 2)  # type: ignore[union-attr]
            assert (first.seq, second.seq) == (start + 1, start + 2)
            publish(second)
            publish(first)
            assert [ws.receive_json()["seq"] for _ in range(2)] == [start + 1, start + 2]
            # Two commits whose publications were lost, then one whose arrives: the
            # socket reads the two it never heard of from the database, in order.
            evs = tc.portal.call(_store_unpublished, rt, me.account_id, 3)  # type: ignore[union-attr]
            publish(evs[2])
            got = [ws.receive_json() for _ in range(3)]
            assert [(e["seq"], e["data"]["n"]) for e in got] == [
                (start + 3, 0),
                (start + 4, 1),
                (start + 5, 2),
            ]


def test_a_gap_too_large_to_fill_closes_the_socket_for_a_refetch(
    settings: Settings, providers: Providers, monkeypatch: Any
) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    monkeypatch.setattr("parlour.realtime.api.REPLAY_LIMIT", 2)
    with (
        serving(settings, providers) as (tc, rt, me, token),
        tc.websocket_connect(f"/api/v1/ws?token={token}") as ws,
    ):
        ws.receive_json()  # hello
        evs = tc.portal.call(_store_unpublished, rt, me.account_id, 4)  # type: ignore[union-attr]
        tc.portal.call(rt.hub.publish, evs[3])  # type: ignore[union-attr]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4000


def test_a_socket_closes_when_its_login_ends_and_an_api_tokens_stays(
    settings: Settings, providers: Providers, monkeypatch: Any
) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    monkeypatch.setattr("parlour.realtime.api.RECHECK_SECONDS", 0.1)
    monkeypatch.setattr("parlour.realtime.api.PING_SECONDS", 0.1)
    with serving(settings, providers) as (tc, rt, me, token):
        login = tc.post(
            "/api/v1/auth/login", json={"email": me.admin_email, "password": me.password}
        )
        assert login.status_code == 200
        with (
            tc.websocket_connect("/api/v1/ws", headers={"origin": "http://testserver"}) as browser,
            tc.websocket_connect(f"/api/v1/ws?token={token}") as script,
        ):
            assert browser.receive_json()["type"] == "hello"
            assert script.receive_json()["type"] == "hello"
            # The password changed with the API token: every browser session ends.
            changed = tc.patch(
                f"/api/v1/users/{me.admin_id}",
                json={"password": "a brand new passphrase", "current_password": me.password},
                headers=me.admin_headers,
            )
            assert changed.status_code == 200, changed.text
            with pytest.raises(WebSocketDisconnect) as closed:
                for _ in range(50):  # pings, 0.1 s apart, until it closes
                    assert browser.receive_json()["type"] == "ping"
            assert closed.value.code == 4401

            made = tc.post("/api/v1/contacts", json={"name": "Still"}, headers=me.admin_headers)
            assert made.status_code == 201
            seen = script.receive_json()
            while seen["type"] == "ping":
                seen = script.receive_json()
            assert seen["data"]["contact"]["name"] == "Still"
