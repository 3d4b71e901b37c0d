"""Live updates: what other agents do appears without a reload; the app catches up after
the connection drops, and says so while it is down."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import App
from tests.web.server import AGENT, Api, DemoServer

pytestmark = pytest.mark.browser


def test_another_agents_message_appears_in_the_open_thread_and_the_panel_reorders(
    app: App, demo: DemoServer
) -> None:
    app.login()
    log = app.open("Mateo Rossi")
    page = app.page
    page.get_by_label("Search contacts in this view").fill("")
    rows = page.get_by_role("list", name="Conversations").get_by_role("link")
    expect(rows.first).to_be_visible()

    sam = Api(demo.url, email=AGENT)
    try:
        conv = sam.conversation_of("Mateo Rossi")
        sam.post(
            f"/conversations/{conv['id']}/messages",
            {"channel": "sms", "body": "Sam here: your grinder is fixed."},
        )
    finally:
        sam.close()

    sent = log.get_by_role("listitem").filter(has_text="Sam here: your grinder is fixed.")
    expect(sent).to_be_visible()
    expect(sent.get_by_role("img", name="Sam Carter")).to_be_visible()
    expect(sent.get_by_label("Status: Delivered")).to_be_visible()
    expect(rows.first).to_contain_text("Mateo Rossi")
    expect(rows.first).to_contain_text("You: Sam here")


def test_contact_edits_and_status_changes_by_others_appear_live(app: App, demo: DemoServer) -> None:
    app.login()
    app.open("Omar Farouk")  # the panel is now searching for "Omar Farouk"
    page = app.page
    page.get_by_label("Search contacts in this view").fill("Omar")
    sam = Api(demo.url, email=AGENT)
    try:
        conv: dict[str, Any] = sam.conversation_of("Omar Farouk")
        sam.patch(f"/contacts/{conv['contact']['id']}", {"name": "Omar El-Farouk"})
        expect(page.get_by_role("heading", level=2, name="Omar El-Farouk")).to_be_visible()
        expect(app.conversation("Omar El-Farouk")).to_be_visible()

        sam.patch(f"/conversations/{conv['id']}", {"status": "closed"})
        expect(page.get_by_role("button", name="Reopen")).to_be_visible()
        expect(app.conversation("Omar El-Farouk")).to_have_count(0)  # All shows open threads
        page.get_by_role("button", name="Reopen").click()
        expect(app.conversation("Omar El-Farouk")).to_be_visible()
    finally:
        sam.close()


def test_after_a_dropped_connection_it_says_reconnecting_and_catches_up(
    new_app: Any, fresh_demo: DemoServer
) -> None:
    app: App = new_app(fresh_demo.url)
    app.login()
    log = app.open("Kenji Watanabe")
    page = app.page

    fresh_demo.restart(down_for=1.5)
    # Whether the tab noticed before the server was back depends on timing; what matters
    # is that a message written while it was away shows up, and the banner goes away.
    sam = Api(fresh_demo.url, email=AGENT)
    try:
        conv = sam.conversation_of("Kenji Watanabe")
        sam.post(
            f"/conversations/{conv['id']}/messages",
            {"channel": "sms", "body": "Written while you were away"},
        )
    finally:
        sam.close()
    expect(log.get_by_text("Written while you were away")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Reconnecting…")).to_have_count(0, timeout=20_000)
    expect(app.conversation("Kenji Watanabe")).to_contain_text("Written while you were away")


def test_the_reconnecting_state_is_visible_while_the_server_is_down(
    new_app: Any, fresh_demo: DemoServer
) -> None:
    app: App = new_app(fresh_demo.url)
    app.login()
    page = app.page
    fresh_demo.stop()
    expect(page.get_by_role("status").filter(has_text=re.compile("Reconnecting"))).to_be_visible(
        timeout=15_000
    )
    fresh_demo.restart()
    expect(page.get_by_text("Reconnecting…")).to_have_count(0, timeout=20_000)
