"""The demo company's website: `parlour demo` serves Northwind's home page with the chat
widget's snippet on a second origin (another port), under a strict Content-Security-Policy
(no inline script or style), so a newcomer can chat with themself in two windows."""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

SITE = Path(__file__).with_name("website")


def content_security_policy(public_url: str) -> str:
    """What a host page must allow for the widget (web/widget/README.md), and nothing inline."""
    parts = urlsplit(public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    socket = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
    return (
        f"default-src 'none'; script-src {origin}; connect-src {origin} {socket}; "
        f"img-src 'self' {origin}; style-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def render_page(public_url: str, widget_token: str) -> bytes:
    page = (SITE / "index.html").read_text("utf-8")
    page = page.replace("{{PARLOUR_URL}}", html.escape(public_url.rstrip("/")))
    return page.replace("{{WIDGET_TOKEN}}", html.escape(widget_token)).encode()


def serve_website(
    public_url: str, widget_token: str, *, host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    """Serves the page (and its stylesheet) on ``host:port`` from a daemon thread; the
    server's ``server_address`` has the port chosen. ``shutdown()`` stops it."""
    page = render_page(public_url, widget_token)
    css = (SITE / "site.css").read_bytes()
    csp = content_security_policy(public_url)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", page)
            elif path == "/site.css":
                self._send(200, "text/css; charset=utf-8", css)
            elif path == "/favicon.ico":
                self._send(204, "image/x-icon", b"")
            else:
                self._send(404, "text/plain; charset=utf-8", b"Not found\n")

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet, like the demo
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="demo-website", daemon=True).start()
    return server
