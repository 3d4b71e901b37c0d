"""The OpenAPI document tells a client every error answer an operation can give, in the
one error shape the API sends (schemathesis, in tests/test_api_fuzz.py, checks that the
live answers keep to it)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

API = "/api/v1"
WRITES = ("post", "put", "patch", "delete")


@pytest.fixture
async def doc(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get(f"{API}/openapi.json")
    assert answer.status_code == 200
    return dict(answer.json())


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def errors_of(doc: dict[str, Any], path: str, method: str) -> set[int]:
    responses = doc["paths"][path][method]["responses"]
    return {int(status) for status in responses if not status.startswith("2")}


async def test_every_error_answer_has_the_error_shape(doc: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, _method, op in operations(doc):
        for status, response in op["responses"].items():
            if status.startswith("2"):
                continue
            assert response["description"], (path, status)
            if status == "400":
                # Answered by the HTTP server, not the app: it has no JSON to give.
                assert set(response["content"]) == {"text/plain"}, path
                continue
            assert response["content"]["application/json"]["schema"] == error, (path, status)
            assert response["description"], (path, status)
    assert set(doc["components"]["schemas"]["ErrorOut"]["required"]) == {"code", "message"}
    # FastAPI's own validation shape is never sent: it is not in the document either.
    assert "HTTPValidationError" not in str(doc)


async def test_each_operation_lists_what_its_shape_can_answer(doc: dict[str, Any]) -> None:
    for path, method, _ in operations(doc):
        errors = errors_of(doc, path, method)
        assert 400 in errors, (path, method)
        if path != "/healthz":
            assert 503 in errors, (path, method)
        if not path.startswith((API, "/widget/")):
            continue
        assert 422 in errors, (path, method)
        if "{" in path:
            assert 404 in errors, (path, method)
        if method in WRITES:
            assert 409 in errors, (path, method)
        if path.startswith(API) and path != f"{API}/auth/login":
            assert 401 in errors, (path, method)
    assert 413 in errors_of(doc, f"{API}/contacts", "post")
    assert 413 not in errors_of(doc, f"{API}/contacts", "get")
    unavailable = doc["paths"][f"{API}/contacts"]["get"]["responses"]["503"]
    assert "Retry-After" in unavailable["headers"]


async def test_refusals_are_listed_where_they_can_happen(doc: dict[str, Any]) -> None:
    # A member may read contacts but not a webhook's signing secret.
    assert 403 not in errors_of(doc, f"{API}/contacts", "get")
    assert 403 in errors_of(doc, f"{API}/webhooks/{{endpoint_id}}/secret", "get")
    # A browser session's write needs its CSRF token.
    assert 403 in errors_of(doc, f"{API}/contacts", "post")
    assert 404 not in errors_of(doc, f"{API}/contacts", "get")
    assert 404 in errors_of(doc, f"{API}/contacts/lookup", "get")  # no id, but a miss
    assert 404 in errors_of(doc, f"{API}/conversations", "get")  # ?view= of no view


async def test_rate_limits_and_providers_are_listed(doc: dict[str, Any]) -> None:
    login = doc["paths"][f"{API}/auth/login"]["post"]["responses"]
    assert {"401", "429"} <= set(login)
    assert "bad_credentials" in login["401"]["description"]
    assert "Retry-After" in login["429"]["headers"]
    assert 429 in errors_of(doc, f"{API}/users/{{user_id}}", "patch")  # password guesses
    for path, method, _ in operations(doc):
        if path.startswith("/widget/"):
            assert 429 in errors_of(doc, path, method), path
            assert 403 in errors_of(doc, path, method), path  # another website
    visitor = doc["paths"]["/widget/v1/messages"]["get"]["responses"]["401"]
    assert "visitor_token_invalid" in visitor["description"]
    assert 401 not in errors_of(doc, "/widget/v1/{public_token}/config", "get")
    assert 415 in errors_of(doc, "/widget/v1/attachments", "post")
    test_email = doc["paths"][f"{API}/mailboxes/{{mailbox_id}}/test-email"]["post"]["responses"]
    assert "relay_refused" in test_email["502"]["description"]
    assert "no_relay" in test_email["409"]["description"]
    assert 502 in errors_of(doc, f"{API}/sms/providers/twilio", "put")
    assert 409 in errors_of(doc, f"{API}/sms/providers/twilio/numbers", "get")  # not connected
    assert "not_ready" in doc["paths"]["/readyz"]["get"]["responses"]["503"]["description"]
