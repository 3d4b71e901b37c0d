"""Phone-width layout, settings pages, and a long thread that pages on scroll."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import App
from tests.web.server import AGENT, Api, DemoServer

pytestmark = pytest.mark.browser


def test_phone_width_stacks_panel_and_dialog(new_app: Any, demo: DemoServer) -> None:
    app: App = new_app(demo.url, viewport={"width": 390, "height": 844}, is_mobile=True)
    app.login()
    page = app.page
    panel = page.get_by_role("region", name="Contacts panel")
    expect(panel).to_be_visible()
    expect(page.get_by_role("region", name="Dialog window")).to_be_hidden()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    app.open("Amélie Dubois")
    expect(panel).to_be_hidden()
    expect(page.get_by_role("log", name="Messages")).to_be_visible()
    expect(page.get_by_role("form", name="Reply")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Back to conversations").click()
    expect(panel).to_be_visible()


def test_phone_width_assigns_and_closes_a_thread(new_app: Any, demo: DemoServer, api: Api) -> None:
    """On a phone the contact bar keeps the assignee and Close within reach (they were
    hidden to save room, so a thread could not be handed over or closed)."""
    # A number of its own on each try: a rerun after a failure must not meet the first.
    number = f"+1415556{random.randrange(10_000):04d}"
    contact = api.post("/contacts", {"name": "Pocket Phone", "phones": [{"number": number}]})
    assert isinstance(contact, dict)
    conv = api.post(f"/contacts/{contact['id']}/conversation")
    assert isinstance(conv, dict)
    api.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": "On the go"})
    sam = Api(demo.url, email=AGENT)
    sam_name = sam.me["name"]
    sam.close()

    app: App = new_app(demo.url, viewport={"width": 390, "height": 844}, is_mobile=True)
    app.login()
    app.open("Pocket Phone")
    page = app.page
    assignee = page.get_by_role("combobox", name="Assignee")
    expect(assignee).to_be_visible()
    assignee.select_option(label=sam_name)
    page.get_by_role("button", name="Close conversation").click()
    expect(page.get_by_role("button", name="Reopen conversation")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    after = api.get(f"/conversations/{conv['id']}")
    assert isinstance(after, dict)
    assert (after["status"], after["assignee_id"]) == ("closed", sam.me["id"])


def test_settings_add_a_sms_number_that_the_composer_can_then_use(
    new_app: Any, fresh_demo: DemoServer
) -> None:
    app: App = new_app(fresh_demo.url)
    app.login()
    page = app.page
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role(
        "link", name="Phone numbers"
    ).click()
    form = page.get_by_role("form", name="Add a phone number")
    form.get_by_label("Number").fill("+1 415 555 0199")
    form.get_by_label("Label").fill("Store")
    form.get_by_role("button", name="Add number").click()
    expect(page.get_by_role("cell", name="+1 (415) 555-0199")).to_be_visible()

    twilio = page.get_by_role("group", name="Twilio connection")
    twilio.get_by_role("button", name="Connect Twilio").click()
    creds = twilio.get_by_role("form", name="Twilio credentials")
    creds.get_by_label("Account SID").fill("not-a-sid")
    creds.get_by_label("Auth token").fill("secret-token")
    creds.get_by_label("Check the credentials with Twilio before saving").uncheck()
    creds.get_by_role("button", name="Save Twilio credentials").click()
    expect(creds.get_by_label("Account SID")).to_have_attribute("aria-invalid", "true")
    creds.get_by_label("Account SID").fill("AC" + "ab" * 16)
    creds.get_by_role("button", name="Save Twilio credentials").click()
    expect(twilio.get_by_text("Connected", exact=True)).to_be_visible()
    expect(twilio).to_contain_text("/webhooks/twilio/sms")

    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Web chat").click()
    widget = page.get_by_role("region", name="Widget northwind.example")
    expect(widget.get_by_label("Embed snippet", exact=False)).to_have_value(re.compile("widget.js"))
    widget.get_by_role("switch", name="Enable widget northwind.example").uncheck()
    expect(widget.get_by_text("Disabled")).to_be_visible()

    page.get_by_role("link", name="Inbox", exact=True).click()
    app.open("José Álvarez")
    composer = page.get_by_role("form", name="Reply")
    sender = composer.get_by_label("Send from company number")
    expect(sender.locator("option", has_text="Store")).to_have_count(1)
    expect(composer.get_by_role("radio", name="Web Chat")).to_be_disabled()


def test_a_long_thread_loads_older_pages_on_scroll_and_keeps_the_place(
    app: App, api: Api, demo: DemoServer
) -> None:
    contact = api.post("/contacts", {"name": "Long Thread", "phones": [{"number": "+14155556700"}]})
    assert isinstance(contact, dict)
    conv = api.post(f"/contacts/{contact['id']}/conversation")
    assert isinstance(conv, dict)
    for i in range(1, 71):
        api.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": f"Note {i}"})

    app.login()
    log = app.open("Long Thread")
    page = app.page
    expect(log.get_by_text("Note 70", exact=True)).to_be_visible()
    expect(log.get_by_text("Note 1", exact=True)).to_have_count(0)
    # Scroll to the top of the first page: the page before it loads, and "Note 21" (the
    # oldest message of the first page) stays where the reader was looking.
    anchor = log.get_by_text("Note 21", exact=True)
    log.evaluate("el => el.closest('.messages-scroll').scrollTop = 0")
    expect(log.get_by_text("Note 1", exact=True)).to_be_attached()
    expect(anchor).to_be_in_viewport()
    expect(log.get_by_text("Note 2", exact=True)).not_to_be_in_viewport()
    expect(log.get_by_role("listitem").filter(has_text=re.compile(r"Note \d+"))).to_have_count(70)
    log.evaluate("el => el.closest('.messages-scroll').scrollTop = 0")
    expect(page.get_by_text("This is the start of the conversation.")).to_be_visible()

    # A message arriving while the reader is up there does not yank the view down.
    sam = Api(demo.url, email=AGENT)
    try:
        sam.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": "Note 71"})
    finally:
        sam.close()
    jump = page.get_by_role("button", name="1 new message ↓")
    expect(jump).to_be_visible()
    expect(page.get_by_text("This is the start of the conversation.")).to_be_in_viewport()
    jump.click()
    expect(log.get_by_text("Note 71", exact=True)).to_be_in_viewport()
    expect(jump).to_be_hidden()
