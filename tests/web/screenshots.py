"""Takes the screenshots in docs/screenshots/ from a fresh demo in Chromium.

    uv run python -m tests.web.screenshots
    uv run python -m tests.web.screenshots --widget   # only the widget's (18-20)

The workflows' and webhooks' shots (21-24) are taken with the demo's workflows on.

Needs the built web app and /usr/bin/chromium, like the browser tests.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.web.server import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    ROOT,
    Api,
    DemoServer,
    ensure_web_app_built,
    inbound_sms,
)

OUT = ROOT / "docs" / "screenshots"


def login(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("list", name="Conversations").wait_for()


def open_thread(page: Any, name: str) -> None:
    page.get_by_role("link", name=re.compile(re.escape(name))).first.click()
    page.get_by_role("heading", level=2, name=name).wait_for()
    page.wait_for_timeout(600)


def shoot(page: Any, name: str) -> None:
    page.wait_for_timeout(350)
    page.screenshot(path=str(OUT / f"{name}.png"))
    print(f"wrote docs/screenshots/{name}.png")


WIDGET_TOKEN = "wgt_demo_northwind"


def widget_shots(browser: Any, tmp: Path) -> None:
    """The visitor's widget on the demo company's website, against a demo of its own (the
    inbox shots above keep their conversations)."""
    import httpx

    server = DemoServer(tmp).start()
    server.workflows(enabled=False)  # the shots are the same at any hour
    api = Api(server.url)
    try:
        website = server.website()
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(website + "/")
        launcher = page.get_by_role("button", name=re.compile("^Chat with "))
        launcher.click()
        dialog = page.get_by_role("dialog")
        log = dialog.get_by_role("log", name="Messages")
        box = dialog.get_by_role("textbox", name="Message")

        def visitor_says(text: str) -> None:
            box.fill(text)
            box.press("Enter")
            log.get_by_text(text).wait_for()

        visitor_says("Hi! Do you have oat milk?")
        stored = json.loads(page.evaluate(f"localStorage.getItem('parlour-widget:{WIDGET_TOKEN}')"))
        visitor = httpx.post(
            f"{server.url}/widget/v1/{WIDGET_TOKEN}/visitors",
            json={"visitor_token": stored["token"], "identity": None},
            headers={"Origin": website},
            timeout=5,
        ).json()
        conv_id = api.conversation_of(visitor["name"])["id"]

        def agent_says(text: str) -> None:
            api.post(f"/conversations/{conv_id}/messages", {"channel": "webchat", "body": text})
            log.get_by_text(text).wait_for()

        agent_says("We do: oat, almond and soy, at no extra charge.")
        visitor_says("Great. Can I book a table for two at 9?")
        agent_says("Done! A table by the window is yours at 9:00.")
        page.wait_for_timeout(400)
        shoot(page, "19-widget-window")

        dialog.get_by_role("button", name="Close chat").click()
        page.close()
        api.post(
            f"/conversations/{conv_id}/messages",
            {"channel": "webchat", "body": "Your flat white will be waiting for you."},
        )
        page = context.new_page()
        page.goto(website + "/")
        page.locator("parlour-widget .badge").wait_for()
        page.get_by_role("button", name=re.compile("^New message from")).wait_for()
        page.wait_for_timeout(400)
        shoot(page, "18-widget-launcher-unread")
        context.close()

        widgets = api.get("/widgets")
        items = widgets["items"] if isinstance(widgets, dict) else widgets
        assert isinstance(items, list)
        for widget in items:
            # Office hours with no day open: nobody is in, the widget asks for an email.
            api.patch(
                f"/widgets/{widget['id']}", {"offline_mode": "office_hours", "office_hours": {}}
            )
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(website + "/")
        page.get_by_role("button", name=re.compile("^Chat with ")).click()
        form = page.get_by_role("form", name="Leave your email")
        form.wait_for()
        form.get_by_role("textbox", name="Email").fill("sam@example.com")
        page.wait_for_timeout(400)
        shoot(page, "20-widget-offline-email")
        context.close()
    finally:
        api.close()
        server.stop()


def main() -> int:
    problem = ensure_web_app_built()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    only_widget = "--widget" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        if only_widget:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                widget_shots(browser, Path(tmp))
            finally:
                browser.close()
            return 0
        (Path(tmp) / "widget").mkdir()
        server = DemoServer(Path(tmp)).start()
        server.workflows(enabled=False)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            desktop = browser.new_context(viewport={"width": 1440, "height": 900})
            page = desktop.new_page()
            login(page, server.url)
            shoot(page, "01-inbox")
            open_thread(page, "Amélie Dubois")
            shoot(page, "02-thread-three-channels-and-bot")

            open_thread(page, "Chiara Bianchi")
            page.get_by_role("form", name="Reply").get_by_role("radio", name="SMS").check()
            page.get_by_role("form", name="Reply").get_by_role("textbox", name="Message").fill(
                "Hi Chiara! Your order of 3 bags is ready — shall we deliver on Monday?"
            )
            shoot(page, "03-failed-sms-and-sms-composer")

            open_thread(page, "Amélie Dubois")
            page.get_by_role("button", name="Write an email to Amélie Dubois").click()
            dialog = page.get_by_role("dialog", name="New email to Amélie Dubois")
            dialog.get_by_label("Subject").fill("Your wholesale order")
            # Above the signature the body starts with, as a person would put the cursor.
            dialog.get_by_role("textbox", name="Email body").focus()
            page.keyboard.press("Control+Home")
            page.keyboard.type("Hi Amélie,\n\nThanks for your order! ")
            dialog.get_by_role("button", name="Bold").click()
            page.keyboard.type("It ships on Monday")
            dialog.get_by_role("button", name="Bold").click()
            page.keyboard.type(" and arrives Wednesday.\n\nBest,\nAda")
            shoot(page, "04-email-composer")
            dialog.get_by_role("button", name="Discard").click()

            page.get_by_role("button", name="Communication options", exact=True).click()
            shoot(page, "05-communication-options")
            page.get_by_role("button", name="Close communication options").click()

            page.get_by_role("region", name="Dialog window").get_by_role(
                "button", name="Edit contact Amélie Dubois"
            ).click()
            page.get_by_role("dialog").get_by_label("New note").fill(
                "Owner of Café Lumière. Orders every first Monday."
            )
            page.get_by_role("dialog").get_by_role("button", name="Add note").click()
            page.get_by_role("dialog").get_by_text("Orders every first Monday.").wait_for()
            shoot(page, "06-quick-edit")
            page.keyboard.press("Escape")

            page.get_by_role("region", name="Contacts panel").get_by_role(
                "button", name="New conversation"
            ).click()
            page.keyboard.type("ro")
            page.get_by_role("option", name=re.compile("Rosa Parks")).wait_for()
            shoot(page, "07-new-conversation-search")
            page.keyboard.press("Escape")

            page.get_by_role("link", name="Settings").click()
            page.get_by_role("navigation", name="Settings").get_by_role(
                "link", name="Web chat"
            ).click()
            shoot(page, "08-settings-web-chat")
            availability = page.get_by_role("form", name="When nobody answers on northwind.example")
            availability.get_by_label("When nobody answers").select_option("office_hours")
            for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
                availability.get_by_label(f"Open on {day}").check()
            availability.get_by_label("Friday closes at").fill("02:00")
            availability.get_by_role("group", name="Office hours").scroll_into_view_if_needed()
            shoot(page, "08b-settings-web-chat-availability")
            page.get_by_role("navigation", name="Settings").get_by_role(
                "link", name="Phone numbers"
            ).click()
            page.get_by_role("group", name="Twilio connection").wait_for()
            shoot(page, "11-settings-phone-numbers")
            page.get_by_role("link", name="Tasks").click()
            page.get_by_label("Owner").select_option("any")
            page.get_by_role("row").nth(1).wait_for()
            shoot(page, "12-tasks")

            page.get_by_role("link", name="Settings").click()
            page.get_by_role("navigation", name="Settings").get_by_role(
                "link", name="Mailboxes"
            ).click()
            card = page.get_by_role("group", name="Mailbox hello@northwind.example")
            card.get_by_role("button", name="Edit").click()
            edit = card.get_by_role("form", name="Edit hello@northwind.example")
            edit.get_by_label("SMTP server").fill("smtp.northwind.example")
            edit.get_by_label("SMTP username").fill("hello@northwind.example")
            shoot(page, "17-settings-mailbox")

            # Workflows, on: a text with "HOURS" answered by one of them, its run shown.
            server.workflows(enabled=True)
            api = Api(server.url)
            api.connect_twilio()
            ethan = api.conversation_of("Ethan Brown")
            detail = api.get(f"/contacts/{ethan['contact']['id']}")  # type: ignore[index]
            assert isinstance(detail, dict)
            inbound_sms(
                server.url,
                from_=detail["phones"][0]["e164"],
                to="+14155550100",
                body="What are your HOURS on Sunday?",
            )
            nav = page.get_by_role("navigation", name="Settings")
            nav.get_by_role("link", name="Workflows").click()
            hours = page.get_by_role("region", name="Workflow Opening hours")
            hours.wait_for()
            shoot(page, "21-settings-workflows")
            hours.get_by_role("button", name="Recent runs").click()
            hours.get_by_role("region", name="Recent runs of Opening hours").get_by_text(
                re.compile("Sent message")
            ).wait_for()
            hours.scroll_into_view_if_needed()
            shoot(page, "23-workflow-runs")
            away = page.get_by_role("region", name="Workflow Away message")
            away.get_by_role("button", name="Edit").click()
            page.get_by_role("form", name="Edit Away message").wait_for()
            page.evaluate("window.scrollTo(0, 0)")
            shoot(page, "22-workflow-editor")
            page.get_by_role("button", name="Cancel").click()
            nav.get_by_role("link", name="Webhooks").click()
            add = page.get_by_role("form", name="Add an endpoint")
            add.get_by_label("URL").fill("https://93.184.215.14/parlour/events")
            add.get_by_label("Description").fill("Northwind CRM")
            add.get_by_role("checkbox", name=re.compile("A message is written")).check()
            add.get_by_role("checkbox", name=re.compile("A contact is created")).check()
            add.get_by_role("button", name="Add endpoint").click()
            crm = page.get_by_role("region", name="Endpoint Northwind CRM")
            crm.get_by_role("button", name="Deliveries").click()
            crm.get_by_role("region", name="Deliveries to Northwind CRM").wait_for()
            page.evaluate("window.scrollTo(0, 0)")
            shoot(page, "24-settings-webhooks")
            server.workflows(enabled=False)
            api.close()

            page.get_by_role("link", name="Inbox", exact=True).click()
            open_thread(page, "Björn Lindqvist")
            shoot(page, "15-email-reply-quote-folded")
            log = page.get_by_role("log")
            log.get_by_role("button", name=re.compile("quoted", re.I)).last.click()
            shoot(page, "15b-email-reply-quote-shown")
            search = page.get_by_label("Search contacts in this view")
            search.fill("Diego")
            open_thread(page, "Diego Fernández")
            shoot(page, "16-email-bounce")
            search.fill("")
            open_thread(page, "José Álvarez")

            server.stop()
            page.get_by_text("Reconnecting…").wait_for(timeout=20_000)
            shoot(page, "14-reconnecting")
            server.restart()
            page.get_by_text("Reconnecting…").wait_for(state="detached", timeout=30_000)
            desktop.close()

            dark = browser.new_context(
                viewport={"width": 1440, "height": 900}, color_scheme="dark"
            ).new_page()
            login(dark, server.url)
            open_thread(dark, "Amélie Dubois")
            shoot(dark, "13-dark-theme")

            login_page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            login_page.goto(server.url + "/")
            login_page.get_by_role("button", name="Sign in").wait_for()
            shoot(login_page, "00-login")

            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            page = phone.new_page()
            login(page, server.url)
            shoot(page, "09-phone-panel")
            open_thread(page, "José Álvarez")
            shoot(page, "10-phone-thread")
            phone.close()
            widget_shots(browser, Path(tmp) / "widget")
        finally:
            browser.close()
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
