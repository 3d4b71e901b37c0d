"""Live updates: what other agents do appears without a reload; the app catches up after
the connection drops, and says so while it is down."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import App, top_row
from tests.web.server import AGENT, Api, DemoServer, inbound_sms

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

    # Its own text each time: a retry must not find the message of an earlier attempt.
    body = f"Sam here: your grinder is fixed ({time.time_ns()})."
    sam = Api(demo.url, email=AGENT)
    try:
        conv = sam.conversation_of("Mateo Rossi")
        sam.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": body})
    finally:
        sam.close()

    sent = log.get_by_role("listitem").filter(has_text=body)
    expect(sent).to_be_visible()
    expect(sent).to_have_accessible_name(re.compile("Sent by Sam Carter"))
    # His avatar heads his run of messages (a retry's message joins the earlier attempt's).
    by_sam = log.get_by_role("listitem", name=re.compile("Sent by Sam Carter"))
    expect(by_sam.filter(has=page.get_by_role("img", name="Sam Carter")).last).to_be_visible()
    expect(sent.get_by_label("Status: Delivered")).to_be_visible()
    # The thread moved to the top of the panel. The panel may be scrolled down: opening
    # Mateo's row scrolled it into view when it sat low in the list, before the search was
    # answered. Look at the top, as the agent would.
    page.locator(".panel-scroll").evaluate("el => el.scrollTo(0, 0)")
    expect(top_row(page)).to_contain_text("Mateo Rossi")
    # Sam wrote it, not the admin watching: the preview names him (not "You:").
    expect(top_row(page)).to_contain_text("Sam: Sam here")


def test_a_message_that_arrives_while_the_thread_loads_is_shown(app: App, demo: DemoServer) -> None:
    # On a slow network the agent opens a thread; another agent's message reaches the socket
    # before the thread's messages arrive, in a page read before it was sent. Loading that
    # page used to replace the thread, dropping the message until the next reload.
    app.login()
    page = app.page
    link = app.find("Noah Williams")
    sam = Api(demo.url, email=AGENT)
    try:
        conv = sam.conversation_of("Noah Williams")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        body = f"Sam here, while it loads ({time.time_ns()})"
        with page.expect_request(lambda r: f"/conversations/{conv['id']}/messages" in r.url):
            link.click()
        sam.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": body})
    finally:
        sam.close()
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_text("Perfect, thank you!").first).to_be_visible()  # the page is in
    expect(log.get_by_role("listitem").filter(has_text=body)).to_be_visible()


def test_contact_edits_and_status_changes_by_others_appear_live(
    new_app: Any, fresh_demo: DemoServer
) -> None:
    # Its own server: the test renames and closes a thread, so a retry after a failure half
    # way must not find the shared demo already changed.
    demo = fresh_demo
    app: App = new_app(demo.url)
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


def test_an_inbound_text_appears_live_counts_as_unread_and_shows_in_the_tab_title(
    app: App, api: Api, demo: DemoServer
) -> None:
    """An SMS arriving by the provider's webhook: the panel re-orders, the unread badge and
    the tab title count it, and the open thread shows it on the left with both numbers."""
    api.connect_twilio()
    app.login()
    page = app.page
    title = page.title()
    before = int(title[1 : title.index(")")]) if title.startswith("(") else 0
    conv = api.conversation_of("Ethan Brown")
    contact = api.get(f"/contacts/{conv['contact']['id']}")  # type: ignore[index]
    assert isinstance(contact, dict)
    phone = contact["phones"][0]["e164"]

    inbound_sms(demo.url, from_=phone, to="+14155550100", body="Is the café open on Sunday?")
    expect(top_row(page)).to_contain_text("Ethan Brown")
    expect(top_row(page)).to_contain_text("Is the café open on Sunday?")
    expect(top_row(page).get_by_label(re.compile(r"\d+ unread"))).to_be_visible()
    expect(page).to_have_title(f"({before + 1}) Parlour")

    log = app.open("Ethan Brown")
    expect(page).to_have_title(re.compile(r"^(\(\d+\) )?Parlour$"))
    inbound_sms(demo.url, from_=phone, to="+14155550100", body="And on Monday?")
    text = log.get_by_role("listitem").filter(has_text="And on Monday?")
    expect(text).to_be_visible()
    expect(text.get_by_role("img", name="SMS")).to_be_visible()
    expect(text).to_contain_text(f"From {_pretty(phone)} to +1 (415) 555-0100")
    assert _center_x(log.get_by_text("And on Monday?")) < _center_x(log)


def _pretty(e164: str) -> str:
    return f"+1 ({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def _center_x(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["x"] + box["width"] / 2)


FAKE_NOTIFICATIONS = """
Object.defineProperty(document, "hidden", {
  configurable: true,
  get: () => window.__hidden === true,
});
window.__notes = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
  close() {}
};
"""


def test_opt_in_desktop_notification_for_an_inbound_text_while_the_tab_is_hidden(
    app: App, api: Api, demo: DemoServer
) -> None:
    api.connect_twilio()
    app.page.add_init_script(FAKE_NOTIFICATIONS)
    app.login()
    page = app.page
    bell = page.get_by_role("button", name="Desktop notifications")
    expect(bell).to_have_attribute("aria-pressed", "false")
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    conv = api.conversation_of("Ravi Shankar")
    contact = api.get(f"/contacts/{conv['contact']['id']}")  # type: ignore[index]
    assert isinstance(contact, dict)
    phone = contact["phones"][0]["e164"]

    inbound_sms(demo.url, from_=phone, to="+14155550100", body="Visible tab: no popup")
    expect(app.conversation("Ravi Shankar").first).to_contain_text("Visible tab: no popup")
    page.evaluate("window.__hidden = true")
    inbound_sms(demo.url, from_=phone, to="+14155550100", body="Hidden tab: popup please")
    page.wait_for_function("window.__notes.length > 0")
    notes = page.evaluate("window.__notes")
    assert notes == [{"title": "Ravi Shankar", "body": "Hidden tab: popup please"}]


def test_the_live_panel_equals_a_fresh_fetch_after_a_burst_of_changes(
    new_app: Any, fresh_demo: DemoServer
) -> None:
    """STYLE.md §10: the state built from events matches what a reload would show."""
    app: App = new_app(fresh_demo.url)
    app.login()
    page = app.page
    rows = page.get_by_role("list", name="Conversations").get_by_role("link")
    expect(rows.first).to_be_visible()
    sam = Api(fresh_demo.url, email=AGENT)
    try:
        convs = {n: sam.conversation_of(n) for n in ("Léa Moreau", "Felix Bauer", "Grace Kim")}
        for name, conv in convs.items():
            sam.post(
                f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": f"Hi {name}"}
            )
        sam.patch(f"/conversations/{convs['Felix Bauer']['id']}", {"status": "closed"})
        sam.patch(f"/contacts/{convs['Grace Kim']['contact']['id']}", {"name": "Grace Kim-Park"})
        sam.post(
            f"/conversations/{convs['Léa Moreau']['id']}/messages",
            {"channel": "sms", "body": "Last"},
        )
    finally:
        sam.close()
    expect(top_row(page)).to_contain_text("Sam: Last")
    expect(rows.nth(1)).to_contain_text("Grace Kim-Park")

    def shown() -> list[str]:
        return [rows.nth(i).inner_text().replace("\n", " | ") for i in range(8)]

    live = shown()
    page.reload()
    expect(rows.first).to_be_visible()
    assert shown() == live
