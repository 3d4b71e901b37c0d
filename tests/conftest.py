"""Shared fixtures: a real database per backend, an app, and throwaway accounts.

Every test run creates its own SQLite file and its own PostgreSQL database, migrates them
once, and drops them at the end. Tests isolate themselves by working in a fresh account
(tenancy is the isolation users rely on, so tests lean on it too).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import itertools
import os
import random
import socket
import uuid
import warnings
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from parlour.accounts import service as accounts_service
from parlour.app import create_app
from parlour.channels.registry import Providers, make_providers
from parlour.config import Settings
from parlour.db.migrate import migrate
from parlour.db.tx import transaction
from parlour.runtime import Runtime

T = TypeVar("T")

PG_HOST = os.environ.get("PARLOUR_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PARLOUR_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("PARLOUR_TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("PARLOUR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip when a server is absent on a laptop; fail loudly in CI, where it must run."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI=true: these tests must run)")
    pytest.skip(message + " — start it to run these tests")


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_apart(coro: Coroutine[Any, Any, T]) -> T:
    """Runs a session fixture's coroutine on a thread of its own. ``asyncio.run`` on the
    main thread unsets its event loop; pytest-asyncio then made a loop it never closed,
    reported as an unclosed socket by whichever test the garbage collector ran in."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(autouse=True)
def _close_idle_event_loop(request: pytest.FixtureRequest) -> None:
    """After each async test pytest-asyncio sets a fresh event loop on the main thread. A
    sync test that then calls ``asyncio.run`` (the CLI does) unsets it without closing
    it, and the garbage collector reports its socket as unclosed in whatever test it
    happens to run in. Closing the idle loop first leaves nothing to report."""
    if inspect.iscoroutinefunction(request.function):
        return
    policy = asyncio.get_event_loop_policy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = policy.get_event_loop()
        except RuntimeError:
            return  # none set
    if not loop.is_running() and not loop.is_closed():
        loop.close()
        policy.set_event_loop(None)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("db") / "parlour-test.db"
    url = f"sqlite+aiosqlite:///{path}"
    run_apart(migrate(url))
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    name = f"parlour_test_{uuid.uuid4().hex[:10]}"
    run_apart(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = pg_url(name)
    try:
        run_apart(migrate(url))
        yield url
    finally:
        run_apart(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both backends."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of its own, for tests that migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        return
    request.applymarker(pytest.mark.postgres)
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    name = f"parlour_m_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        public_url="http://test",
        run_worker=True,
        worker_poll_seconds=0.05,
        # Each test's server would run it (tests/test_warmup.py does, on purpose).
        warm_up=False,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def providers(settings: Settings) -> Providers:
    return make_providers(settings)


@pytest.fixture
async def app(settings: Settings, providers: Providers) -> AsyncIterator[FastAPI]:
    application = create_app(settings, providers=providers)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    rt: Runtime = app.state.runtime
    return rt


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


# A random start per run, counting up: never the same number twice in one database, and
# never in the 555 exchange the tests use for contacts.
_company_numbers = itertools.count(random.randrange(6_000_000, 8_000_000, 1000))


def next_company_number() -> str:
    return f"+1650{next(_company_numbers):07d}"


@dataclass
class Tenant:
    """A fresh account with an admin and an agent, each with an API token."""

    account_id: int
    admin_id: int
    agent_id: int
    admin_headers: dict[str, str]
    agent_headers: dict[str, str]
    admin_email: str
    password: str


async def make_tenant(rt: Runtime, *, with_channels: bool = True) -> Tenant:
    from parlour.channels.email.models import Mailbox
    from parlour.channels.sms.models import PhoneNumber
    from parlour.channels.webchat.models import Widget

    tag = uuid.uuid4().hex[:10]
    password = "correct horse battery"
    async with transaction(rt.db, rt.hub) as tx:
        acct = await accounts_service.get_or_create_account(tx, name=f"Test {tag}")
        admin = await accounts_service.create_user(
            tx,
            account_id=acct.id,
            email=f"admin-{tag}@example.com",
            name="Ada Admin",
            password=password,
            role="admin",
        )
        agent = await accounts_service.create_user(
            tx,
            account_id=acct.id,
            email=f"agent-{tag}@example.com",
            name="Sam Agent",
            password=password,
            role="agent",
        )
        admin_token = (await accounts_service.create_api_token(tx, user=admin, name="t")).token
        agent_token = (await accounts_service.create_api_token(tx, user=agent, name="t")).token
        if with_channels:
            # Company numbers are unique across accounts: each tenant takes the next one.
            tx.session.add_all(
                [
                    PhoneNumber(
                        account_id=acct.id,
                        e164=next_company_number(),
                        label="Main",
                        provider="console",
                        sms_enabled=True,
                    ),
                    Mailbox(
                        account_id=acct.id,
                        address=f"hello@{tag}.example",
                        name="Support",
                        provider="console",
                        enabled=True,
                    ),
                    Widget(
                        account_id=acct.id,
                        name="site",
                        public_token=f"wgt_{tag}",
                        enabled=True,
                        allowed_origins=[],
                        greeting="",
                        color="#4f46e5",
                        identity_secret="s",
                    ),
                ]
            )
        await tx.commit()
    return Tenant(
        account_id=acct.id,
        admin_id=admin.id,
        agent_id=agent.id,
        admin_headers={"Authorization": f"Bearer {admin_token}"},
        agent_headers={"Authorization": f"Bearer {agent_token}"},
        admin_email=admin.email,
        password=password,
    )


@pytest.fixture
async def tenant(runtime: Runtime) -> Tenant:
    return await make_tenant(runtime)


@pytest.fixture
async def other_tenant(runtime: Runtime) -> Tenant:
    return await make_tenant(runtime)


async def run_tx(rt: Runtime, fn: Any) -> Any:
    async with transaction(rt.db, rt.hub) as tx:
        result = await fn(tx)
        await tx.commit()
        return result


async def wait_for(predicate: Any, *, within: float = 5.0) -> Any:
    """Polls an async predicate until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


# Each plan a search can take (see parlour.contacts.search): look a few matches up, walk
# the display order (one word: before anything else; the panel walks only the newest
# threads then), look the matches up after a walk gave up.
SEARCH_PLANS: dict[str, dict[str, object]] = {
    "look-up-few": {"FEW": 500, "FEW_SHORT": 100, "WALK_CAP": 15000, "WALK_FIRST": False},
    "walk-in-order": {"FEW": 0, "FEW_SHORT": 0, "WALK_CAP": 15000, "WALK_FIRST": True},
    "look-up-after-walking": {
        "FEW": 0,
        "FEW_SHORT": 0,
        "WALK_CAP": 1,
        "WALK_FIRST": True,
        "PANEL_FIRST_WALK": 1,
    },
    "look-up-after-a-first-walk": {
        "FEW": 500,
        "FEW_SHORT": 100,
        "WALK_CAP": 1,
        "WALK_FIRST": True,
        "PANEL_FIRST_WALK": 1,
    },
}


@pytest.fixture(params=list(SEARCH_PLANS))
def search_plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in SEARCH_PLANS[request.param].items():
        monkeypatch.setattr(f"parlour.contacts.search.{name}", value)
    return str(request.param)


async def search_pages(
    client: httpx.AsyncClient, tenant: Tenant, url: str, q: str, *, limit: int
) -> list[dict[str, Any]]:
    """Every item a search at ``url`` gives, page by page with its cursor, as a user
    scrolling would see them; each page holds at most ``limit``."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"q": q, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        resp = await client.get(url, params=params, headers=tenant.admin_headers)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The browser tests go last: their session-wide Playwright runs an event loop of its
    # own on the main thread until the session ends, and an async test after them cannot
    # run its loop ("Cannot run the event loop while another loop is running").
    web = Path(__file__).parent / "web"
    items.sort(key=lambda item: Path(str(item.path)).is_relative_to(web))
