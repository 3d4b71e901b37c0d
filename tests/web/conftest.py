"""Fixtures for the browser tests: a real `parlour demo` server and Debian's Chromium.

Without /usr/bin/chromium the tests skip with a clear message; with CI=true they fail,
because CI must run them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.server import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    Api,
    DemoServer,
    ensure_web_app_built,
)

IN_CI = os.environ.get("CI", "").lower() == "true"

# A shared two-core machine can be slow; waiting longer costs nothing when all is well.
expect.set_options(timeout=10_000)


def _need(condition: bool, message: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the browser tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    _need(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: `apt-get install chromium` to run")
    return CHROMIUM


@pytest.fixture(scope="session")
def web_app_built() -> None:
    problem = ensure_web_app_built()
    _need(problem is None, problem or "")


def _start(workdir: Path) -> DemoServer:
    """A demo whose workflows are off: its away message would answer the tests' visitors
    or not, by the hour of the day (tests/web/test_workflows.py turns them on)."""
    server = DemoServer(workdir).start()
    server.workflows(enabled=False)
    return server


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, web_app_built: None) -> Iterator[DemoServer]:
    """One demo server shared by the tests that only read, or touch their own contact."""
    server = _start(tmp_path_factory.mktemp("demo"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_demo(tmp_path: Path, web_app_built: None) -> Iterator[DemoServer]:
    """A demo server of the test's own, for tests that stop it or change shared data."""
    server = _start(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class App:
    """The agent app in one browser tab."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.url = base_url

    def login(self, email: str = ADMIN, password: str = PASSWORD) -> App:
        self.page.goto(self.url + "/")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("list", name="Conversations").wait_for()
        return self

    def conversation(self, name: str) -> Any:
        """The contacts-panel link of a contact's thread."""
        return self.page.get_by_role("link", name=re.compile(re.escape(name)))

    def find(self, name: str) -> Locator:
        """Searches the panel for a contact, and gives its row once the search is answered
        (clicking a row of the unfiltered list scrolls the panel down to it, and it stays
        scrolled once the search is cleared)."""
        search = self.page.get_by_label("Search contacts in this view")
        if search.input_value() == name:
            search.fill("")
        with self.page.expect_response(lambda r: _panel_search_of(r.url) == name):
            search.fill(name)
        link: Locator = self.conversation(name).first
        return link

    def open(self, name: str) -> Any:
        self.find(name).click()
        self.page.get_by_role("heading", name=name, level=2).wait_for()
        return self.page.get_by_role("log", name="Messages")

    def messages(self) -> Any:
        return self.page.get_by_role("log", name="Messages").get_by_role("listitem")


def _panel_search_of(url: str) -> str | None:
    """The search text of a request for a panel page, or None for any other request."""
    parts = urlsplit(url)
    if not parts.path.endswith("/api/v1/conversations"):
        return None
    return parse_qs(parts.query).get("q", [None])[0]


def _new_app(browser: Any, base_url: str, **context_args: Any) -> Iterator[App]:
    context = browser.new_context(
        viewport=context_args.pop("viewport", {"width": 1360, "height": 860}), **context_args
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield App(page, base_url)
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def app(browser: Any, demo: DemoServer) -> Iterator[App]:
    yield from _new_app(browser, demo.url)


@pytest.fixture
def api(demo: DemoServer) -> Iterator[Api]:
    client = Api(demo.url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def new_app(browser: Any) -> Iterator[Any]:
    """Opens more tabs (other agents, other servers, other screen sizes)."""
    stack: list[Iterator[App]] = []

    def make(base_url: str, **context_args: Any) -> App:
        gen = _new_app(browser, base_url, **context_args)
        stack.append(gen)
        return next(gen)

    yield make
    for gen in reversed(stack):
        for _ in gen:
            pass


def top_row(page: Page) -> Locator:
    """The row shown at the top of the panel. The list is virtualised: rows are placed by
    position, so the first link in the DOM is not necessarily the first one on screen."""
    return page.get_by_role("list", name="Conversations").locator('a[data-index="0"]')


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A real browser against a real server on a shared 2-core machine has timing noise no
    # wait can fully remove; a failure that repeats three times is still a failure.
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=1))
