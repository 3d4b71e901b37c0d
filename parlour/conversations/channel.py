"""The one interface every channel implements. The conversation core knows no channel by
name: it asks the channel what the composer may offer, whether a draft is acceptable, and
how to hand a queued message to its provider.

A channel lives in its own folder (``parlour/channels/<name>/channel.py``) and is listed
once in ``parlour/channels/registry.py``; ``docs/adding-a-channel.md`` walks through it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from parlour.accounts.models import User
from parlour.contacts.models import Contact
from parlour.conversations.models import Conversation, Message
from parlour.conversations.schemas import ChannelOption, EndpointNames, EndpointOption
from parlour.db.tx import Tx
from parlour.errors import InvalidInput
from parlour.outbox.delivery import PermanentFailure, ProviderReceipt


@dataclass(frozen=True)
class Why:
    """Why an option is unavailable: a stable code and the text the composer shows."""

    code: str
    text: str


@dataclass(frozen=True)
class Author:
    """Who sends an outbound message: an employee, or a workflow acting as the bot."""

    kind: str  # "user" | "bot"
    user_id: int | None = None
    workflow_id: int | None = None
    workflow_name: str | None = None
    # The workflow's run that sends it.
    run_id: int | None = None

    @classmethod
    def user(cls, user: User) -> Author:
        return cls(kind="user", user_id=user.id)

    @classmethod
    def bot(
        cls, *, workflow_name: str, workflow_id: int | None = None, run_id: int | None = None
    ) -> Author:
        return cls(kind="bot", workflow_id=workflow_id, workflow_name=workflow_name, run_id=run_id)


@dataclass(frozen=True)
class Draft:
    """An outbound message as its author wrote it. ``sender_id`` / ``recipient_id``: the
    company and contact endpoints chosen, or None for the channel's default."""

    body: str
    html: str | None = None
    subject: str | None = None
    attachment_ids: tuple[int, ...] = ()
    sender_id: int | None = None
    recipient_id: int | None = None
    client_id: str | None = None
    # More recipients (email): shown to the others (cc) or not (bcc).
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()


@dataclass(frozen=True)
class LastUsed:
    """The endpoints of the thread's newest message on a channel: the composer's defaults."""

    sender_id: int | None = None
    recipient_id: int | None = None


@dataclass(frozen=True)
class Outgoing:
    """How to hand one queued message to its provider, built from plain values.

    ``idempotent``: the provider takes ``send``'s key and never delivers twice for it.
    ``lookup``: for a provider without keys, what it already holds for this message (after
    a crash mid-send); None when it cannot tell.
    """

    idempotent: bool
    send: Callable[[str], Awaitable[ProviderReceipt]]
    lookup: Callable[[], Awaitable[list[ProviderReceipt]]] | None = None


# Records, in the worker's transaction, what a provider said of a sent message now: the
# same path as the channel's delivery callbacks (statuses, events, what a failure implies).
RecordStatus = Callable[[Tx, Message], Awaitable[None]]
# The provider call (no database) that tells where a sent message is now.
StatusLookup = Callable[[], Awaitable[RecordStatus]]


@runtime_checkable
class ChecksStatus(Protocol):
    """A channel that can ask its provider where a sent message is, for when a delivery
    callback was lost (an outage, a killed process). Optional: the worker asks only the
    channels that have it, and only about messages still "sent" after
    ``status_check_after_seconds``."""

    async def status_lookup(self, tx: Tx, *, message: Message) -> StatusLookup | None:
        """The provider call for ``message``, or None when its provider cannot tell (the
        worker then stops asking). The call raises DeliveryError: TransientFailure to be
        asked again later, PermanentFailure to stop asking."""
        ...


class Channel(Protocol):
    # Stored in ``messages.channel`` and ``conversations.channels``; never renamed.
    name: str
    # Shown as the name of its built-in panel view.
    label: str
    # Its endpoints' older names in the API (MessageIn, MessageOut).
    endpoint_names: EndpointNames

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
        """What the composer may offer ``contact`` here, and why an option is unavailable.
        ``sender_id``: the company endpoint the user chose (a number's opt-outs)."""
        ...

    async def sender_ids(self, tx: Tx, *, account_id: int) -> set[int]:
        """The account's company endpoints here (numbers, mailboxes, widgets): what a
        workflow's step may send from."""
        ...

    async def check(self, tx: Tx, *, thread: Conversation, draft: Draft) -> Draft:
        """The draft as this channel sends it (a subject filled in, say), or InvalidInput."""
        ...

    async def queued(self, tx: Tx, *, message: Message, author: Author, draft: Draft) -> None:
        """Called once a message is stored and queued (email opens its Email Task)."""
        ...

    async def outgoing(self, tx: Tx, *, message: Message) -> Outgoing:
        """The provider call for a queued message. Raises DeliveryError when no provider
        can take it (its endpoint deleted, its provider not configured here)."""
        ...

    async def failed(self, tx: Tx, *, message: Message, error_code: str) -> None:
        """Called once a message failed for good (a carrier's opt-out code, say)."""
        ...


class UnknownChannel(InvalidInput):
    code = "unknown_channel"


class Channels:
    """The channels this process serves, by stored name, in the composer's order."""

    def __init__(self, channels: Iterable[Channel]) -> None:
        self._by_name = {c.name: c for c in channels}

    def __getitem__(self, name: str) -> Channel:
        channel = self._by_name.get(name)
        if channel is None:
            raise UnknownChannel(
                f"There is no channel '{name}'.",
                details={"field": "channel", "channels": list(self._by_name)},
            )
        return channel

    def get(self, name: str) -> Channel | None:
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def endpoint_names(self, name: str) -> EndpointNames:
        """The older API names of channel ``name``'s endpoints; none for a channel that
        stored messages once but is not served by this process."""
        channel = self._by_name.get(name)
        return channel.endpoint_names if channel else _NO_NAMES


_NO_NAMES = EndpointNames()


P = TypeVar("P")


def configured(providers: Mapping[str, P], name: str) -> P:
    """The provider a record names, or a failure the agent reads: never a stand-in."""
    provider = providers.get(name)
    if provider is None:
        raise PermanentFailure(
            f"Sending through '{name}' is not configured on this server.",
            code="provider_not_configured",
        )
    return provider


def no_copies(draft: Draft, channel_label: str) -> None:
    """Refuses Cc and Bcc on a channel that has one recipient."""
    if draft.cc or draft.bcc:
        raise InvalidInput(
            f"Cc and Bcc are for email; a {channel_label} message has one recipient.",
            code="copies_not_supported",
            details={"field": "cc" if draft.cc else "bcc"},
        )


def sender_deleted(what: str) -> PermanentFailure:
    """The failure of a message whose company endpoint (``what``: "company number",
    "mailbox") is gone."""
    return PermanentFailure(
        f"The {what} this was to be sent from was deleted. "
        f"Choose another {what.split()[-1]} and send again.",
        code="sender_deleted",
    )


def pick(options: list[EndpointOption], preferred: int | None) -> int | None:
    """The endpoint to default to: ``preferred`` if usable, else the first usable one."""
    usable = [o.id for o in options if o.usable]
    if preferred in usable:
        return preferred
    return usable[0] if usable else None


def endpoint(
    *, id: int, address: str, label: str, unavailable: Why | None = None
) -> EndpointOption:
    return EndpointOption(
        id=id,
        address=address,
        label=label,
        usable=unavailable is None,
        reason=unavailable.text if unavailable else None,
        reason_code=unavailable.code if unavailable else None,
    )


def option(
    channel: str,
    *,
    senders: list[EndpointOption],
    recipients: list[EndpointOption],
    unavailable: Why | None,
    default_sender: int | None,
    default_recipient: int | None,
    addressed: bool = True,
    recipient_problem: bool = False,
) -> ChannelOption:
    """``recipient_problem``: ``unavailable`` concerns the contact's endpoints only, so an
    endpoint the user chose is judged (and refused) with its own reason."""
    return ChannelOption(
        channel=channel,
        available=unavailable is None,
        reason=unavailable.text if unavailable else None,
        reason_code=unavailable.code if unavailable else None,
        senders=senders,
        recipients=recipients,
        default_sender_id=default_sender,
        default_recipient_id=default_recipient,
        addressed=addressed,
        recipient_problem=recipient_problem,
    )
