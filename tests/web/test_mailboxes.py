"""Settings → Mailboxes: a mailbox with its relay, edited field by field, and the test
email answered by a real SMTP server on loopback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.fakes.smtp import FakeSmtp
from tests.web.conftest import App
from tests.web.server import Api, DemoServer

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    server = FakeSmtp().start()
    try:
        yield server
    finally:
        server.stop()


def test_a_mailbox_gets_a_relay_sends_a_test_email_and_saves_only_what_changed(
    new_app: Any, fresh_demo: DemoServer, smtp: FakeSmtp
) -> None:
    app: App = new_app(fresh_demo.url)
    app.login()
    page = app.page
    page.goto(f"{fresh_demo.url}/settings/mailboxes")
    page.get_by_role("button", name="Add mailbox").click()
    form = page.get_by_role("form", name="Add a mailbox")
    form.get_by_label("Address").fill("help@northwind.example")
    form.get_by_label("Sender name").fill("Northwind Help")
    form.get_by_label("SMTP server").fill("not a host!")
    form.get_by_label("SMTP security").select_option("none")
    port = form.get_by_label("SMTP port")
    expect(port).to_have_attribute("placeholder", "25")
    port.fill("99999")
    form.get_by_role("button", name="Add mailbox").click()
    expect(form).to_contain_text("A port is a number from 1 to 65535.")

    # The server's own refusal shows at the field it names.
    port.fill(str(smtp.port))
    form.get_by_role("button", name="Add mailbox").click()
    host_error = form.get_by_label("SMTP server").locator("xpath=..").locator(".field-error")
    expect(host_error).to_be_visible()
    form.get_by_label("SMTP server").fill("127.0.0.1")
    form.get_by_label("SMTP password").fill("relay-secret")
    form.get_by_role("button", name="Add mailbox").click()

    card = page.get_by_role("group", name="Mailbox help@northwind.example")
    expect(card).to_contain_text("SMTP relay")
    expect(card).to_contain_text(f"127.0.0.1:{smtp.port} · None")

    # Editing shows the password as set, never its value, and sends only what changed.
    card.get_by_role("button", name="Edit").click()
    edit = card.get_by_role("form", name="Edit help@northwind.example")
    expect(edit.get_by_label("SMTP password: set")).to_be_visible()
    expect(edit).to_contain_text(
        re.compile(r"Webhook URL\s*" + re.escape(fresh_demo.url) + "/webhooks/email/")
    )
    edit.get_by_label("Signature").fill("The Northwind team")
    with page.expect_request(lambda r: r.method == "PATCH" and "/mailboxes/" in r.url) as req:
        edit.get_by_role("button", name="Save changes").click()
    assert json.loads(req.value.post_data or "{}") == {"signature": "The Northwind team"}
    expect(edit).to_be_hidden()

    api = Api(fresh_demo.url)
    try:
        box = next(m for m in api.get("/mailboxes") if m["address"] == "help@northwind.example")  # type: ignore[attr-defined]
    finally:
        api.close()
    assert (box["signature"], box["smtp_password_set"]) == ("The Northwind team", True)

    # The test email: the relay's own answer, then its refusal.
    card.get_by_role("button", name="Send test email").click()
    test = card.get_by_role("form", name="Send a test email from help@northwind.example")
    test.get_by_label("Send a test email to").fill("me@example.com")
    test.get_by_role("button", name="Send", exact=True).click()
    expect(test.get_by_role("status")).to_contain_text(
        re.compile(r"The relay answered: 250 2\.0\.0 Ok")
    )
    assert [r.rcpt_tos for r in smtp.received] == [["me@example.com"]]

    smtp.answer_rcpt = "550 5.1.1 No such user here"
    test.get_by_role("button", name="Send", exact=True).click()
    expect(test.get_by_role("status")).to_contain_text("No such user here")
