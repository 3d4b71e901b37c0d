"""The visitor's chat widget (web/widget/, issue 19) in Chromium.

`test_widget_size` is the budget (widget.js ≤ 20 KB gzipped), checked on the build.

The browser tests embed the snippet on the demo company's page (parlour/sample/website.py:
a second origin, a strict CSP without inline script or style, and hostile CSS added).
`test_widget_against_the_server` and `test_reconnect_catches_up_once` use a real
`parlour demo`. The first three browser tests still answer /widget/v1 from `FakeParlour`,
written before the server's side existed; moving them to the real server is open work
(issue 19).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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


def _message(i: int, direction: str, body: str, *, read: bool = False) -> dict[str, Any]:
    sender = (
        {"type": "user", "name": "Ada", "avatar_url": None}
        if direction == "out"
        else {"type": "contact", "name": "Visitor 1a2b", "avatar_url": None}
    )
    return {
        "id": i,
        "direction": direction,
        "body": body,
        "sender": sender,
        "attachments": [],
        "created_at": "2026-12-02T05:00:00Z",
        "read": read or direction == "in",
        "client_id": None,
    }


class FakeParlour:
    """The Parlour origin for the browser: the built widget files, and /widget/v1 answered
    from memory (the contract's shapes), with CORS for the website's origin."""

    def __init__(self, *, ask_email: bool = False) -> None:
        self.messages = [
            _message(1, "in", "Do you roast on Tuesdays?"),
            _message(2, "out", "We do!"),
            _message(3, "out", '<img src=x onerror="alert(1)"> <b>Fresh beans</b> today'),
        ]
        self.ask_email = ask_email
        self.calls: list[tuple[str, str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes = b"", kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
                self.send_header(
                    "Access-Control-Allow-Headers", "Content-Type, Authorization, Idempotency-Key"
                )
                self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                self.send_header("Vary", "Origin")
                if body:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, value: Any) -> None:
                self._send(status, json.dumps(value).encode())

            def do_OPTIONS(self) -> None:
                self._send(204)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                fake.calls.append(("GET", self.path, None))
                if parts.path == "/widget.js" or parts.path.startswith("/widget/assets/"):
                    name = (
                        "widget.js" if parts.path == "/widget.js" else parts.path[len("/widget/") :]
                    )
                    self._send(200, (BUILT / name).read_bytes(), "text/javascript")
                elif parts.path == f"/widget/v1/{TOKEN}/config":
                    self._json(
                        200,
                        {
                            "name": "Northwind Coffee",
                            "greeting": "Hi! How can we help?",
                            "color": "#4f46e5",
                            "online": not fake.ask_email,
                            "ask_email": fake.ask_email,
                            "max_attachment_bytes": 1_000_000,
                        },
                    )
                elif parts.path == "/widget/v1/messages":
                    after = int(parse_qs(parts.query).get("after", ["0"])[0])
                    items = [m for m in fake.messages if m["id"] > after]
                    unread = sum(
                        1 for m in fake.messages if m["direction"] == "out" and not m["read"]
                    )
                    self._json(200, {"items": items, "unread": unread})
                else:
                    self._json(404, {"code": "not_found", "message": "Not Found", "details": None})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                kind = self.headers.get("Content-Type") or ""
                body: dict[str, Any] | None = json.loads(raw) if "json" in kind else None
                path = urlsplit(self.path).path
                fake.calls.append(("POST", path, body))
                if path.endswith("/visitors"):
                    self._json(
                        200,
                        {
                            "visitor_token": "vt-1",
                            "visitor_id": 1,
                            "expires_at": "2099-01-01T00:00:00Z",
                            "name": "Visitor 1a2b",
                        },
                    )
                elif path == "/widget/v1/messages":
                    assert body is not None
                    message = _message(len(fake.messages) + 1, "in", body["body"])
                    message["client_id"] = body.get("client_id")
                    fake.messages.append(message)
                    self._json(201, message)
                elif path == "/widget/v1/read":
                    assert body is not None
                    for m in fake.messages:
                        if m["direction"] == "out" and m["id"] <= body["up_to"]:
                            m["read"] = True
                    self._send(204)
                else:
                    self._send(204)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def parlour() -> Iterator[FakeParlour]:
    _built()
    fake = FakeParlour()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def website(parlour: FakeParlour) -> Iterator[str]:
    from parlour.sample.website import serve_website

    server = serve_website(parlour.url, TOKEN)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _page(browser: Any, website: str, *, width: int = 1280, height: int = 800) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    # The host page's own stylesheet, made as hostile as can be (CSP allows only 'self').
    site_css = (ROOT / "parlour" / "sample" / "website" / "site.css").read_text()
    page.route(
        f"{website}/site.css",
        lambda route: route.fulfill(
            status=200, content_type="text/css", body=site_css + HOSTILE_CSS
        ),
    )
    page.route_web_socket(
        "**/widget/v1/ws*", lambda ws: ws.send(json.dumps({"type": "hello", "unread": 2}))
    )
    page.goto(website + "/")
    return page


def test_launcher_unread_and_window_on_a_strict_csp_page_with_hostile_css(
    browser: Any, parlour: FakeParlour, website: str
) -> None:
    page = _page(browser, website)
    launcher = page.get_by_role("button", name="Chat with Northwind Coffee")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert box and box["width"] == 60 and box["x"] > 1100 and box["y"] > 650, box
    expect(page.locator("parlour-widget .badge")).to_have_text("2")
    preview = page.get_by_role("button", name="New message from Ada")
    expect(preview).to_contain_text('<img src=x onerror="alert(1)"> <b>Fresh beans</b> today')
    # Only the loader before opening.
    assert not [c for c in parlour.calls if "/widget/assets/" in c[1]]

    launcher.click()
    dialog = page.get_by_role("dialog", name="Northwind Coffee")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box and round(box["width"]) == 380 and round(box["height"]) == 600, box
    expect(dialog.get_by_role("heading", name="Northwind Coffee")).to_be_visible()
    expect(dialog).to_contain_text("Hi! How can we help?")
    log = dialog.get_by_role("log", name="Messages")
    expect(log).to_contain_text('<img src=x onerror="alert(1)"> <b>Fresh beans</b> today')
    assert log.locator("img, b").count() == 0
    message = dialog.get_by_role("textbox", name="Message")
    expect(message).to_be_focused()
    expect(page.locator("parlour-widget .badge")).to_be_hidden()
    assert ("POST", "/widget/v1/read", {"up_to": 3}) in parlour.calls

    message.fill("A flat white to go, please")
    message.press("Shift+Enter")
    message.press_sequentially("at 9")
    message.press("Enter")
    expect(log).to_contain_text("A flat white to go, please\nat 9")
    sent = [c for c in parlour.calls if c[:2] == ("POST", "/widget/v1/messages")]
    assert sent and sent[0][2]["body"] == "A flat white to go, please\nat 9"
    expect(message).to_have_value("")

    message.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    assert page.problems == [], page.problems
    page.context.close()


def test_full_screen_on_a_phone(browser: Any, parlour: FakeParlour, website: str) -> None:
    page = _page(browser, website, width=390, height=844)
    page.get_by_role("button", name="Chat with Northwind Coffee").click()
    dialog = page.get_by_role("dialog", name="Northwind Coffee")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
    dialog.get_by_role("button", name="Close chat").click()
    expect(dialog).to_be_hidden()
    page.context.close()


def test_email_form_when_nobody_is_online(browser: Any, parlour: FakeParlour, website: str) -> None:
    parlour.ask_email = True
    page = _page(browser, website)
    page.get_by_role("button", name="Chat with Northwind Coffee").click()
    form = page.get_by_role("form", name="Leave your email")
    expect(form).to_contain_text("We're away right now. Leave your email and we'll reply there.")
    form.get_by_role("textbox", name="Email").fill("sam@example.com")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Thanks! We'll reply to sam@example.com.")).to_be_visible()
    assert ("POST", "/widget/v1/email", {"email": "sam@example.com"}) in parlour.calls
    page.context.close()


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
    page = httpx.get(_website_of(demo) + "/", timeout=5)
    assert f'src="{demo.url}/widget.js" data-parlour-widget="{TOKEN}"' in page.text
    assert "script-src " + demo.url in page.headers["content-security-policy"]


def _website_of(demo: DemoServer) -> str:
    """The demo company's website `parlour demo` printed next to the login."""
    found = re.search(r"with the chat widget\): (http://\S+?)/?$", demo.log.read_text(), re.M)
    assert found, demo.log.read_text()[-2000:]
    return found.group(1)


def test_widget_against_the_server(browser: Any, demo: DemoServer) -> None:
    """The visitor chats from the demo website with the real server; the agent replies live,
    and a reply posted while the visitor is away is unread on their next visit."""
    config = httpx.get(f"{demo.url}/widget/v1/{TOKEN}/config", timeout=5)
    if config.status_code == 404 and config.json().get("code") != "unknown_widget":
        pytest.skip("the server side of the widget (/widget/v1, branch widget-api) is not here yet")
    loader = httpx.get(f"{demo.url}/widget.js", timeout=5)
    assert loader.status_code == 200
    assert loader.headers["cache-control"] == "public, max-age=300"
    website = _website_of(demo)
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
        token = json.loads(page.evaluate(f"localStorage.getItem('parlour-widget:{TOKEN}')"))
        visitor = httpx.post(
            f"{demo.url}/widget/v1/{TOKEN}/visitors",
            json={"visitor_token": token["token"], "identity": None},
            headers={"Origin": website},
            timeout=5,
        ).json()
        conv = api.conversation_of(visitor["name"])
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
    config = httpx.get(f"{fresh_demo.url}/widget/v1/{TOKEN}/config", timeout=5)
    if config.status_code == 404 and config.json().get("code") != "unknown_widget":
        pytest.skip("the server side of the widget (/widget/v1, branch widget-api) is not here yet")
    website = _website_of(fresh_demo)
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
    token = json.loads(page.evaluate(f"localStorage.getItem('parlour-widget:{TOKEN}')"))
    name = httpx.post(
        f"{fresh_demo.url}/widget/v1/{TOKEN}/visitors",
        json={"visitor_token": token["token"], "identity": None},
        headers={"Origin": website},
        timeout=5,
    ).json()["name"]
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
