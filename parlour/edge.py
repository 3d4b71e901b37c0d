"""What text may come in through the API, decided once, here, for every field and query
parameter rather than in each schema.

A JSON body that does not parse is refused with 422 ``invalid_json``, whatever its bytes.

Refused, with 422 and the code ``control_characters``: control characters (Unicode's Cc)
other than tab, line feed and carriage return, and unpaired surrogates (a JSON ``\\ud800``
escape with no partner). PostgreSQL cannot store NUL in text and SQLite's full-text search
reads it as the end of the query; a lone surrogate cannot be written as UTF-8 at all; the
other controls have no place in typed text and garble logs and terminals. Before this
check each reached the database and answered 500 on one backend or the other.

The check covers the path, every query parameter (names too) and every string of a JSON
body (keys too), for the agent API and the widget's. Provider webhooks are not checked
here: a provider's text is what the contact sent, and each channel keeps what it can of
it (``channels/sms/twilio.py`` drops NUL from a text's body).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
CHECKED_PREFIXES = ("/api/", "/widget/")
JSON_TYPES = ("application/json", "application/merge-patch+json")
METHODS_WITH_BODIES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def first_forbidden(value: Any) -> list[str | int] | None:
    """Where in a parsed JSON value the first forbidden character is (a path of keys and
    indexes, ``[]`` for the value itself), or None. Walked without recursion: a body nested
    thousands deep is still only a loop."""
    stack: list[tuple[list[str | int], Any]] = [([], value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if FORBIDDEN.search(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if FORBIDDEN.search(key):
                    return [*path, key]
                stack.append(([*path, key], child))
        elif isinstance(item, list):
            stack.extend(([*path, i], child) for i, child in enumerate(item))
    return None


def _refusal(where: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        {
            "code": "control_characters",
            "message": "Text may not contain control characters (other than tab and line "
            "breaks) or unpaired surrogates.",
            "details": [where],
        },
        status_code=422,
    )


class PlainText:
    """Refuses requests whose text holds what FORBIDDEN matches (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CHECKED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if FORBIDDEN.search(scope["path"]):
            await _refusal({"in": "path"})(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
            if FORBIDDEN.search(name) or FORBIDDEN.search(value):
                await _refusal({"in": "query", "name": name})(scope, receive, send)
                return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1")
        if scope["method"] not in METHODS_WITH_BODIES or ctype.lower() not in JSON_TYPES:
            await self.app(scope, receive, send)
            return
        # The whole body (BodyLimit, outside, has bounded it), then handed on as it came.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            parsed = json.loads(body) if body else None
        except RecursionError:
            await _refusal_deep()(scope, receive, send)
            return
        except ValueError as exc:
            # Not JSON, or not text at all (bytes that are no UTF-8 would otherwise reach
            # FastAPI's parser, which answers those alone with a 400).
            await _refusal_not_json(exc)(scope, receive, send)
            return
        where = first_forbidden(parsed)
        if where is not None:
            await _refusal({"in": "body", "path": where})(scope, receive, send)
            return
        await self.app(scope, _replay([body], None, receive), send)


def _refusal_not_json(exc: ValueError) -> JSONResponse:
    where = {"position": exc.pos} if isinstance(exc, json.JSONDecodeError) else {}
    return JSONResponse(
        {
            "code": "invalid_json",
            "message": "The body is not valid JSON (UTF-8 text).",
            "details": [{"in": "body", **where}],
        },
        status_code=422,
    )


def _refusal_deep() -> JSONResponse:
    return JSONResponse(
        {
            "code": "nested_too_deep",
            "message": "The JSON body is nested too deep.",
            "details": None,
        },
        status_code=422,
    )


def _replay(bodies: list[bytes], pending: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then what ``receive`` gives."""
    queue: list[Message] = [{"type": "http.request", "body": b, "more_body": False} for b in bodies]
    if pending is not None:
        queue.append(pending)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed
