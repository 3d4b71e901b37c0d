"""Web chat as a channel: the company's widget to the visitor's chat window. A reply is
stored for the visitor, who sees it live or as unread on their next visit."""

from __future__ import annotations

from sqlalchemy import select

from parlour.channels.webchat.delivery import OutgoingChat, StoredForVisitor
from parlour.channels.webchat.models import Widget
from parlour.contacts.models import Contact
from parlour.conversations.channel import (
    Author,
    Draft,
    LastUsed,
    Outgoing,
    Why,
    endpoint,
    no_copies,
    option,
    pick,
)
from parlour.conversations.models import Conversation, Message
from parlour.conversations.schemas import ChannelOption, EndpointNames
from parlour.db.tx import Tx
from parlour.outbox.delivery import PermanentFailure

NAME = "webchat"
ENDPOINT_NAMES = EndpointNames(sender="widget_id")

WEBCHAT_DISABLED = Why(
    "webchat_disabled", "The web-chat widget is not enabled. Enable it in Settings → Web chat."
)
NO_VISITOR = Why("no_webchat_visitor", "This contact has never chatted on the website.")


class WebchatChannel:
    name = NAME
    label = "Web Chat"
    endpoint_names = ENDPOINT_NAMES

    def __init__(self, delivery: StoredForVisitor) -> None:
        self.delivery = delivery

    async def sender_ids(self, tx: Tx, *, account_id: int) -> set[int]:
        return set(
            await tx.session.scalars(select(Widget.id).where(Widget.account_id == account_id))
        )

    async def option(
        self,
        tx: Tx,
        *,
        account_id: int,
        contact: Contact,
        thread: Conversation | None,
        last: LastUsed,
        sender_id: int | None,
    ) -> ChannelOption:
        widgets = list(
            await tx.session.scalars(
                select(Widget).where(Widget.account_id == account_id).order_by(Widget.id)
            )
        )
        senders = [
            endpoint(
                id=w.id,
                address=w.name,
                label=w.name,
                unavailable=None if w.enabled else WEBCHAT_DISABLED,
            )
            for w in widgets
        ]
        default_sender = pick(senders, last.sender_id)
        why = None
        if default_sender is None:
            why = WEBCHAT_DISABLED
        elif thread is None or NAME not in thread.channels.split():
            why = NO_VISITOR
        return option(
            NAME,
            senders=senders,
            recipients=[],
            unavailable=why,
            default_sender=default_sender,
            default_recipient=None,
            addressed=False,
        )

    async def check(self, tx: Tx, *, thread: Conversation, draft: Draft) -> Draft:
        no_copies(draft, self.label)
        return draft

    async def queued(self, tx: Tx, *, message: Message, author: Author, draft: Draft) -> None:
        return None

    async def outgoing(self, tx: Tx, *, message: Message) -> Outgoing:
        widget = await tx.session.get(Widget, message.endpoint_id or 0)
        if widget is None or widget.account_id != message.account_id:
            raise PermanentFailure(
                "The web-chat widget this was to be sent through was deleted.",
                code="sender_deleted",
            )
        chat = OutgoingChat(widget_id=widget.id, message_id=message.id, body=message.body)
        delivery = self.delivery
        return Outgoing(
            idempotent=delivery.idempotent,
            send=lambda key: delivery.send(chat, idempotency_key=key),
        )

    async def failed(self, tx: Tx, *, message: Message, error_code: str) -> None:
        return None
