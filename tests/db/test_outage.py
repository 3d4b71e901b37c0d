"""PostgreSQL stopped under `parlour serve`, and `parlour serve` started while it is down:
503 `database_unavailable` with Retry-After (never a 500), one log line per outage, and
service as soon as the database is back — without restarting Parlour."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.services import PostgresServer, Serve, parlour, wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.remove()


def env_for(pg: PostgresServer) -> dict[str, str]:
    return {
        **os.environ,
        "PARLOUR_DATABASE_URL": pg.url,
        "PARLOUR_LOG_LEVEL": "warning",
        "PARLOUR_WORKER_POLL_SECONDS": "0.2",
    }


def admin_headers(env: dict[str, str]) -> dict[str, str]:
    email = "outage@example.com"
    parlour(
        *("user", "create", "--email", email, "--password", "the database went away"),
        *("--role", "admin", "--account", "Outage"),
        env=env,
    )
    return {"Authorization": f"Bearer {parlour('token', 'create', '--email', email, env=env)}"}


def assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, (r.status_code, r.text)
    assert r.json()["code"] == "database_unavailable"
    assert int(r.headers["Retry-After"]) > 0


def test_requests_answer_503_while_postgres_is_down_and_work_again_when_it_is_back(
    pg: PostgresServer,
) -> None:
    env = env_for(pg)
    server = Serve(env)
    try:
        server.wait_up()
        headers = admin_headers(env)
        with httpx.Client(base_url=server.base, headers=headers, timeout=15) as api:
            contact = api.post("/api/v1/contacts", json={"name": "Before", "phones": []})
            assert contact.status_code == 201, contact.text

            pg.stop()
            for _ in range(20):
                assert_unavailable(api.get("/api/v1/conversations"))
                assert_unavailable(api.post("/api/v1/contacts", json={"name": "During"}))
            ready = api.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["details"] == {
                "database": "database_unavailable",
                "redis": "not_configured",
            }
            assert "Errno" not in ready.text and "asyncpg" not in ready.text
            assert api.get("/healthz").status_code == 200

            pg.start()
            back = time.monotonic()
            wait_until(
                lambda: api.get("/api/v1/conversations").status_code == 200,
                timeout=10,
                what="requests did not work again",
            )
            assert time.monotonic() - back < 3
            after = api.post("/api/v1/contacts", json={"name": "After", "phones": []})
            assert after.status_code == 201, after.text
            names = {c["name"] for c in api.get("/api/v1/contacts").json()["items"]}
            assert {"Before", "After"} <= names and "During" not in names
        log = server.output()
        assert "Traceback" not in log, log[-4000:]
        # One line when it went, one when it came back (and the worker's, if it noticed).
        assert len(log.strip().splitlines()) <= 8, log
        assert "database back after" in log
    finally:
        server.stop()


def test_a_server_started_while_postgres_is_down_waits_for_it(pg: PostgresServer) -> None:
    env = env_for(pg)
    pg.stop()
    server = Serve(env)
    try:
        server.wait_up("/healthz")
        ready = httpx.get(server.base + "/readyz")
        assert ready.status_code == 503 and ready.json()["code"] == "not_ready"
        assert_unavailable(httpx.get(server.base + "/api/v1/conversations"))
        pg.start()
        server.wait_up("/readyz", timeout=15)  # migrated once the database answered
        headers = admin_headers(env)
        r = httpx.post(
            server.base + "/api/v1/contacts", json={"name": "Late", "phones": []}, headers=headers
        )
        assert r.status_code == 201, r.text
        assert "Traceback" not in server.output(), server.output()[-4000:]
    finally:
        server.stop()
