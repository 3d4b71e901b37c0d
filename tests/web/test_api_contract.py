"""The web app's hand-written API types (web/src/api/types.ts) against the server's
OpenAPI document: every field the app reads or sends must exist on the server's side."""

from __future__ import annotations

import re

import httpx

from tests.web.server import WEB, DemoServer

# TypeScript interface → OpenAPI schema with the same shape.
SCHEMAS = [
    "UserOut",
    "PhoneOut",
    "EmailOut",
    "ContactOut",
    "NoteOut",
    "ContactDetailOut",
    "ContactBrief",
    "ConversationOut",
    "SenderOut",
    "AttachmentOut",
    "MessageOut",
    "MessagePage",
    "EndpointOption",
    "ChannelOption",
    "ChannelOptions",
    "ViewFilters",
    "ViewOut",
    "PhoneNumberOut",
    "MailboxOut",
    "WidgetOut",
    "TaskOut",
    "MessageIn",
    "ContactIn",
    "PhoneIn",
    "EmailIn",
]
INTERFACE = re.compile(r"export interface (\w+)(?: extends (\w+))?\s*\{(.*?)\n\}", re.S)
FIELD = re.compile(r"^\s*(\w+)\??:", re.M)


def ts_fields() -> dict[str, set[str]]:
    source = (WEB / "src" / "api" / "types.ts").read_text()
    raw = {m[1]: (m[2], set(FIELD.findall(m[3]))) for m in INTERFACE.finditer(source)}
    out: dict[str, set[str]] = {}
    for name, (parent, fields) in raw.items():
        out[name] = fields | (raw[parent][1] if parent in raw else set())
    return out


def test_every_field_the_app_uses_exists_in_the_openapi_document(demo: DemoServer) -> None:
    doc = httpx.get(f"{demo.url}/api/v1/openapi.json", timeout=10).json()
    schemas = doc["components"]["schemas"]
    mine = ts_fields()
    problems = []
    for name in SCHEMAS:
        assert name in mine, f"types.ts has no interface {name}"
        if name not in schemas:
            problems.append(f"{name}: not in the OpenAPI document")
            continue
        unknown = mine[name] - set(schemas[name].get("properties", {}))
        if unknown:
            problems.append(f"{name}: {sorted(unknown)} not on the server")
    assert problems == []
