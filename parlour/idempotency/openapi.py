"""The OpenAPI document names ``Idempotency-Key`` on the routes that honour it, and the
answers it adds there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from parlour.idempotency.http import HEADER, REPLAYED
from parlour.idempotency.service import KEEP_KEYS
from parlour.openapi import ERROR_CONTENT, RETRY_AFTER

WRITES = ("POST", "PUT", "PATCH", "DELETE")
_HOURS = int(KEEP_KEYS.total_seconds() // 3600)

PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        f"Makes a retry safe: the same key with the same request within {_HOURS} hours "
        "gets the first answer again (with `Idempotent-Replayed: true`) and changes nothing. "
        "A key is the caller's own; a UUID per request is a good one."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
IN_USE = (
    "`idempotency_key_in_use`: a request with this key has no answer yet (it is still "
    "running, or it failed after its changes were stored). Its effect, if any, was not "
    "repeated; try again after `Retry-After` seconds."
)
REFUSED_KEY = (
    "`invalid_idempotency_key`: the key is not 1 to 255 visible ASCII characters; "
    "`idempotency_key_reused`: the key was sent before with another request."
)


def document(app: FastAPI, *, through: Callable[..., Any]) -> None:
    """Documents the header on the writes whose caller is authenticated by ``through``
    (where ``http.claim_key`` runs)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            for route in app.routes:
                if not isinstance(route, APIRoute) or not _depends_on(route.dependant, through):
                    continue
                for method in route.methods & set(WRITES):
                    operation = doc.get("paths", {}).get(route.path_format, {}).get(method.lower())
                    if operation is not None:
                        _add(operation)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _add(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(PARAMETER)
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        if status.startswith("2"):
            response.setdefault("headers", {})[REPLAYED] = {
                "description": "`true` when this is the kept answer to an earlier request.",
                "schema": {"type": "string", "enum": ["true"]},
            }
    for status, text in (("409", IN_USE), ("422", REFUSED_KEY)):
        response = responses.setdefault(status, {"description": "", "content": ERROR_CONTENT})
        response["description"] = " ".join(filter(None, [response["description"], text]))
    responses["409"].setdefault("headers", {})["Retry-After"] = RETRY_AFTER
