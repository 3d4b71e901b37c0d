"""MISSION.md "The inbox": login, the contacts panel, views, search, keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import App, top_row
from tests.web.server import AGENT, Api, DemoServer, inbound_sms

pytestmark = pytest.mark.browser


def test_login_survives_a_reload_and_logout_returns_to_the_login_page(app: App) -> None:
    page = app.page
    page.goto(app.url + "/")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()

    app.login()
    page.reload()
    expect(page.get_by_role("list", name="Conversations")).to_be_visible()
    expect(page.get_by_role("link", name="Your profile (Ada Lovelace)")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_panel_lists_every_contact_in_a_conversation_newest_first(app: App, api: Api) -> None:
    """Point 2: anyone who wrote to us or whom we wrote to, on any channel, bot or human."""
    app.login()
    page = app.page
    expected = api.get("/conversations", view="all", limit=10)
    assert isinstance(expected, dict)
    names = [c["contact"]["name"] for c in expected["items"]]
    rows = page.get_by_role("list", name="Conversations").get_by_role("link")
    expect(top_row(page)).to_contain_text(names[0])
    shown = [rows.nth(i).inner_text().split("\n")[0] for i in range(5)]
    assert shown == names[:5]

    # Each row: avatar, name, last-message preview, channel icon, time and unread badge.
    first = expected["items"][0]
    row = app.conversation(first["contact"]["name"])
    expect(row).to_contain_text(first["last_message_preview"][:20])
    channel = {"sms": "SMS", "webchat": "Web Chat", "email": "Email"}
    expect(row.get_by_role("img", name=channel[first["last_message_channel"]])).to_be_visible()
    expect(
        page.get_by_role("button", name=f"Edit contact {first['contact']['name']}")
    ).to_be_visible()

    # A thread whose only outbound message came from a workflow is listed too.
    expect(app.conversation("Zoë Ólafsdóttir")).to_be_visible()


def test_views_show_one_at_a_time_and_search_stays_within_the_view(app: App) -> None:
    """Point 3: pick a view; search for a contact within it."""
    app.login()
    page = app.page
    view = page.get_by_role("combobox", name="View", exact=True)
    expect(view.locator("option", has_text="Email")).to_have_count(1)
    view.select_option("email")
    expect(app.conversation("Björn Lindqvist")).to_be_visible()
    expect(app.conversation("Zoë Ólafsdóttir")).to_have_count(0)  # SMS only

    search = page.get_by_label("Search contacts in this view")
    search.fill("Björn")
    expect(page.get_by_role("list", name="Conversations").get_by_role("link")).to_have_count(1)
    expect(app.conversation("Björn Lindqvist")).to_be_visible()

    search.fill("Zoë")  # exists, but not in the Email view
    expect(page.get_by_text(re.compile("No one in Email matches"))).to_be_visible()
    expect(page.get_by_role("list", name="Conversations").get_by_role("link")).to_have_count(0)

    view.select_option("all")
    expect(app.conversation("Zoë Ólafsdóttir")).to_be_visible()


def test_views_carry_counts_and_a_saved_view_appears_in_the_selector(app: App) -> None:
    app.login()
    page = app.page
    options = page.get_by_role("combobox", name="View", exact=True).locator("option")
    expect(options.filter(has_text=re.compile(r"^All · \d+"))).to_have_count(1)
    expect(options.filter(has_text=re.compile(r"^Unread · \d+"))).to_have_count(1)

    page.get_by_role("button", name="Save a view").click()
    dialog = page.get_by_role("dialog", name="Save a view")
    dialog.get_by_label("Name").fill("Email VIPs")
    dialog.get_by_label("Channel").select_option("email")
    dialog.get_by_label("Tag").fill("vip")
    dialog.get_by_role("button", name="Save view").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("combobox", name="View", exact=True)).to_have_value(
        re.compile(r"^\d+$")
    )
    # The demo tags every fifth contact vip: Mateo Rossi writes by email, Björn does not.
    expect(app.conversation("Mateo Rossi")).to_be_visible()
    expect(app.conversation("Björn Lindqvist")).to_have_count(0)


def test_keyboard_moves_between_threads_and_focuses_search(app: App) -> None:
    app.login()
    page = app.page
    rows = page.get_by_role("list", name="Conversations").get_by_role("link")
    second = rows.nth(1).inner_text().split("\n")[0]
    rows.first.click()
    expect(page.get_by_role("log", name="Messages")).to_be_visible()
    rows.first.focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("heading", level=2, name=second)).to_be_visible()
    expect(rows.nth(1)).to_have_attribute("aria-current", "page")

    # A corner of the thread, not its middle: key presses in an email's frame never reach
    # the app's shortcuts, and the middle may be an email.
    messages = page.get_by_role("log", name="Messages")
    corner = {"x": 4, "y": 4}
    messages.click(position=corner)
    page.keyboard.press("/")
    expect(page.get_by_label("Search contacts in this view")).to_be_focused()
    page.keyboard.press("Escape")
    messages.click(position=corner)
    page.keyboard.press("n")
    expect(page.get_by_role("dialog", name="New conversation")).to_be_visible()
    page.keyboard.press("Escape")
    messages.click(position=corner)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text(
        "New conversation"
    )


def test_unread_badges_and_the_tab_title_follow_reading(app: App, demo: DemoServer) -> None:
    agent = Api(demo.url, email=AGENT)
    try:
        page_data = agent.get("/conversations", view="all", limit=100)
    finally:
        agent.close()
    assert isinstance(page_data, dict)
    unread = [c for c in page_data["items"] if c["unread_count"] > 0]
    total = sum(c["unread_count"] for c in unread)
    target = unread[-1]
    app.login(AGENT)
    page = app.page
    expect(page).to_have_title(f"({total}) Parlour")
    name = target["contact"]["name"]
    page.get_by_label("Search contacts in this view").fill(name)
    badge = app.conversation(name).get_by_label(f"{target['unread_count']} unread")
    expect(badge).to_be_visible()
    app.open(target["contact"]["name"])
    expect(
        app.conversation(target["contact"]["name"]).get_by_label(re.compile("unread"))
    ).to_have_count(0)
    expect(page).to_have_title(f"({total - target['unread_count']}) Parlour")


def test_the_open_thread_has_its_own_address_that_survives_reload_and_back(app: App) -> None:
    app.login()
    page = app.page
    app.open("Zoë Ólafsdóttir")
    first_url = page.url
    assert re.search(r"/conversations/\d+$", first_url)
    app.open("José Álvarez")
    page.reload()
    expect(page.get_by_role("heading", level=2, name="José Álvarez")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", level=2, name="Zoë Ólafsdóttir")).to_be_visible()
    assert page.url == first_url


def test_new_conversation_shortcut_then_enter_starts_nothing(app: App, api: Api) -> None:
    """N, then Enter before anything is typed, used to open (or create) whoever the empty
    search listed first; now Enter needs text or a contact chosen with the arrows."""
    contacts_before = api.get("/contacts", limit=200)
    assert isinstance(contacts_before, dict)
    app.login()
    page = app.page
    url = page.url
    page.keyboard.press("n")
    dialog = page.get_by_role("dialog", name="New conversation")
    search = dialog.get_by_role("combobox", name="Search all contacts")
    expect(search).to_be_focused()
    page.keyboard.press("Enter")  # before the list of contacts has come back
    first = dialog.get_by_role("option").first
    expect(first).to_be_visible()
    expect(first).to_have_attribute("aria-selected", "false")
    page.keyboard.press("Enter")  # and after
    expect(dialog.get_by_role("status")).to_contain_text("Type a name, phone number or email")
    page.wait_for_timeout(500)  # what a start would have taken
    expect(dialog).to_be_visible()
    assert page.url == url
    contacts_after = api.get("/contacts", limit=200)
    assert isinstance(contacts_after, dict)
    assert [c["id"] for c in contacts_after["items"]] == [c["id"] for c in contacts_before["items"]]

    # A contact chosen with the arrows is opened by Enter, as before.
    name = first.locator(".result-name").inner_text()
    page.keyboard.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()


def test_arrow_down_from_the_panel_search_moves_into_the_results(app: App) -> None:
    app.login()
    page = app.page
    search = page.get_by_label("Search contacts in this view")
    search.focus()
    page.keyboard.press("ArrowDown")
    expect(top_row(page)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(search).to_be_focused()

    row = app.find("Björn Lindqvist")
    expect(page.get_by_role("list", name="Conversations").get_by_role("link")).to_have_count(1)
    search.focus()
    page.keyboard.press("ArrowDown")
    expect(row).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name="Björn Lindqvist")).to_be_visible()


def test_the_panel_preview_says_who_wrote_the_last_message(
    new_app: Any, fresh_demo: DemoServer
) -> None:
    """ "You:" only for the signed-in user's own messages; a teammate's first name for
    theirs, a workflow's name for a bot's."""
    api = Api(fresh_demo.url)
    sam = Api(fresh_demo.url, email=AGENT)
    try:
        api.connect_twilio()
        phone = "+14155558181"
        contact = api.post("/contacts", {"name": "Preview Person", "phones": [{"number": phone}]})
        assert isinstance(contact, dict)
        conv = api.post(f"/contacts/{contact['id']}/conversation")
        assert isinstance(conv, dict)
        sam.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": "Sam here"})
        first_name = sam.me["name"].split()[0]

        app: App = new_app(fresh_demo.url)
        app.login()  # as the admin, Ada
        row = app.find("Preview Person")
        expect(row).to_contain_text(f"{first_name}: Sam here")
        expect(row).not_to_contain_text("You:")
        # Live from here on: each message arrives as an event.
        api.post(f"/conversations/{conv['id']}/messages", {"channel": "sms", "body": "Ada here"})
        expect(row).to_contain_text("You: Ada here")

        workflows = api.get("/workflows")
        assert isinstance(workflows, list)
        hours = next(w for w in workflows if w["name"] == "Opening hours")
        api.patch(f"/workflows/{hours['id']}", {"enabled": True})
        inbound_sms(fresh_demo.url, from_=phone, to="+14155550100", body="what are your hours?")
        expect(row).to_contain_text("Opening hours: ")
        expect(row).not_to_contain_text("You:")
    finally:
        api.close()
        sam.close()
