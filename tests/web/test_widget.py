"""The visitor's chat widget (web/widget/, issue 19) in Chromium, against a real
`parlour demo`.

`test_widget_size` is the budget (widget.js ≤ 20 KB gzipped), checked on the build.

The browser tests embed the snippet on the demo company's page (parlour/sample/website.py:
a second origin, a strict CSP without inline script or style), some with hostile CSS added.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import IN_CI
from tests.web.server import ROOT, Api, DemoServer

WIDGET = ROOT / "web" / "widget"
BUILT = ROOT / "parlour" / "static" / "widget"
TOKEN = "wgt_demo_northwind"

HOSTILE_CSS = """
* { all: unset !important; }
button { display: none !important; }
div, section, textarea { visibility: hidden !important; font-size: 2px !important; }
parlour-widget { display: none !important; }
"""


def _built() -> None:
    if (BUILT / "widget.js").is_file():
        return
    npm = shutil.which("npm")
    if npm is None or not (WIDGET / "node_modules").is_dir():
        message = "the widget is not built (cd widget && npm ci && npm run build)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    subprocess.run([npm, "run", "build"], cwd=WIDGET, check=True)


def test_widget_size() -> None:
    """Everything loaded before the visitor opens the window stays ≤ 20 KB gzipped."""
    _built()
    node = shutil.which("node")
    assert node, "node is needed for the size check"
    result = subprocess.run(
        [node, "scripts/size.mjs"], cwd=WIDGET, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "before open:" in result.stdout


def _page(browser: Any, website: str, *, width: int = 1280, height: int = 800) -> Any:
    """A visitor's tab on the demo website, its stylesheet made as hostile as can be (the
    CSP allows only 'self'); `page.problems` collects CSP violations and page errors, and
    `page.requests` every URL the page asked for."""
    context = browser.new_context(viewport={"width": width, "height": height})
    site_css = (ROOT / "parlour" / "sample" / "website" / "site.css").read_text()
    context.route(
        f"{website}/site.css",
        lambda route: route.fulfill(
            status=200, content_type="text/css", body=site_css + HOSTILE_CSS
        ),
    )
    return _visit(context, website)


def _visit(context: Any, website: str) -> Any:
    """A new tab of the visitor's browser on the website (a next visit)."""
    page = context.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.problems = problems
    page.requests = requests
    page.goto(website + "/")
    return page


def _visitor_name(page: Any, demo: DemoServer, website: str) -> str:
    """The contact name the server gave this browser's visitor (the token it keeps)."""
    token = json.loads(page.evaluate(f"localStorage.getItem('parlour-widget:{TOKEN}')"))
    answer = httpx.post(
        f"{demo.url}/widget/v1/{TOKEN}/visitors",
        json={"visitor_token": token["token"], "identity": None},
        headers={"Origin": website},
        timeout=5,
    )
    answer.raise_for_status()
    return str(answer.json()["name"])


def _messages(api: Api, conversation_id: object) -> list[dict[str, Any]]:
    page = api.get(f"/conversations/{conversation_id}/messages", limit=50)
    assert isinstance(page, dict)
    return list(page["items"])


HOSTILE_REPLY = '<img src=x onerror="alert(1)"> <b>Fresh beans</b> today'


def test_launcher_unread_and_window_on_a_strict_csp_page_with_hostile_css(
    browser: Any, demo: DemoServer
) -> None:
    """Replies posted while the visitor is away wait as unread on the launcher, with a
    preview; opening the window reads them (the agent sees "read"), and the window stays
    itself and keyboard-usable on a page whose own CSS tries to hide or restyle it."""
    _built()
    website = demo.website()
    page = _page(browser, website)
    launcher = page.get_by_role("button", name="Chat with northwind.example")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert box and box["width"] == 60 and box["x"] > 1100 and box["y"] > 650, box
    # Only the loader before the visitor opens the window.
    assert not [url for url in page.requests if "/widget/assets/" in url]

    launcher.click()
    dialog = page.get_by_role("dialog", name="northwind.example")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box and round(box["width"]) == 380 and round(box["height"]) == 600, box
    expect(dialog.get_by_role("heading", name="northwind.example")).to_be_visible()
    expect(dialog).to_contain_text("Hi! How can we help?")
    message = dialog.get_by_role("textbox", name="Message")
    expect(message).to_be_focused()
    message.fill("A flat white to go, please")
    message.press("Shift+Enter")
    message.press_sequentially("at 9")
    message.press("Enter")
    log = dialog.get_by_role("log", name="Messages")
    expect(log).to_contain_text("A flat white to go, please\nat 9")
    expect(log).not_to_contain_text("Sending…")
    expect(message).to_have_value("")
    message.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()

    api = Api(demo.url)
    try:
        conv = api.conversation_of(_visitor_name(page, demo, website))
        (sent,) = [m for m in _messages(api, conv["id"]) if m["direction"] == "in"]
        assert sent["body"] == "A flat white to go, please\nat 9"
        assert page.problems == [], page.problems
        page.close()
        for body in ("We do!", HOSTILE_REPLY):
            api.post(f"/conversations/{conv['id']}/messages", {"channel": "webchat", "body": body})

        page = _visit(page.context, website)
        launcher = page.get_by_role("button", name="Chat with northwind.example")
        expect(page.locator("parlour-widget .badge")).to_have_text("2")
        preview = page.get_by_role("button", name="New message from Ada Lovelace")
        expect(preview).to_contain_text(HOSTILE_REPLY)
        replies = [m for m in _messages(api, conv["id"]) if m["direction"] == "out"]
        assert [m["status"] for m in replies] != ["read", "read"], replies

        launcher.click()
        dialog = page.get_by_role("dialog", name="northwind.example")
        log = dialog.get_by_role("log", name="Messages")
        expect(log).to_contain_text(HOSTILE_REPLY)
        assert log.locator("img, b").count() == 0  # shown as text, never as markup
        expect(page.locator("parlour-widget .badge")).to_be_hidden()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            replies = [m for m in _messages(api, conv["id"]) if m["direction"] == "out"]
            if [m["status"] for m in replies] == ["read", "read"]:
                break
            time.sleep(0.2)
        assert [m["status"] for m in replies] == ["read", "read"], replies
    finally:
        api.close()
    assert page.problems == [], page.problems
    page.context.close()


def test_full_screen_on_a_phone(browser: Any, demo: DemoServer) -> None:
    _built()
    page = _page(browser, demo.website(), width=390, height=844)
    page.get_by_role("button", name="Chat with northwind.example").click()
    dialog = page.get_by_role("dialog", name="northwind.example")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
    dialog.get_by_role("button", name="Close chat").click()
    expect(dialog).to_be_hidden()
    page.context.close()


def test_email_form_when_nobody_is_online(browser: Any, fresh_demo: DemoServer) -> None:
    """Outside office hours (here: none at all) the window asks for an email, and the
    address is added to the visitor's contact for the agents."""
    _built()
    api = Api(fresh_demo.url)
    try:
        api.patch("/widgets/1", {"offline_mode": "office_hours", "office_hours": {}})
        website = fresh_demo.website()
        page = _page(browser, website)
        page.get_by_role("button", name="Chat with northwind.example").click()
        form = page.get_by_role("form", name="Leave your email")
        expect(form).to_contain_text(
            "We're away right now. Leave your email and we'll reply there."
        )
        form.get_by_role("textbox", name="Email").fill("sam@example.com")
        form.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Thanks! We'll reply to sam@example.com.")).to_be_visible()
        found = api.get("/contacts", q="sam@example.com")
        assert isinstance(found, dict)
        (contact,) = found["items"]
        assert contact["name"] == _visitor_name(page, fresh_demo, website)
        assert "sam@example.com" in json.dumps(contact)
        assert page.problems == [], page.problems
        page.context.close()
    finally:
        api.close()


def test_the_server_serves_the_loader_and_its_chunks(demo: DemoServer) -> None:
    """`GET /widget.js` answers the built loader with a short cache (a deploy takes effect in
    minutes), `/widget/assets/*` the hashed window chunk with a year's immutable cache."""
    _built()
    loader = httpx.get(f"{demo.url}/widget.js", timeout=5)
    assert loader.status_code == 200
    assert loader.headers["content-type"].startswith("text/javascript")
    assert loader.headers["cache-control"] == "public, max-age=300"
    assert loader.content == (BUILT / "widget.js").read_bytes()
    chunk = next((BUILT / "assets").glob("window-*.js")).name
    assert chunk.encode() in loader.content  # the loader names the chunk it loads
    answer = httpx.get(f"{demo.url}/widget/assets/{chunk}", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    for missing in ("/widget/assets/window-nope.js", "/widget/assets/..%2Fwidget.js"):
        refused = httpx.get(f"{demo.url}{missing}", timeout=5)
        assert refused.status_code == 404
        assert refused.json()["code"] == "not_found"
    page = httpx.get(demo.website() + "/", timeout=5)
    assert f'src="{demo.url}/widget.js" data-parlour-widget="{TOKEN}"' in page.text
    assert "script-src " + demo.url in page.headers["content-security-policy"]


def test_widget_against_the_server(browser: Any, demo: DemoServer) -> None:
    """The visitor chats from the demo website with the real server; the agent replies live,
    and a reply posted while the visitor is away is unread on their next visit."""
    loader = httpx.get(f"{demo.url}/widget.js", timeout=5)
    assert loader.status_code == 200
    assert loader.headers["cache-control"] == "public, max-age=300"
    website = demo.website()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(r.url) if r.status >= 400 else None)
    page.goto(website + "/")
    launcher = page.get_by_role("button", name=re.compile("^Chat with "))
    launcher.click()
    dialog = page.get_by_role("dialog")
    message = dialog.get_by_role("textbox", name="Message")
    expect(message).to_be_focused()
    message.fill("<b>Hello</b> from the website")
    message.press("Enter")
    log = dialog.get_by_role("log", name="Messages")
    expect(log).to_contain_text("<b>Hello</b> from the website")
    expect(log).not_to_contain_text("Sending…")
    # An attachment: the window checks type and size before uploading.
    files = dialog.locator("input[type=file]")
    files.set_input_files(files=[{"name": "page.html", "mimeType": "text/html", "buffer": b"<b>"}])
    expect(dialog.get_by_role("alert")).to_contain_text("page.html: this type of file")
    receipt = {"name": "receipt.txt", "mimeType": "text/plain", "buffer": b"Order 42"}
    files.set_input_files(files=[receipt])
    expect(dialog).to_contain_text("Attached: receipt.txt")
    dialog.get_by_role("button", name="Send").click()
    expect(log.get_by_role("link", name="receipt.txt")).to_be_visible()

    api = Api(demo.url)
    try:
        conv = api.conversation_of(_visitor_name(page, demo, website))
        api.post(f"/conversations/{conv['id']}/messages", {"channel": "webchat", "body": "Hi!"})
        expect(log).to_contain_text("Hi!")  # live, over the socket

        dialog.get_by_role("button", name="Close chat").click()
        expect(launcher).to_be_focused()
        page.close()
        api.post(
            f"/conversations/{conv['id']}/messages",
            {"channel": "webchat", "body": "Your flat white is ready"},
        )
        page = context.new_page()
        page.goto(website + "/")
        expect(page.locator("parlour-widget .badge")).to_have_text("1")
        expect(page.get_by_role("button", name=re.compile("^New message from"))).to_contain_text(
            "Your flat white is ready"
        )
        page.get_by_role("button", name=re.compile("^Chat with ")).click()
        expect(page.locator("parlour-widget .badge")).to_be_hidden()
    finally:
        api.close()
        context.close()
    assert problems == [], problems


def test_reconnect_catches_up_once(browser: Any, fresh_demo: DemoServer) -> None:
    """The server restarts under an open window; a reply posted before the socket is back
    arrives by the catch-up (GET /messages?after=<last id>), once, in order."""
    website = fresh_demo.website()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(website + "/")
    page.get_by_role("button", name=re.compile("^Chat with ")).click()
    dialog = page.get_by_role("dialog")
    message = dialog.get_by_role("textbox", name="Message")
    message.fill("Is the shop open on Sunday?")
    message.press("Enter")
    log = dialog.get_by_role("log", name="Messages")
    expect(log).not_to_contain_text("Sending…")
    name = _visitor_name(page, fresh_demo, website)
    fresh_demo.restart(down_for=1.0)
    api = Api(fresh_demo.url)
    try:
        conv = api.conversation_of(name)
        for body in ("Yes, 8 to 4.", "And we bake buns on Sundays."):
            api.post(f"/conversations/{conv['id']}/messages", {"channel": "webchat", "body": body})
        expect(log).to_contain_text("And we bake buns on Sundays.", timeout=40_000)
        text = log.inner_text()
        assert text.count("Yes, 8 to 4.") == 1 and text.count("And we bake buns") == 1, text
        assert text.index("Is the shop open") < text.index("Yes, 8 to 4.") < text.index("And we")
    finally:
        api.close()
        context.close()


def test_typing_shows_both_ways(browser: Any, demo: DemoServer, new_app: Any) -> None:
    """The agent sees the visitor typing in the thread, and the visitor sees the agent
    typing in the window; each note goes once the message it announced arrives."""
    _built()
    website = demo.website()
    page = _visit(browser.new_context(viewport={"width": 1280, "height": 800}), website)
    page.get_by_role("button", name="Chat with northwind.example").click()
    dialog = page.get_by_role("dialog", name="northwind.example")
    box = dialog.get_by_role("textbox", name="Message")
    box.fill("Do you deliver?")
    box.press("Enter")
    log = dialog.get_by_role("log", name="Messages")
    expect(log).not_to_contain_text("Sending…")
    name = _visitor_name(page, demo, website)

    agent = new_app(demo.url).login()
    thread = agent.open(name)
    note = agent.page.locator("p.typing-note")
    expect(note).to_be_hidden()
    box.press_sequentially("To the harbour")
    expect(note).to_have_text(f"{name} is typing…")
    box.press("Enter")
    expect(thread).to_contain_text("To the harbour")
    expect(note).to_be_hidden()

    composer = agent.page.get_by_role("form", name="Reply")
    expect(composer.get_by_role("radio", name="Web chat")).to_be_checked()
    reply = composer.get_by_role("textbox", name="Message")
    reply.press_sequentially("Yes, on")
    typing = page.locator("parlour-widget p.typing")
    expect(typing).to_have_text("Ada Lovelace is typing…")
    reply.press_sequentially(" Tuesdays")
    reply.press("Enter")
    expect(log).to_contain_text("Yes, on Tuesdays")
    expect(typing).to_have_text("")
    page.context.close()
