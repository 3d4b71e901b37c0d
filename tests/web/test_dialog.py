"""MISSION.md "The dialog window": sides, channel icons, avatars, the composer, the
communication options and the top contact bar; and the three channels."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from tests.web.conftest import App, top_row
from tests.web.server import Api, DemoServer, free_port

pytestmark = pytest.mark.browser


def _center_x(locator: object) -> float:
    box = locator.bounding_box()  # type: ignore[attr-defined]
    assert box is not None
    return float(box["x"] + box["width"] / 2)


def test_prospect_left_employee_and_workflow_right_with_icons_and_avatars(app: App) -> None:
    """Points 6, 7 and 8, on a thread that used all three channels."""
    app.login()
    log = app.open("Amélie Dubois")
    middle = _center_x(log)

    inbound = log.get_by_role("listitem").filter(has_text="Hi, is anyone there?")
    bot = log.get_by_role("listitem").filter(has_text="We usually answer within minutes")
    employee = log.get_by_role("listitem").filter(has_text="shall I call you?")
    email = log.get_by_role("listitem").filter(has_text="Please email me instead")

    assert _center_x(log.get_by_text("Hi, is anyone there?")) < middle
    assert _center_x(log.get_by_text("Please email me instead. Thanks!")) < middle
    assert _center_x(log.get_by_text("Thanks! We usually answer within minutes.")) > middle
    assert _center_x(log.get_by_text("Hi! Following up on your chat: shall I call you?")) > middle

    # Every message shows its channel icon.
    expect(inbound.get_by_role("img", name="Web Chat")).to_be_visible()
    expect(bot.get_by_role("img", name="Web Chat")).to_be_visible()
    expect(employee.get_by_role("img", name="SMS")).to_be_visible()
    expect(email.get_by_role("img", name="Email")).to_be_visible()

    # The employee's avatar on theirs; a robot avatar, named after the workflow, on the bot's.
    expect(employee.get_by_role("img", name="Ada Lovelace")).to_be_visible()
    robot = bot.get_by_role("img", name="Automation: Chat auto-reply")
    expect(robot).to_be_visible()
    expect(robot).to_have_attribute("title", re.compile("Chat auto-reply"))

    # SMS shows both numbers; email both addresses.
    expect(employee).to_contain_text("From +1 (415) 555-0100 to +1 (415) 555-1021")
    expect(email).to_contain_text("From amelie3@example.com to hello@northwind.example")


def test_a_failed_sms_shows_the_reason_and_retry_delivers_it(app: App) -> None:
    app.login()
    log = app.open("Chiara Bianchi")
    failed = log.get_by_role("listitem").filter(has_text="shall I call you?")
    expect(failed.get_by_label("Status: Failed")).to_be_visible()
    expect(failed.get_by_role("alert")).to_contain_text("could not be reached")
    failed.get_by_role("button", name="Retry sending").click()
    # The console provider delivers it; the status arrives over the live connection.
    expect(failed.get_by_label("Status: Delivered")).to_be_visible()
    expect(failed.get_by_role("alert")).to_have_count(0)


def test_retrying_a_send_that_failed_on_the_way_posts_it_again_under_the_same_key(
    app: App, api: Api
) -> None:
    """The first post never gets an answer (the network drops it); Retry sends the same
    message with the same Idempotency-Key, so a send the server did store is not repeated."""
    contact = api.post("/contacts", {"name": "Nadia Retry", "phones": [{"number": "+14155556611"}]})
    assert isinstance(contact, dict)
    conv = api.post(f"/contacts/{contact['id']}/conversation")
    assert isinstance(conv, dict)
    api.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": "First note"})
    keys: list[str | None] = []

    def first_post_fails(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    app.login()
    log = app.open("Nadia Retry")
    page = app.page
    page.route(re.compile(r"/api/v1/conversations/\d+/messages$"), first_post_fails)
    box = page.get_by_role("form", name="Reply").get_by_role("textbox", name="Message")
    box.fill("Sent exactly once")
    box.press("Enter")
    sent = log.get_by_role("listitem").filter(has_text="Sent exactly once")
    expect(sent.get_by_role("alert")).to_contain_text("Cannot reach the server")
    sent.get_by_role("button", name="Retry sending").click()
    expect(sent.get_by_label("Status: Delivered")).to_be_visible()
    expect(sent).to_have_count(1)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    thread = api.get(f"/conversations/{conv['id']}/messages")
    assert isinstance(thread, dict)
    bodies = [m["body"] for m in thread["items"]]
    assert bodies == ["First note", "Sent exactly once"]


def test_sms_composer_picks_the_company_number_counts_segments_and_sends_on_enter(
    app: App,
) -> None:
    """Points 9 and 12."""
    app.login()
    log = app.open("Kenji Watanabe")
    page = app.page
    composer = page.get_by_role("form", name="Reply")
    expect(composer.get_by_role("radio", name="SMS")).to_be_checked()
    sender = composer.get_by_label("Send from company number")
    expect(sender.locator("option", has_text="Main line")).to_have_count(1)
    calls_only = sender.locator("option", has_text="Billboard ad")
    expect(calls_only).to_be_disabled()
    expect(calls_only).to_contain_text("SMS is not enabled")

    box = composer.get_by_role("textbox", name="Message")
    box.fill("x" * 161)
    expect(composer.get_by_text(re.compile("2 segments"))).to_be_visible()
    box.fill("Your beans are ready for pickup ☕")
    expect(composer.get_by_text(re.compile("1 segment · Unicode"))).to_be_visible()
    box.press("Enter")
    expect(box).to_have_value("")

    sent = log.get_by_role("listitem").filter(has_text="Your beans are ready for pickup")
    expect(sent).to_contain_text("From +1 (415) 555-0100 to +1 (415) 555-1028")
    expect(sent.get_by_role("img", name="SMS")).to_be_visible()
    expect(sent.get_by_role("img", name="Ada Lovelace")).to_be_visible()
    expect(sent.get_by_label("Status: Delivered")).to_be_visible()
    assert _center_x(log.get_by_text("Your beans are ready for pickup ☕")) > _center_x(log)
    # The panel shows it as the newest activity.
    page.get_by_label("Search contacts in this view").fill("")
    expect(top_row(page)).to_contain_text("Kenji Watanabe")
    expect(top_row(page)).to_contain_text("You: Your beans are ready")


def test_sending_leaves_the_focus_where_the_agent_moved_it(app: App) -> None:
    # With a slow network, the agent sends and goes on to search the panel before the send
    # is answered. The answer used to pull the focus back into the composer, so the next
    # keys went into a new message.
    app.login()
    app.open("Kenji Watanabe")
    page = app.page
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 600, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    box = page.get_by_role("form", name="Reply").get_by_role("textbox", name="Message")
    box.fill("Sent on a slow network")
    search = page.get_by_label("Search contacts in this view")
    with page.expect_response(lambda r: r.request.method == "POST" and "/messages" in r.url):
        box.press("Enter")
        search.click()
        expect(search).to_be_focused()
    page.wait_for_timeout(300)  # the answer's handling runs just after it arrives
    expect(search).to_be_focused()
    page.keyboard.type("Ken")
    expect(search).to_have_value("Kenji WatanabeKen")
    expect(box).to_have_value("")


def test_unusable_channels_are_disabled_with_the_reason(app: App) -> None:
    app.login()
    app.open("Liam O'Connor")  # opted out of SMS; never used the web chat
    composer = app.page.get_by_role("form", name="Reply")
    expect(composer.get_by_role("radio", name="SMS")).to_be_disabled()
    expect(composer.get_by_role("radio", name="Web Chat")).to_be_disabled()
    expect(composer.get_by_role("radio", name="Email")).to_be_enabled()
    expect(composer.get_by_text(re.compile(r"SMS unavailable: .*opted out", re.I))).to_be_visible()
    expect(composer.get_by_text(re.compile("Web Chat unavailable"))).to_be_visible()


def test_web_chat_reply_shows_its_own_icon(app: App) -> None:
    """Point 13."""
    app.login()
    log = app.open("José Álvarez")
    composer = app.page.get_by_role("form", name="Reply")
    composer.get_by_role("radio", name="Web Chat").check()
    composer.get_by_role("textbox", name="Message").fill("We open at 8 tomorrow!")
    composer.get_by_label("Files to attach").set_input_files(
        files=[{"name": "opening-hours.txt", "mimeType": "text/plain", "buffer": b"Mon-Sat 8-18"}]
    )
    expect(composer.get_by_role("list", name="Attachments")).to_contain_text("opening-hours.txt")
    composer.get_by_role("button", name="Send").click()
    sent = log.get_by_role("listitem").filter(has_text="We open at 8 tomorrow!")
    expect(sent.get_by_role("img", name="Web Chat")).to_be_visible()
    expect(sent).to_contain_text("To the web chat visitor")
    expect(sent.get_by_role("link", name=re.compile("opening-hours.txt"))).to_be_visible()


def test_email_composer_pops_up_and_sends_subject_and_formatted_body(app: App, api: Api) -> None:
    """Point 14: choose the address, the composer pops up, the email lands in the thread."""
    app.login()
    log = app.open("Björn Lindqvist")
    page = app.page
    composer = page.get_by_role("form", name="Reply")
    # Björn last wrote by email, so the composer is already on Email.
    expect(composer.get_by_role("radio", name="Email")).to_be_checked()
    composer.get_by_role("button", name="Write an email to Björn Lindqvist").click()
    dialog = page.get_by_role("dialog", name="New email to Björn Lindqvist")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("To")).to_contain_text(re.compile(r"bj(ö|o)rn2@example.com"))
    dialog.get_by_label("Subject").fill("Your wholesale order")
    body = dialog.get_by_role("textbox", name="Email body")
    body.click()
    page.keyboard.type("Hello Björn, ")
    dialog.get_by_role("button", name="Bold").click()
    page.keyboard.type("it ships Monday")
    dialog.get_by_label("Attachments", exact=True).first.set_input_files(
        files=[
            {
                "name": "price-list.txt",
                "mimeType": "text/plain",
                "buffer": b"House blend: 18 EUR/kg\n",
            }
        ]
    )
    expect(dialog.get_by_role("list", name="Attachments")).to_contain_text("price-list.txt")
    expect(dialog.get_by_text("Uploading…")).to_have_count(0)
    dialog.get_by_role("button", name="Send email").click()
    expect(dialog).to_be_hidden()

    sent = log.get_by_role("listitem").filter(has_text="Your wholesale order")
    expect(sent.get_by_role("img", name="Email")).to_be_visible()
    expect(sent).to_contain_text(re.compile(r"to bj(ö|o)rn2@example.com"))
    attachment = sent.get_by_role("link", name=re.compile("price-list.txt"))
    expect(attachment).to_have_attribute("href", re.compile(r"/api/v1/attachments/\d+"))
    frame = sent.frame_locator("iframe")
    expect(frame.locator("b, strong").first).to_have_text("it ships Monday")
    # Collapsible.
    head = sent.get_by_role("button", name=re.compile("Your wholesale order"))
    head.click()
    expect(head).to_have_attribute("aria-expanded", "false")
    expect(sent.locator("iframe")).to_have_count(0)
    head.click()
    expect(sent.locator("iframe")).to_have_count(1)

    conv = api.conversation_of("Björn Lindqvist")
    messages = api.get(f"/conversations/{conv['id']}/messages")
    assert isinstance(messages, dict)
    last = messages["items"][-1]
    assert (last["channel"], last["subject"]) == ("email", "Your wholesale order")
    assert "it ships Monday" in last["body"]
    assert [a["filename"] for a in last["attachments"]] == ["price-list.txt"]

    # Sending created an Email Task owned by me, which the task system completed.
    page.get_by_role("link", name="Tasks").click()
    task = page.get_by_role("row").filter(has_text="Your wholesale order")
    expect(task).to_contain_text("Ada Lovelace")
    expect(task).to_contain_text("Completed")


@pytest.fixture
def tracker() -> Iterator[tuple[str, list[str]]]:
    """A local web server that records every request: a stand-in for a tracking pixel."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_email_html_runs_no_script_and_loads_no_remote_image(
    app: App, api: Api, tracker: tuple[str, list[str]]
) -> None:
    base, hits = tracker
    conv = api.conversation_of("Yuki Tanaka")
    html = (
        f'<p>Menu attached</p><img src="{base}/pixel.png" width="1" height="1">'
        '<img src="x" onerror="window.top.__pwned = 1">'
        "<script>window.top.__pwned = 2</script>"
        f'<div style="background:url({base}/bg.png)">styled</div>'
    )
    api.post(
        f"/conversations/{conv['id']}/messages",
        {"channel": "email", "subject": "Tracking test", "body": "Menu attached", "html": html},
    )
    app.login()
    log = app.open("Yuki Tanaka")
    email = log.get_by_role("listitem").filter(has_text="Tracking test")
    expect(email.frame_locator("iframe").get_by_text("Menu attached")).to_be_visible()
    sandbox = email.locator("iframe").get_attribute("sandbox") or ""
    assert "allow-scripts" not in sandbox
    app.page.wait_for_timeout(500)
    assert app.page.evaluate("window.__pwned") is None
    assert hits == []


def test_communication_options_slide_out_and_change_what_the_composer_may_use(
    app: App,
) -> None:
    """Point 10: the floating panel button; opt-out and preferences set there."""
    app.login()
    app.open("Noah Williams")
    page = app.page
    composer = page.get_by_role("form", name="Reply")
    expect(composer.get_by_role("radio", name="SMS")).to_be_enabled()

    page.get_by_role("button", name="Communication options", exact=True).click()
    panel = page.get_by_role("complementary", name="Communication options")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("+1 (415) 555-1056")
    expect(panel).to_contain_text("noah8@example.com")

    opt_out = panel.get_by_role("switch", name="SMS opt-out for +1 (415) 555-1056")
    opt_out.check()
    expect(panel).to_contain_text("We won't text this number")
    expect(composer.get_by_role("radio", name="SMS")).to_be_disabled()

    opt_out.uncheck()
    expect(composer.get_by_role("radio", name="SMS")).to_be_enabled()

    panel.get_by_role("radio", name="Email").check()
    expect(panel.get_by_role("radio", name="Email")).to_be_checked()
    panel.get_by_label("Label for noah8@example.com").fill("personal")
    panel.get_by_label("Label for noah8@example.com").press("Enter")
    page.get_by_role("button", name="Close communication options").click()
    expect(panel).to_be_hidden()
    page.reload()
    page.get_by_role("button", name="Communication options", exact=True).click()
    expect(panel.get_by_role("radio", name="Email")).to_be_checked()
    expect(panel.get_by_label("Label for noah8@example.com")).to_have_value("personal")


def test_top_contact_bar_chooses_which_phone_and_address_we_write_to(app: App, api: Api) -> None:
    """Point 11."""
    conv = api.conversation_of("Priya Raman")
    contact_id = conv["contact"]["id"]  # type: ignore[index]
    detail = api.get(f"/contacts/{contact_id}")
    assert isinstance(detail, dict)
    phones = [{"id": p["id"], "number": p["e164"], "label": p["label"]} for p in detail["phones"]]
    api.patch(
        f"/contacts/{contact_id}",
        {"phones": [*phones, {"number": "+14155557777", "label": "office"}]},
    )
    app.login()
    log = app.open("Priya Raman")
    page = app.page
    to = page.get_by_role("combobox", name="Text this number")
    expect(to).to_contain_text("mobile · +1 (415) 555-1035")
    to.select_option(label="office · +1 (415) 555-7777")
    page.get_by_role("form", name="Reply").get_by_role("textbox", name="Message").fill(
        "Calling your office line"
    )
    page.keyboard.press("Enter")
    sent = log.get_by_role("listitem").filter(has_text="Calling your office line")
    expect(sent).to_contain_text("to +1 (415) 555-7777")

    page.get_by_role("form", name="Reply").get_by_role("radio", name="Email").check()
    page.get_by_role("dialog", name=re.compile("New email")).get_by_role(
        "button", name="Discard"
    ).click()
    expect(page.get_by_role("combobox", name="Email this address")).to_contain_text(
        "priya5@example.com"
    )


def test_an_unsent_email_is_kept_as_a_draft_for_the_thread(app: App) -> None:
    app.login()
    app.open("Lucas Martin")
    page = app.page
    composer = page.get_by_role("form", name="Reply")
    composer.get_by_role("button", name="Write an email to Lucas Martin").click()
    dialog = page.get_by_role("dialog", name="New email to Lucas Martin")
    dialog.get_by_label("Subject").fill("Bike delivery")
    dialog.get_by_role("textbox", name="Email body").fill("Your bike is ready.")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    resume = composer.get_by_role("button", name="Continue your email to Lucas Martin")
    resume.click()
    expect(dialog.get_by_label("Subject")).to_have_value("Bike delivery")
    expect(dialog.get_by_role("textbox", name="Email body")).to_have_text("Your bike is ready.")
    dialog.get_by_role("button", name="Discard").click()
    expect(composer.get_by_role("button", name="Write an email to Lucas Martin")).to_be_visible()


def _store_email_parts(
    demo: DemoServer, api: Api, conversation_id: int, message_id: int, parts: dict[str, object]
) -> None:
    """Gives a stored email the parts inbound mail would have (quoted history, Cc),
    written into its row once the outbox is done with it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        page = api.get(f"/conversations/{conversation_id}/messages")
        assert isinstance(page, dict)
        status = next(m["status"] for m in page["items"] if m["id"] == message_id)
        if status not in ("queued", "sending"):
            break
        time.sleep(0.2)
    with sqlite3.connect(demo.db, timeout=15) as db:
        db.execute(
            "UPDATE messages SET meta = json_set(coalesce(meta, '{}'), '$.email', json(?))"
            " WHERE id = ?",
            (json.dumps(parts), message_id),
        )


def test_an_email_shows_its_cc_and_its_quoted_history_behind_a_toggle(
    app: App, api: Api, demo: DemoServer
) -> None:
    conv = api.conversation_of("Yuki Tanaka")
    sent = api.post(
        f"/conversations/{conv['id']}/messages",
        {
            "channel": "email",
            "subject": "Quoted history",
            "body": "See you Tuesday",
            "html": "<p>See you Tuesday</p>",
        },
    )
    assert isinstance(sent, dict)
    _store_email_parts(
        demo,
        api,
        int(str(conv["id"])),
        sent["id"],
        {
            "cc": ["office@tanaka.example"],
            "quoted_text": "> Does Tuesday work?",
            "full_html": "<p>See you Tuesday</p><blockquote>Does Tuesday work?</blockquote>",
            "remote_images": True,
        },
    )
    app.login()
    log = app.open("Yuki Tanaka")
    email = log.locator(f'[data-message-id="{sent["id"]}"]')
    expect(email).to_contain_text("Cc")
    expect(email).to_contain_text("office@tanaka.example")
    frame = email.frame_locator("iframe")
    expect(frame.get_by_text("See you Tuesday")).to_be_visible()
    expect(frame.get_by_text("Does Tuesday work?")).to_have_count(0)

    toggle = email.get_by_role("button", name="Show quoted text")
    toggle.click()
    expect(frame.get_by_text("Does Tuesday work?")).to_be_visible()
    email.get_by_role("button", name="Hide quoted text").click()
    expect(frame.get_by_text("Does Tuesday work?")).to_have_count(0)

    # Remote images stay blocked by the frame's own policy until allowed.
    bar = email.get_by_role("note")
    expect(bar).to_contain_text("Images from other sites are hidden")
    srcdoc = email.locator("iframe").get_attribute("srcdoc") or ""
    assert f"img-src data: blob: {demo.url};" in srcdoc
    bar.get_by_role("button", name="Show images").click()
    expect(bar).to_have_count(0)
    srcdoc = email.locator("iframe").get_attribute("srcdoc") or ""
    assert f"img-src data: blob: {demo.url} https: http:;" in srcdoc


def test_email_composer_sends_cc_and_bcc_and_starts_with_the_signature(app: App, api: Api) -> None:
    mailbox = next(iter(api.get("/mailboxes")))  # type: ignore[call-overload]
    api.patch(f"/mailboxes/{mailbox['id']}", {"signature": "Ada Lovelace\nNorthwind Coffee"})
    try:
        app.login()
        log = app.open("Björn Lindqvist")
        page = app.page
        page.get_by_role("form", name="Reply").get_by_role(
            "button", name="Write an email to Björn Lindqvist"
        ).click()
        dialog = page.get_by_role("dialog", name="New email to Björn Lindqvist")
        expect(dialog.get_by_label("Subject")).to_have_value(re.compile(r"^Re: "))
        body = dialog.get_by_role("textbox", name="Email body")
        expect(body).to_contain_text("-- Ada Lovelace")
        expect(dialog.get_by_role("button", name="Send email")).to_be_disabled()

        subject = f"Copies for the team {time.monotonic_ns()}"
        dialog.get_by_label("Subject").fill(subject)
        dialog.get_by_role("button", name="Add Cc recipients").click()
        dialog.get_by_label("Cc", exact=True).fill("anna@lindqvist.example, not-an-address")
        dialog.get_by_role("button", name="Add Bcc recipients").click()
        dialog.get_by_label("Bcc", exact=True).fill("files@northwind.example")
        body.click()
        page.keyboard.press("Control+Home")
        page.keyboard.type("Hello Björn and Anna,")
        dialog.get_by_role("button", name="Send email").click()
        expect(dialog.get_by_text("“not-an-address” is not an email address.")).to_be_visible()

        dialog.get_by_label("Cc", exact=True).fill("anna@lindqvist.example")
        dialog.get_by_role("button", name="Send email").click()
        expect(dialog).to_be_hidden()
        sent = log.get_by_role("listitem").filter(has_text=subject)
        expect(sent).to_contain_text("anna@lindqvist.example")

        conv = api.conversation_of("Björn Lindqvist")
        messages = api.get(f"/conversations/{conv['id']}/messages")
        assert isinstance(messages, dict)
        last = messages["items"][-1]
        assert last["subject"] == subject
        assert (last["email"]["cc"], last["email"]["bcc"]) == (
            ["anna@lindqvist.example"],
            ["files@northwind.example"],
        )
        assert last["body"].startswith("Hello Björn and Anna,")
        assert "-- \nAda Lovelace\nNorthwind Coffee" in last["body"]
    finally:
        api.patch(f"/mailboxes/{mailbox['id']}", {"signature": ""})


def test_a_bounced_address_can_be_cleared_so_it_can_be_emailed_again(app: App, api: Api) -> None:
    conv = api.conversation_of("Mateo Rossi")
    contact_id = conv["contact"]["id"]  # type: ignore[index]
    contact = api.get(f"/contacts/{contact_id}")
    assert isinstance(contact, dict)
    email = contact["emails"][0]
    api.patch(f"/contacts/{contact_id}/emails/{email['id']}", {"bounced": True})

    app.login()
    app.open("Mateo Rossi")
    page = app.page
    composer = page.get_by_role("form", name="Reply")
    expect(composer.get_by_role("radio", name="Email")).to_be_disabled()
    page.get_by_role("button", name="Communication options", exact=True).click()
    panel = page.get_by_role("complementary", name="Communication options")
    expect(panel).to_contain_text("Mail to this address bounced")

    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    panel.get_by_role("button", name="Clear bounce").click()
    expect(panel).not_to_contain_text("Mail to this address bounced")
    assert asked and email["address"] in asked[0]
    expect(composer.get_by_role("radio", name="Email")).to_be_enabled()
    contact = api.get(f"/contacts/{contact_id}")
    assert isinstance(contact, dict)
    assert contact["emails"][0]["bounced"] is False


def _thread_ending_in_an_html_email(api: Api) -> str:
    """A contact of its own (a rerun after a failure must not meet the first one's) whose
    thread is taller than the screen and ends with an HTML email; its name."""
    n = random.randrange(10_000)
    name = f"Tall Email {n}"
    contact = api.post(
        "/contacts",
        {
            "name": name,
            "phones": [{"number": f"+1415557{n:04d}"}],
            "emails": [{"address": f"tall{n}@example.org"}],
        },
    )
    assert isinstance(contact, dict)
    conv = api.post(f"/contacts/{contact['id']}/conversation")
    assert isinstance(conv, dict)
    for i in range(1, 16):
        api.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": f"Line {i}"})
    html = "".join(f"<p>Paragraph {i} of the order confirmation.</p>" for i in range(1, 9))
    api.post(
        f"/conversations/{conv['id']}/messages",
        {"channel": "email", "subject": "Your order", "body": "Paragraph 1", "html": html},
    )
    return name


def _make_the_channels_late(page: Any) -> None:
    """The composer learns the thread's channels a second late (and grows then)."""

    def late(route: Route) -> None:
        time.sleep(1.0)
        route.continue_()

    page.route(re.compile(r"/api/v1/conversations/\d+/channels"), late)


_GAP_BELOW = """() => { const el = document.querySelector('.messages-scroll');
    return el.scrollHeight - el.scrollTop - el.clientHeight; }"""
# The email's frame is as tall as its document: its height has settled.
_FRAME_SETTLED = """() => { const f = [...document.querySelectorAll('iframe.email-frame')].pop();
    const doc = f && f.contentDocument;
    return !!doc && doc.readyState === 'complete'
        && Math.abs(f.getBoundingClientRect().height - doc.documentElement.scrollHeight) < 1; }"""


@pytest.mark.parametrize(
    ("viewport", "channels_late"),
    [((1360, 860), False), ((1360, 860), True), ((390, 844), True)],
    ids=["desktop", "desktop-composer-late", "phone-composer-late"],
)
def test_a_thread_ending_in_an_html_email_opens_at_the_very_bottom(
    new_app: Any, demo: DemoServer, api: Api, viewport: tuple[int, int], channels_late: bool
) -> None:
    """Sizes settle after the thread is first drawn: the email's frame takes its height
    once its document has loaded, and the composer grows once the channels are known
    (made late on purpose here, so that it always comes last). The thread must end at its
    very bottom all the same: it stopped some 30 px short."""
    width, height = viewport
    name = _thread_ending_in_an_html_email(api)
    app: App = new_app(demo.url, viewport={"width": width, "height": height})
    page = app.page
    app.login()
    if channels_late:
        _make_the_channels_late(page)
    log = app.open(name)
    email = log.get_by_role("listitem").filter(has_text="Your order")
    expect(email.frame_locator("iframe").get_by_text("Paragraph 8 of")).to_be_attached()
    expect(page.get_by_role("button", name=f"Write an email to {name}")).to_be_visible()
    page.wait_for_function(_FRAME_SETTLED)
    page.wait_for_timeout(300)  # what a reader would see once everything has stopped moving
    assert page.evaluate(_GAP_BELOW) <= 1
    expect(email.locator("time")).to_be_in_viewport()


def test_a_reader_who_scrolled_up_stays_put_while_the_thread_settles(
    new_app: Any, demo: DemoServer, api: Api
) -> None:
    """Holding the thread at its bottom ends when the reader scrolls: what grows later
    (here the composer) does not pull them back down."""
    name = _thread_ending_in_an_html_email(api)
    app: App = new_app(demo.url)
    page = app.page
    app.login()
    _make_the_channels_late(page)
    log = app.open(name)
    log.get_by_text("Line 3", exact=True).scroll_into_view_if_needed()
    expect(page.get_by_role("button", name=f"Write an email to {name}")).to_be_visible()
    page.wait_for_timeout(300)
    expect(log.get_by_text("Line 3", exact=True)).to_be_in_viewport()
    assert page.evaluate(_GAP_BELOW) > 100
