"""The events pushed to agents (WebSocket) and, later, to outgoing webhooks.

Names are ``noun.verb``. Every event belongs to one account and travels on the topic
``account:{id}``; ``seq`` is the account's event sequence, assigned at commit, so a client
that reconnects can ask for what it missed (``/api/v1/ws?since=<seq>``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

EventType = Literal[
    "message.created",
    "message.updated",
    "conversation.updated",
    "conversation.read",
    "contact.updated",
    "contact.deleted",
    # Someone is typing in a thread (``data``: conversation_id, from "visitor" | "user",
    # name). Published, never stored: one missed is not worth replaying.
    "typing",
]


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: EventType
    account_id: int
    seq: int = 0
    data: dict[str, Any]

    @property
    def topic(self) -> str:
        return account_topic(self.account_id)


def account_topic(account_id: int) -> str:
    return f"account:{account_id}"
