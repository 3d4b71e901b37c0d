"""Raw MIME over HTTP: ``POST /webhooks/email/{mailbox_token}``, for relays that forward
incoming mail whole (Postmark, Mailgun, SendGrid's Inbound Parse set to "raw"). The
mailbox's secret token in the URL is the authentication, as those services offer no
signature over the raw mail that all of them share.

The body is the mail itself (``message/rfc822``, or any type but a form), or a form
with the mail in the field SendGrid (``email``) or Mailgun (``body-mime``) uses, or
Postmark's JSON with ``RawEmail``.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select

from parlour.channels.email import inbound
from parlour.channels.email.models import Mailbox
from parlour.errors import InvalidInput, NotFound
from parlour.runtime import runtime_of

router = APIRouter(prefix="/webhooks/email", tags=["webhooks"], include_in_schema=False)

# The form fields and JSON keys relays put the raw mail in.
FORM_FIELDS = ("email", "body-mime")
JSON_KEYS = ("RawEmail", "raw", "email")
# Starlette keeps form fields (not files) to 1 MB by default; a mail is bigger. The whole
# body is already held to the mail limit (parlour.app.BodyLimit).
MAX_FORM_FIELD = 64 * 1024 * 1024


class ReceivedOut(BaseModel):
    outcome: Literal["stored", "duplicate", "bounce", "ignored"]
    message_id: int | None


@router.post("/{mailbox_token}")
async def receive_raw(mailbox_token: str, request: Request) -> ReceivedOut:
    rt = runtime_of(request)
    async with rt.db.lookups() as conn:
        mailbox_id = (
            await conn.execute(
                select(Mailbox.id).where(Mailbox.inbound_token == mailbox_token[:64])
            )
        ).scalar()
    if mailbox_id is None:
        raise NotFound("No mailbox has this inbound address.", code="unknown_mailbox_token")
    raw = await _raw_mail(request)
    received = await inbound.receive(rt, mailbox_id=mailbox_id, raw=raw, via="http")
    return ReceivedOut(outcome=received.outcome, message_id=received.message_id)


async def _raw_mail(request: Request) -> bytes:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        async with request.form(max_part_size=MAX_FORM_FIELD) as form:
            for name in FORM_FIELDS:
                value = form.get(name)
                if isinstance(value, str):
                    return value.encode("utf-8", errors="surrogateescape")
                if value is not None:
                    return await value.read()
        raise _no_mail(f"the form has no {' or '.join(FORM_FIELDS)} field")
    body = await request.body()
    if ctype == "application/json":
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise _no_mail("the JSON does not parse") from exc
        raw = next((doc[k] for k in JSON_KEYS if isinstance(doc, dict) and k in doc), None)
        if not isinstance(raw, str):
            raise _no_mail(f"the JSON has no {' or '.join(JSON_KEYS)} string")
        return raw.encode("utf-8", errors="surrogateescape")
    if not body.strip():
        raise _no_mail("the body is empty")
    return body


def _no_mail(why: str) -> InvalidInput:
    return InvalidInput(
        f"No mail in the request: {why}.", code="no_mail", details={"field": "body"}
    )
