"""MISSION.md points 4 and 5: start a new conversation with any contact; quick edit."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.web.conftest import App
from tests.web.server import Api

pytestmark = pytest.mark.browser


def tiny_png(rgb: tuple[int, int, int] = (79, 70, 229), size: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_new_conversation_from_the_panel_finds_a_contact_without_a_thread(app: App) -> None:
    app.login()
    page = app.page
    expect(app.conversation("Walter Gómez")).to_have_count(0)  # no conversation yet

    page.get_by_role("region", name="Contacts panel").get_by_role(
        "button", name="New conversation"
    ).click()
    dialog = page.get_by_role("dialog", name="New conversation")
    search = dialog.get_by_role("combobox", name="Search all contacts")
    expect(search).to_be_focused()
    search.fill("Walter")
    dialog.get_by_role("option", name=re.compile("Walter Gómez")).click()

    expect(page.get_by_role("heading", level=2, name="Walter Gómez")).to_be_visible()
    box = page.get_by_role("form", name="Reply").get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    box.fill("Hi Walter, your order is in!")
    box.press("Enter")
    expect(app.conversation("Walter Gómez")).to_be_visible()
    expect(app.conversation("Walter Gómez")).to_contain_text("You: Hi Walter")


def test_new_conversation_from_the_dialog_header_creates_the_contact_when_none_matches(
    app: App,
) -> None:
    app.login()
    app.open("Zoë Ólafsdóttir")
    page = app.page
    page.get_by_role("region", name="Dialog window").get_by_role(
        "button", name="New conversation"
    ).click()
    dialog = page.get_by_role("dialog", name="New conversation")
    dialog.get_by_role("combobox", name="Search all contacts").fill("+1 415 555 0042")
    create = dialog.get_by_role(
        "option", name=re.compile(r"Text a new contact at \+1 415 555 0042")
    )
    expect(create).to_be_visible()
    create.click()

    expect(page.get_by_role("heading", level=2, name="+1 (415) 555-0042")).to_be_visible()
    expect(page.get_by_text("No messages yet")).to_be_visible()
    composer = page.get_by_role("form", name="Reply")
    expect(composer.get_by_role("radio", name="SMS")).to_be_checked()
    composer.get_by_role("textbox", name="Message").fill("Welcome to Northwind!")
    composer.get_by_role("textbox", name="Message").press("Enter")
    page.get_by_label("Search contacts in this view").fill("")
    expect(app.conversation("+1 (415) 555-0042")).to_contain_text("You: Welcome to Northwind!")


def test_enter_right_after_typing_acts_on_what_was_typed_not_on_older_results(
    app: App,
) -> None:
    # The dialog opens listing every contact; the search for what is typed starts 180 ms
    # later. An Enter before its answer used to open the first contact of that older list.
    app.login()
    page = app.page
    for typed, heading in [("+1 415 555 0077", "+1 (415) 555-0077"), ("Walter", "Walter Gómez")]:
        page.get_by_role("region", name="Contacts panel").get_by_role(
            "button", name="New conversation"
        ).click()
        dialog = page.get_by_role("dialog", name="New conversation")
        expect(dialog.get_by_role("option").first).to_be_visible()  # the first list is in
        search = dialog.get_by_role("combobox", name="Search all contacts")
        search.fill(typed)
        search.press("Enter")
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
        expect(dialog).to_have_count(0)


def test_new_conversation_from_the_empty_state(app: App) -> None:
    app.login()
    page = app.page
    page.get_by_role("region", name="Dialog window").get_by_role(
        "button", name="New conversation"
    ).click()
    expect(page.get_by_role("dialog", name="New conversation")).to_be_visible()


def test_quick_edit_from_the_avatar_updates_the_contact_with_inline_errors(
    app: App, api: Api
) -> None:
    app.login()
    page = app.page
    page.get_by_label("Search contacts in this view").fill("Fatima")
    page.get_by_role("button", name="Edit contact Fatima Haddad").click()
    dialog = page.get_by_role("dialog", name="Edit Fatima Haddad")
    expect(dialog.get_by_label("Name")).to_have_value("Fatima Haddad")

    dialog.get_by_role("button", name="Add phone").click()
    dialog.get_by_label("Phone 2", exact=True).fill("12")
    dialog.get_by_role("button", name="Save changes").click()
    error = dialog.get_by_label("Phone 2", exact=True)
    expect(error).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_role("alert").first).to_contain_text(re.compile("phone", re.I))

    dialog.get_by_label("Phone 2", exact=True).fill("+1 415 555 9090")
    dialog.get_by_label("Label for phone 2").fill("shop")
    dialog.get_by_label("Name").fill("Fatima Haddad-Nasser")
    dialog.get_by_label("Company").fill("Haddad Imports Ltd")
    dialog.get_by_label("Add tag").fill("importer")
    dialog.get_by_label("Add tag").press("Enter")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.get_by_role("status")).to_have_text("Saved")

    dialog.get_by_label("New note").fill("Prefers deliveries before noon.")
    dialog.get_by_role("button", name="Add note").click()
    expect(dialog.get_by_text("Prefers deliveries before noon.")).to_be_visible()
    dialog.get_by_label("Upload a photo of the contact").set_input_files(
        files=[{"name": "fatima.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    expect(dialog.get_by_role("img", name="Fatima Haddad-Nasser")).to_have_attribute(
        "src", re.compile("/avatar")
    )
    dialog.get_by_role("button", name="Close", exact=True).first.click()

    expect(app.conversation("Fatima Haddad-Nasser")).to_be_visible()
    page.get_by_label("Search contacts in this view").fill("Fatima")
    # The photo on the button is seen, not read out: the button's name says whose it is.
    expect(
        page.get_by_role("button", name="Edit contact Fatima Haddad-Nasser").locator("img")
    ).to_have_attribute("src", re.compile("/avatar"))
    conv = api.conversation_of("Fatima Haddad-Nasser")
    contact = api.get(f"/contacts/{conv['contact']['id']}")  # type: ignore[index]
    assert isinstance(contact, dict)
    assert contact["company"] == "Haddad Imports Ltd"
    assert "importer" in contact["tags"]
    assert [p["e164"] for p in contact["phones"]][-1] == "+14155559090"
    assert contact["notes"][-1]["body"] == "Prefers deliveries before noon."


def test_quick_edit_from_the_dialog_avatar_and_merge_leaves_one_thread(app: App, api: Api) -> None:
    one = api.post("/contacts", {"name": "Marta Twin", "phones": [{"number": "+14155556601"}]})
    two = api.post("/contacts", {"name": "M. Twin", "emails": [{"address": "marta@twin.example"}]})
    assert isinstance(one, dict) and isinstance(two, dict)
    for contact, channel in ((one, "sms"), (two, "email")):
        conv = api.post(f"/contacts/{contact['id']}/conversation")
        assert isinstance(conv, dict)
        body = {"channel": channel, "body": f"Hello by {channel}", "subject": "Hi"}
        api.post(f"/conversations/{conv['id']}/messages", body)

    app.login()
    log = app.open("Marta Twin")
    page = app.page
    expect(app.conversation("M. Twin")).to_have_count(0)  # search is on
    page.get_by_role("region", name="Dialog window").get_by_role(
        "button", name="Edit contact Marta Twin"
    ).click()
    dialog = page.get_by_role("dialog", name="Edit Marta Twin")
    dialog.get_by_role("button", name="Merge with another contact…").click()
    dialog.get_by_label("Find the contact to merge").fill("marta@twin")
    dialog.get_by_role("button", name=re.compile("M. Twin")).click()
    expect(dialog.get_by_role("group", name="Confirm merge")).to_contain_text(
        "Merge M. Twin into Marta Twin?"
    )
    dialog.get_by_role("button", name="Merge contacts").click()
    expect(dialog.get_by_label("Email 1", exact=True)).to_have_value("marta@twin.example")
    page.keyboard.press("Escape")

    expect(log.get_by_text("Hello by sms")).to_be_visible()
    expect(log.get_by_text("Hello by email")).to_be_visible()
    page.get_by_label("Search contacts in this view").fill("Twin")
    links = page.get_by_role("list", name="Conversations").get_by_role("link")
    expect(links).to_have_count(1)
    expect(links.first).to_contain_text("Marta Twin")
