"""Workflows and webhooks in the agent app: the demo's keyword rule answering a text live
(on the right, the robot avatar and the workflow's name), one built in Settings and set off
by a website visitor, and an endpoint added in Settings receiving signed deliveries."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from tests.web.server import Api, DemoServer, inbound_sms


@pytest.fixture
def demo_with_workflows(tmp_path: Path, web_app_built: None) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path).start()  # as shipped: its three workflows on
    try:
        yield server
    finally:
        server.stop()


def test_a_texted_keyword_is_answered_by_the_bot_live(
    new_app: Any, demo_with_workflows: DemoServer
) -> None:
    demo = demo_with_workflows
    api = Api(demo.url)
    try:
        api.connect_twilio()
        names = [w["name"] for w in api.get("/workflows")]  # type: ignore[union-attr]
        assert names == ["Away message", "Opening hours", "Nobody answered"]
        conv = api.conversation_of("Ethan Brown")
        contact = api.get(f"/contacts/{conv['contact']['id']}")  # type: ignore[index]
        assert isinstance(contact, dict)
        phone = contact["phones"][0]["e164"]
    finally:
        api.close()
    app = new_app(demo.url).login()
    log = app.open("Ethan Brown")
    inbound_sms(demo.url, from_=phone, to="+14155550100", body="what are your hours?")
    reply = log.get_by_role("listitem").filter(has_text="Northwind Coffee, 12 Harbour Lane")
    expect(reply).to_be_visible()
    expect(reply).to_have_accessible_name("Sent by Opening hours (automation) by SMS")
    expect(reply).to_contain_text("Opening hours")
    expect(reply.get_by_text("Workflow", exact=True)).to_be_visible()
    expect(reply.get_by_role("img", name="SMS")).to_be_visible()
    bubble = log.get_by_text("Northwind Coffee, 12 Harbour Lane", exact=False)
    assert _center_x(bubble) > _center_x(log) > _center_x(log.get_by_text("what are your hours?"))


def _center_x(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["x"] + box["width"] / 2)


def test_a_workflow_built_in_settings_answers_the_website_visitor(
    browser: Any, new_app: Any, demo_with_workflows: DemoServer
) -> None:
    """An admin builds a workflow with the form (no code), tests it against a contact
    (nothing sent), and a visitor's message on the demo website sets it off: the bot's
    reply reaches the widget, and the thread links the message to its run."""
    demo = demo_with_workflows
    demo.workflows(enabled=False)  # the demo's away message would answer too, after hours
    app = new_app(demo.url).login()
    page = app.page
    page.goto(demo.url + "/settings/workflows")
    page.get_by_role("button", name="New workflow").click()
    form = page.get_by_role("form", name="New workflow")
    form.get_by_label("Name (shown on its messages)").fill("Beans")
    when = form.get_by_role("group", name="When")
    when.get_by_label("Trigger", exact=True).select_option(label="A contact's message arrives")
    when.get_by_label("On channel", exact=True).select_option(label="Web chat")
    when.get_by_label("Containing any of these words (comma-separated)").fill("beans, coffee")
    step = form.get_by_role("group", name="Step 1")
    step.get_by_role("textbox", name="Message", exact=True).fill(
        "We roast on Tuesdays, {{contact.first_name}}."
    )
    form.get_by_role("button", name="Add a step").click()
    second = form.get_by_role("group", name="Step 2")
    second.get_by_label("Do", exact=True).select_option(label="Add a tag")
    second.get_by_label("Tag", exact=True).fill("beans")
    form.get_by_role("button", name="Save workflow").click()
    card = page.get_by_role("region", name="Workflow Beans")
    expect(card).to_contain_text("When a contact's message arrives on Web chat containing")
    expect(card).to_contain_text("Add the tag “beans”")

    # A test run against a contact: what it would do, and nothing sent.
    card.get_by_role("button", name="Test run").click()
    test = card.get_by_role("form", name="Test run of Beans")
    test.get_by_label("Contact", exact=True).fill("Ethan Brown")
    test.get_by_role("option").get_by_role("button", name="Ethan Brown").click()
    test.get_by_role("button", name="Run the test").click()
    result = test.get_by_role("region", name="Test run result")
    expect(result).to_contain_text("It would run:")
    expect(result).to_contain_text("Send “We roast on Tuesdays, Ethan.”")

    visitor = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    visitor.goto(demo.website() + "/")
    visitor.get_by_role("button", name="Chat with northwind.example").click()
    box = visitor.get_by_role("dialog").get_by_role("textbox", name="Message")
    box.fill("Do you sell beans by the kilo?")
    box.press("Enter")
    widget_log = visitor.get_by_role("dialog").get_by_role("log", name="Messages")
    expect(widget_log).to_contain_text("We roast on Tuesdays, Visitor.")
    visitor.context.close()

    card.get_by_role("button", name="Recent runs").click()
    runs = card.get_by_role("region", name="Recent runs of Beans")
    expect(runs.get_by_role("listitem").first).to_contain_text("Done")
    expect(runs).to_contain_text("Tagged beans")

    runs.get_by_role("link", name="Open the conversation").first.click()
    log = page.get_by_role("log", name="Messages")
    reply = log.get_by_role("listitem").filter(has_text="We roast on Tuesdays")
    expect(reply).to_have_accessible_name("Sent by Beans (automation) by Web Chat")
    reply.get_by_role("link", name="See the run").click()
    expect(page).to_have_url(re.compile(r"/settings/workflows/\d+/runs/\d+$"))
    shown = page.get_by_role("region", name="Recent runs of Beans")
    expect(shown.locator(".workflow-run.is-highlighted")).to_contain_text("Sent message")

    # Turned off: the switch says so, and the list keeps it.
    page.get_by_role("switch", name="Turn on Beans").uncheck()
    expect(page.get_by_role("region", name="Workflow Beans")).to_contain_text("Off")


def test_webhooks_in_settings_send_signed_and_show_every_attempt(
    new_app: Any, tmp_path: Path, web_app_built: None
) -> None:
    """An admin adds an endpoint (a real local receiver; private addresses allowed by the
    admin setting), copies the secret shown once, sends a test, and sees the delivery and
    its attempt; the receiver verifies the signature with the standardwebhooks library."""
    received: list[tuple[bytes, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            received.append((body, {k.lower(): v for k, v in self.headers.items()}))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    demo = DemoServer(tmp_path, env={"PARLOUR_WEBHOOKS_ALLOW_PRIVATE": "true"}).start()
    try:
        demo.workflows(enabled=False)
        app = new_app(demo.url).login()
        page = app.page
        page.goto(demo.url + "/settings/webhooks")
        form = page.get_by_role("form", name="Add an endpoint")
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
        form.get_by_label("URL").fill(url)
        form.get_by_label("Description").fill("Our CRM")
        form.get_by_role("checkbox", name=re.compile("A contact is created")).check()
        form.get_by_role("button", name="Add endpoint").click()
        card = page.get_by_role("region", name="Endpoint Our CRM")
        expect(card).to_contain_text(url)
        expect(card).to_contain_text("contact.created")
        secret = card.locator(".copyable-value").inner_text()
        assert secret.startswith("whsec_")

        card.get_by_role("button", name="Send a test").click()
        deliveries = card.get_by_role("region", name="Deliveries to Our CRM")
        expect(deliveries).to_be_visible()
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert received, "nothing reached the receiver"
        body, headers = received[0]
        assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"
        deliveries.get_by_role("button", name="Refresh").click()
        test = deliveries.get_by_role("listitem", name=re.compile("webhook.test, Delivered"))
        expect(test).to_contain_text("HTTP 204")
        test.get_by_role("button", name="Send again").click()
        deadline = time.monotonic() + 10
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert received[1][1]["webhook-id"] == headers["webhook-id"]  # the same message
    finally:
        demo.stop()
        receiver.shutdown()
        receiver.server_close()
