"""What the OpenAPI document says that FastAPI cannot see in the routes' signatures: every
operation's error answers, in the one error shape, and the channels this server serves.

An error answer is documented where it comes from. What every route of a kind can answer
follows from its shape (a path with an id: 404; a body: 413 and 422; a write: 409; every
route: 400 for a request HTTP itself refuses, 503 while the database is away). What a
dependency or an endpoint adds (401 from authentication, 429 from a rate limit, 502 from a
provider) is declared on that function with :func:`answers`, so a route that uses it
documents it without saying so itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Where parlour.edge refuses control characters in any query parameter, declared or not.
CHECKED_PATHS = ("/api/", "/widget/")

ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorOut",
    "type": "object",
    "description": "Every error answer: a stable code, a message, and what it is about.",
    "properties": {
        "code": {"type": "string", "title": "Code"},
        "message": {"type": "string", "title": "Message"},
        "details": {"title": "Details"},
    },
    "required": ["code", "message"],
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
RETRY_AFTER = {
    "description": "Seconds to wait before asking again.",
    "schema": {"type": "integer"},
}

# What each error status means here, with the codes it most often carries.
WHY: dict[int, str] = {
    400: (
        "The HTTP request itself is malformed (a header holding control characters, say): "
        "answered in plain text by the HTTP server, before the app reads it."
    ),
    401: (
        "Not authenticated: `not_authenticated` (no session or token), `invalid_token`, "
        "`bad_auth_header`."
    ),
    403: "Not allowed: `admin_only`, `csrf_failed` (a browser session's write without its token).",
    404: "`not_found` (or the object's own code): nothing with this id in this account.",
    409: "Conflicts with what is stored: `conflict` or the object's own code (`user_exists`, ...).",
    413: "`body_too_large`, `file_too_large`: the request is over the size limit.",
    415: "`unsupported_file_type`.",
    422: (
        "Refused input: `validation_error` (each field's problem in `details`), "
        "`control_characters`, `too_long`, `nested_too_deep`, `invalid_json` and "
        "`invalid_body` (a body that does not parse), or the rule's own code."
    ),
    429: "Too many requests: wait `Retry-After` seconds.",
    502: "A provider refused the request or could not be reached (its answer in `details`).",
    503: "`database_unavailable`: try again after `Retry-After` seconds.",
}
_WITH_RETRY_AFTER = frozenset({429, 503})
_PLAIN_TEXT = {"text/plain": {"schema": {"type": "string"}}}

# FastAPI's own validation error schemas: its handler is replaced (parlour.app), so they
# describe nothing that is ever sent.
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")

Answers = Mapping[int, str]
F = TypeVar("F", bound=Callable[..., Any])


def answers(*statuses: int | Answers, writes: tuple[int, ...] = ()) -> Callable[[F], F]:
    """Declares what a dependency or an endpoint can answer besides success: a status
    (described by :data:`WHY`) or ``{status: "what it means here"}``. ``writes``: what it
    answers only to writes (a browser session's CSRF check)."""

    def mark(fn: F) -> F:
        always: dict[int, str] = {}
        for status in statuses:
            always |= {status: ""} if isinstance(status, int) else dict(status)
        fn.__parlour_answers__ = (always, dict.fromkeys(writes, ""))  # type: ignore[attr-defined]
        return fn

    return mark


def document(app: FastAPI, *, channel_names: Callable[[], list[str]], pattern: str) -> None:
    """Adds the error answers to every operation of ``app``'s document, and the names of
    the channels wherever a value matches ``pattern`` (the schemas only know its shape:
    the registry decides which channels exist)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            for route in app.routes:
                if isinstance(route, APIRoute) and route.include_in_schema:
                    _add_errors(doc, route)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            schemas["ErrorOut"] = ERROR_SCHEMA
            for name in _FASTAPI_SCHEMAS:
                schemas.pop(name, None)
            _add_enum(doc, pattern, channel_names())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _add_errors(doc: dict[str, Any], route: APIRoute) -> None:
    for method in route.methods:
        operation = doc.get("paths", {}).get(route.path_format, {}).get(method.lower())
        if operation is None:
            continue
        found = dict(_by_shape(route, method, operation))
        for always, on_writes in _declared(route):
            found |= {s: why for s, why in always.items() if why or s not in found}
            if method in WRITES:
                found |= {s: why for s, why in on_writes.items() if why or s not in found}
        responses = operation.setdefault("responses", {})
        for status in sorted(found):
            answer = responses.setdefault(str(status), {})
            answer["description"] = found[status] or WHY[status]
            answer["content"] = _PLAIN_TEXT if status == 400 else ERROR_CONTENT
            if status in _WITH_RETRY_AFTER:
                answer.setdefault("headers", {})["Retry-After"] = RETRY_AFTER


def _by_shape(route: APIRoute, method: str, operation: dict[str, Any]) -> Iterator[tuple[int, str]]:
    has_body = "requestBody" in operation
    yield 400, ""
    if "{" in route.path_format:
        yield 404, ""
    if method in WRITES:
        # Any write can meet a row another writer stored meanwhile (parlour.app's
        # IntegrityError handler).
        yield 409, ""
    if has_body:
        yield 413, ""
    if has_body or operation.get("parameters") or route.path_format.startswith(CHECKED_PATHS):
        yield 422, ""
    if route.path_format != "/healthz":
        yield 503, ""


def _declared(route: APIRoute) -> Iterator[tuple[dict[int, str], dict[int, str]]]:
    for call in [route.endpoint, *_calls(route.dependant)]:
        marked = getattr(call, "__parlour_answers__", None)
        if marked is not None:
            yield marked


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _add_enum(node: Any, pattern: str, names: list[str]) -> None:
    if isinstance(node, dict):
        if node.get("pattern") == pattern:
            node["enum"] = names
        for value in node.values():
            _add_enum(value, pattern, names)
    elif isinstance(node, list):
        for value in node:
            _add_enum(value, pattern, names)
