"""Every control has an accessible name, in every main state of the app."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import App
from tests.web.server import ROOT, DemoServer

pytestmark = pytest.mark.browser

CONTROL = "button|link|textbox|combobox|checkbox|switch|radio|searchbox|slider|tab|option"
UNNAMED = re.compile(rf"^\s*- ({CONTROL})(\s*\[[^\]]*\])*\s*:?\s*$")


def unnamed_controls(page: Any) -> list[str]:
    snapshot: str = page.locator("body").aria_snapshot()
    return [line.strip() for line in snapshot.splitlines() if UNNAMED.match(line)]


def test_every_control_is_named_in_the_main_states(app: App) -> None:
    app.login()
    page = app.page
    assert unnamed_controls(page) == [], "inbox"

    app.open("Amélie Dubois")
    assert unnamed_controls(page) == [], "thread"

    page.get_by_role("button", name="Communication options", exact=True).click()
    expect(page.get_by_role("complementary", name="Communication options")).to_be_visible()
    assert unnamed_controls(page) == [], "communication options"
    page.get_by_role("button", name="Close communication options").click()

    page.get_by_role("button", name="Write an email to Amélie Dubois").click()
    expect(page.get_by_role("dialog", name=re.compile("New email"))).to_be_visible()
    assert unnamed_controls(page) == [], "email composer"
    page.keyboard.press("Escape")

    page.get_by_role("region", name="Dialog window").get_by_role(
        "button", name="Edit contact Amélie Dubois"
    ).click()
    expect(page.get_by_role("dialog", name="Edit Amélie Dubois")).to_be_visible()
    assert unnamed_controls(page) == [], "quick edit"
    page.keyboard.press("Escape")

    page.keyboard.press("n")
    expect(page.get_by_role("dialog", name="New conversation")).to_be_visible()
    assert unnamed_controls(page) == [], "new conversation"
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Settings").click()
    for tab in ("Your profile", "Phone numbers", "Mailboxes", "Web chat", "Users", "API tokens"):
        page.get_by_role("navigation", name="Settings").get_by_role("link", name=tab).click()
        expect(page.get_by_role("heading", level=2, name=tab)).to_be_visible()
        assert unnamed_controls(page) == [], tab


def test_focus_is_visible_on_keyboard_navigation(app: App) -> None:
    app.login()
    page = app.page
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    shadow = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert shadow != "none" or outline not in ("none", ""), (shadow, outline)


AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
# What a screen-reader or low-vision user is blocked by; "moderate" and "minor" findings
# (best practices such as one landmark per role) are not held at zero.
BLOCKING = ("serious", "critical")


_SETTLED = """() => Promise.all(document.getAnimations()
    .filter((a) => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => null)))"""


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line per
    element: the rule, its impact, what is wrong and where."""
    # A panel sliding or fading in is measured at its final colours, not half-transparent.
    page.evaluate(_SETTLED)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = []
    for v in results["violations"]:
        if v["impact"] not in BLOCKING:
            continue
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            found.append(f"{v['id']} ({v['impact']}): {v['help']} at {target}: {summary}")
    return found


def assert_axe_clean(page: Any, screen: str) -> None:
    found = axe_violations(page)
    if found:
        pytest.fail(f"axe-core on {screen}:\n" + "\n".join(found), pytrace=False)


def axe_app(new_app: Any, demo: DemoServer, **context_args: Any) -> App:
    """A tab that can take axe-core: the app's CSP refuses the inline script Playwright
    adds, so the test's own context sets it aside (the app's own code is unchanged)."""
    app: App = new_app(demo.url, bypass_csp=True, **context_args)
    return app


def test_axe_finds_nothing_serious_on_the_main_screens(new_app: Any, demo: DemoServer) -> None:
    app = axe_app(new_app, demo)
    page = app.page
    page.goto(app.url + "/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_axe_clean(page, "login")

    app.login()
    app.open("Amélie Dubois")
    expect(app.messages().first).to_be_visible()
    assert_axe_clean(page, "inbox with a thread open")

    page.get_by_role("button", name="Communication options", exact=True).click()
    expect(page.get_by_role("complementary", name="Communication options")).to_be_visible()
    assert_axe_clean(page, "communication options")
    page.get_by_role("button", name="Close communication options").click()

    page.get_by_role("region", name="Dialog window").get_by_role(
        "button", name="Edit contact Amélie Dubois"
    ).click()
    expect(page.get_by_role("dialog", name="Edit Amélie Dubois")).to_be_visible()
    assert_axe_clean(page, "a contact (quick edit)")
    page.keyboard.press("Escape")

    page.keyboard.press("n")
    dialog = page.get_by_role("dialog", name="New conversation")
    expect(dialog.get_by_role("option").first).to_be_visible()
    assert_axe_clean(page, "contacts (new conversation search)")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Tasks").click()
    expect(page.get_by_role("heading", level=1, name="Tasks")).to_be_visible()
    assert_axe_clean(page, "tasks")

    page.get_by_role("link", name="Settings").click()
    nav = page.get_by_role("navigation", name="Settings")
    tabs = ("Your profile", "Phone numbers", "Mailboxes", "Web chat", "Workflows", "Webhooks")
    for tab in (*tabs, "Users", "API tokens", "Account"):
        nav.get_by_role("link", name=tab).click()
        expect(page.get_by_role("heading", level=2, name=tab)).to_be_visible()
        expect(page.locator("[aria-busy='true']")).to_have_count(0)
        assert_axe_clean(page, f"Settings → {tab}")

    nav.get_by_role("link", name="Workflows").click()
    page.get_by_role("region", name="Workflow Away message").get_by_role(
        "button", name="Edit"
    ).click()
    expect(page.get_by_role("form", name="Edit Away message")).to_be_visible()
    assert_axe_clean(page, "a workflow in the editor")


def test_axe_finds_nothing_serious_in_the_dark_theme(new_app: Any, demo: DemoServer) -> None:
    """The same checks for people whose system asks for dark colours."""
    app = axe_app(new_app, demo, color_scheme="dark")
    page = app.page
    page.goto(app.url + "/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_axe_clean(page, "login (dark)")
    app.login()
    app.open("Amélie Dubois")
    expect(app.messages().first).to_be_visible()
    assert_axe_clean(page, "inbox with a thread open (dark)")
    page.get_by_role("link", name="Settings").click()
    nav = page.get_by_role("navigation", name="Settings")
    for tab in ("Phone numbers", "Workflows", "Webhooks"):
        nav.get_by_role("link", name=tab).click()
        expect(page.get_by_role("heading", level=2, name=tab)).to_be_visible()
        expect(page.locator("[aria-busy='true']")).to_have_count(0)
        assert_axe_clean(page, f"Settings → {tab} (dark)")


def test_the_thread_reads_as_a_list_of_messages(app: App) -> None:
    """A screen reader announces the thread as a list ("list, 12 items") and each message
    as an item of it, inside the log that announces new ones."""
    app.login()
    log = app.open("Amélie Dubois")
    messages = log.get_by_role("list", name="Messages")
    expect(messages).to_be_visible()
    items = messages.get_by_role("listitem").filter(has_text="Please email me instead")
    expect(items).to_have_count(1)
    expect(items).to_have_accessible_name("From Amélie Dubois by Email")


def test_axe_finds_nothing_serious_at_phone_width(new_app: Any, demo: DemoServer) -> None:
    app = axe_app(new_app, demo, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = app.page
    app.login()
    assert_axe_clean(page, "the panel at phone width")
    app.open("Amélie Dubois")
    expect(app.messages().first).to_be_visible()
    assert_axe_clean(page, "a thread at phone width")
