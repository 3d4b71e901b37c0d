"""Every control has an accessible name, in every main state of the app."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import App

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
