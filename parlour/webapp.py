"""The built web app and chat widget (parlour/static/), served as a production server would.

The build (web/vite.config.ts, web/widget/scripts/build.mjs) writes a ``.br`` and a
``.gz`` twin beside each file; an answer sends the twin the browser's Accept-Encoding
prefers, with the file's own type, or the file itself when it accepts neither. Hashed
files are cached for a year, index.html and the widget's loader are checked again.

We compared ServeStatic (WhiteNoise for ASGI): it does the same choice of twins, but as a
second layer of routing over the app with its own idea of which files are hashed, and the
widget's CORS header and the app's CSP would still be ours to add. Starlette's
FileResponse already sends Content-Length, ETag, Last-Modified, ranges and HEAD; what it
lacks is only the choice of twin, which is the few lines below.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parlour.config import Settings

APP_CSP = (
    # Remote images only ever appear in a received email's sandboxed frame, whose own
    # policy blocks them until the agent allows them (web/src/components/Thread).
    "default-src 'self'; img-src 'self' data: blob: https: http:; "
    "style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; connect-src 'self' ws: wss:; frame-src 'self' blob: data:; "
    # The agent app is never shown inside another site's frame (clickjacking); the
    # visitors' widget is a script on the host page, not a frame, so this does not touch it.
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# The inbox's addresses name conversations and its host is often private: other sites
# the agent follows a link to (from an email, say) learn neither.
REFERRER_POLICY = "same-origin"
IMMUTABLE = "public, max-age=31536000, immutable"
# Preferred first when the browser weighs them alike: brotli is about 10% smaller.
TWINS = (("br", ".br"), ("gzip", ".gz"))
TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".woff2": "font/woff2",
}
# A file name without a directory or a leading dot: nothing outside the folder is named.
ASSET_NAME = re.compile(r"[\w-]+(?:\.[\w-]+)+")
WIDGET_CHUNK = re.compile(r"[\w-]+\.js")
CORS_ANY = {"Access-Control-Allow-Origin": "*"}


def accepted_codings(accept_encoding: str) -> dict[str, float]:
    """Each coding of an Accept-Encoding header and its weight (RFC 9110 §12.5.3)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if not coding:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        coding = coding.lower()
        weights["gzip" if coding == "x-gzip" else coding] = weight
    return weights


def choose_twin(path: Path, accept_encoding: str) -> tuple[Path, str | None]:
    """The file to send for ``path`` and its Content-Encoding (None: the file itself)."""
    weights = accepted_codings(accept_encoding)
    best: tuple[float, Path, str | None] = (0.0, path, None)
    for coding, suffix in TWINS:
        weight = weights.get(coding, weights.get("*", 0.0))
        twin = path.with_name(path.name + suffix)
        if weight > best[0] and twin.is_file():
            best = (weight, twin, coding)
    return best[1], best[2]


def media_type(path: Path) -> str:
    return (
        TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def file_answer(request: Request, path: Path, headers: dict[str, str]) -> Response:
    """``path`` (or its twin the request accepts), with ``headers``; 304 when the
    browser's copy is current."""
    sent, coding = choose_twin(path, request.headers.get("accept-encoding", ""))
    all_headers = {**headers, "Vary": "Accept-Encoding", "X-Content-Type-Options": "nosniff"}
    if coding:
        all_headers["Content-Encoding"] = coding
    answer = FileResponse(
        sent, media_type=media_type(path), headers=all_headers, stat_result=sent.stat()
    )
    if answer.headers["etag"] in _etags(request.headers.get("if-none-match", "")):
        kept = {k: v for k, v in answer.headers.items() if k not in ("content-length",)}
        return Response(status_code=304, headers=kept)
    return answer


def _etags(if_none_match: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


def html_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": APP_CSP,
        "Referrer-Policy": REFERRER_POLICY,
        "X-Content-Type-Options": "nosniff",
    }


def not_found() -> Response:
    return JSONResponse(
        {"code": "not_found", "message": "Not Found", "details": None}, status_code=404
    )


def mount(app: FastAPI, settings: Settings) -> None:
    """The agent app at ``/`` (and any path that is not the API's), its files at
    ``/assets/``, and the widget at ``/widget.js`` and ``/widget/assets/``. Files are
    looked up per request, so that a build made while the server runs is served."""
    app_dir = settings.static_dir / "app"
    widget_dir = settings.static_dir / "widget"
    get = ["GET", "HEAD"]

    async def app_asset(request: Request, name: str) -> Response:
        asset = app_dir / "assets" / name
        if not ASSET_NAME.fullmatch(name) or name.endswith((".br", ".gz")) or not asset.is_file():
            return not_found()
        return file_answer(request, asset, {"Cache-Control": IMMUTABLE})

    # The loader is at the snippet's fixed URL: a short cache, so a deploy takes effect
    # on customers' sites within minutes. Any site may load it (CORS for error reports).
    async def widget_loader(request: Request) -> Response:
        loader = widget_dir / "widget.js"
        if not loader.is_file():
            return JSONResponse(
                {"code": "not_found", "message": "The widget is not built.", "details": None},
                status_code=404,
            )
        return file_answer(request, loader, {"Cache-Control": "public, max-age=300", **CORS_ANY})

    async def widget_asset(request: Request, name: str) -> Response:
        asset = widget_dir / "assets" / name
        if not WIDGET_CHUNK.fullmatch(name) or not asset.is_file():
            return not_found()
        return file_answer(request, asset, {"Cache-Control": IMMUTABLE, **CORS_ANY})

    async def web_app(request: Request, path: str) -> Response:
        if path.startswith(("api/", "webhooks/", "widget/", "assets/")):
            return not_found()
        index = app_dir / "index.html"
        if not index.is_file():
            return HTMLResponse(
                "<h1>Parlour</h1><p>The web app is not built. Run <code>make setup</code>.</p>",
                status_code=503,
                headers=html_headers(),
            )
        # no-cache: checked on every load (a 304 when unchanged), so a deploy's new
        # hashed files are picked up at once.
        return file_answer(request, index, {"Cache-Control": "no-cache", **html_headers()})

    for path, endpoint in (
        ("/assets/{name}", app_asset),
        ("/widget.js", widget_loader),
        ("/widget/assets/{name}", widget_asset),
        ("/{path:path}", web_app),
    ):
        app.add_api_route(path, endpoint, methods=get, include_in_schema=False)


class SecurityHeaders:
    """``X-Content-Type-Options: nosniff`` on every answer (a JSON error is never run as
    a script or shown as a page), and on HTML answers that set no policy of their own
    (the API's docs page) a Referrer-Policy and ``frame-ancestors 'none'``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", []))
                headers = MutableHeaders(raw=message["headers"])
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
                    headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
            await send(message)

        await self.app(scope, receive, send_with_headers)
