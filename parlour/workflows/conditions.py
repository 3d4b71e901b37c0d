"""Whether a workflow's conditions hold for a run: all of them must (an empty list holds).

Read when the run would start: at its event for most triggers, when the timer fires for
"no reply within", at each firing for a schedule — so a condition sees the thread as it is
when the workflow acts on it.
"""

from __future__ import annotations

import re
from typing import Any

from parlour.accounts import hours
from parlour.accounts.models import Account
from parlour.contacts.models import Contact
from parlour.conversations.models import Conversation
from parlour.db.tx import Tx
from parlour.workflows.models import Workflow


async def hold(
    tx: Tx,
    workflow: Workflow,
    *,
    conversation_id: int | None,
    contact_id: int | None,
    context: dict[str, Any],
) -> bool:
    if not workflow.conditions:
        return True
    return all(
        await outcomes(
            tx, workflow, conversation_id=conversation_id, contact_id=contact_id, context=context
        )
    )


async def outcomes(
    tx: Tx,
    workflow: Workflow,
    *,
    conversation_id: int | None,
    contact_id: int | None,
    context: dict[str, Any],
) -> list[bool]:
    """Whether each of the workflow's conditions holds, in order (a test run shows them)."""
    if not workflow.conditions:
        return []
    conv = await tx.session.get(Conversation, conversation_id) if conversation_id else None
    contact = await tx.session.get(Contact, contact_id) if contact_id else None
    if contact is not None:
        await tx.session.refresh(contact, ["phones", "emails", "tags"])
    account_zone = await _account_zone(tx, workflow.account_id)
    return [
        _holds(c, conv=conv, contact=contact, context=context, zone=account_zone)
        for c in workflow.conditions
    ]


async def _account_zone(tx: Tx, account_id: int) -> str:
    account = await tx.session.get(Account, account_id)
    return account.timezone if account else "UTC"


def _holds(
    cond: dict[str, Any],
    *,
    conv: Conversation | None,
    contact: Contact | None,
    context: dict[str, Any],
    zone: str,
) -> bool:
    field, op, value = cond.get("field"), cond.get("op"), cond.get("value")
    if field == "channel":
        channel = context.get("channel") or (conv.last_message_channel if conv else None)
        return (channel == value) == (op == "is")
    if field == "contact.tag":
        tags = {t.tag for t in contact.tags} if contact else set()
        return (value in tags) == (op == "has")
    if field in ("contact.name", "contact.company", "contact.email", "contact.phone"):
        return _text_holds(op, _contact_values(contact, field), str(value or ""))
    if field == "conversation.status":
        return conv is not None and conv.status == value
    if field == "conversation.assignee":
        assignee = conv.assignee_id if conv else None
        if op == "is_set":
            return assignee is not None
        if op == "is_not_set":
            return assignee is None
        return (assignee == value) == (op == "is")
    if field == "office_hours":
        inside = hours.within(cond.get("hours") or {}, cond.get("timezone") or zone)
        return inside == (op == "within")
    if field == "message.text":
        text = str(context.get("text") or "")
        if op == "matches":
            return re.search(str(value), text) is not None
        return str(value).casefold() in text.casefold()
    return False  # a condition this version does not know never holds


def _contact_values(contact: Contact | None, field: str) -> list[str]:
    if contact is None:
        return []
    if field == "contact.name":
        return [contact.name] if contact.name else []
    if field == "contact.company":
        return [contact.company] if contact.company else []
    if field == "contact.email":
        return [e.address for e in contact.emails]
    return [p.e164 for p in contact.phones]


def _text_holds(op: Any, values: list[str], wanted: str) -> bool:
    if op == "is_set":
        return bool(values)
    if op == "is_not_set":
        return not values
    if op == "is":
        return any(v.casefold() == wanted.casefold() for v in values)
    return any(wanted.casefold() in v.casefold() for v in values)
