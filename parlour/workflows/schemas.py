"""Workflows as the API shows and takes them: one trigger, conditions, ordered steps.

Each part is a small model told apart by its ``type`` (or ``field``), so a workflow the API
accepted is one the engine can run: nothing is re-checked there but what may have changed
since (a user deactivated, a number removed), which fails the run with the reason.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from cronsim import CronSim, CronSimError
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from parlour.accounts.hours import OfficeHours, TimeZone
from parlour.conversations.subjects import OneLine
from parlour.db.base import utcnow
from parlour.types import ChannelName, Id, LongText, Name, ShortText
from parlour.workflows.models import Workflow, WorkflowRun

# A month: a longer timer is a schedule's job.
MAX_MINUTES = 43_200
MAX_STEPS = 50
MAX_CONDITIONS = 20


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from exc
    return value


def _cron(value: str) -> str:
    try:
        next(CronSim(value, utcnow()))
    except (CronSimError, ValueError) as exc:
        raise ValueError(f"not a cron expression that ever fires: {exc}") from exc
    except StopIteration as exc:
        raise ValueError("this cron expression never fires") from exc
    return value


Pattern = Annotated[str, StringConstraints(max_length=500), AfterValidator(_pattern)]
Cron = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(_cron)
]
Minutes = Annotated[float, Field(gt=0, le=MAX_MINUTES)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]

# --- Triggers -------------------------------------------------------------------------


class MessageReceived(Part):
    """A contact's message; optionally only on one channel, or only one that contains any
    of ``keywords`` (whole words, any case) or matches ``pattern``."""

    type: Literal["message_received"]
    channel: ChannelName | None = None
    keywords: Annotated[list[Keyword], Field(max_length=50)] = []
    pattern: Pattern | None = None


class ConversationOpened(Part):
    """A contact's first message in their thread."""

    type: Literal["conversation_opened"]
    channel: ChannelName | None = None


class ContactCreated(Part):
    type: Literal["contact_created"]


class ConversationAssigned(Part):
    """Assigned to someone (``user_id``: only to them)."""

    type: Literal["conversation_assigned"]
    user_id: Id | None = None


class ConversationClosed(Part):
    type: Literal["conversation_closed"]


class TagAdded(Part):
    type: Literal["tag_added"]
    tag: Tag


class NoAgentReply(Part):
    """A contact's message has had no reply from an agent for ``minutes``."""

    type: Literal["no_agent_reply"]
    minutes: Minutes


class NoContactReply(Part):
    """An outbound message has had no answer from the contact for ``minutes``."""

    type: Literal["no_contact_reply"]
    minutes: Minutes


class Schedule(Part):
    """At the times of ``cron`` (minute hour day month weekday) in ``timezone`` (the
    account's when left out), once for each open conversation the conditions accept."""

    type: Literal["schedule"]
    cron: Cron
    timezone: TimeZone | None = None


Trigger = Annotated[
    MessageReceived
    | ConversationOpened
    | ContactCreated
    | ConversationAssigned
    | ConversationClosed
    | TagAdded
    | NoAgentReply
    | NoContactReply
    | Schedule,
    Field(discriminator="type"),
]
TIMERS = ("no_agent_reply", "no_contact_reply")

# --- Conditions -----------------------------------------------------------------------


class ChannelIs(Part):
    """The channel of the message that started the run (or the thread's last one)."""

    field: Literal["channel"]
    op: Literal["is", "is_not"]
    value: ChannelName


class ContactTag(Part):
    field: Literal["contact.tag"]
    op: Literal["has", "has_not"]
    value: Tag


class ContactField(Part):
    field: Literal["contact.name", "contact.company", "contact.email", "contact.phone"]
    op: Literal["is", "contains", "is_set", "is_not_set"]
    value: ShortText = ""


class ConversationStatus(Part):
    field: Literal["conversation.status"]
    op: Literal["is"]
    value: Literal["open", "closed"]


class ConversationAssignee(Part):
    field: Literal["conversation.assignee"]
    op: Literal["is", "is_not", "is_set", "is_not_set"]
    value: Id | None = None


class OfficeHoursCondition(Part):
    field: Literal["office_hours"]
    op: Literal["within", "outside"]
    hours: OfficeHours
    timezone: TimeZone | None = None


class MessageText(Part):
    field: Literal["message.text"]
    op: Literal["contains", "matches"]
    value: Annotated[str, StringConstraints(min_length=1, max_length=500)]


Condition = Annotated[
    ChannelIs
    | ContactTag
    | ContactField
    | ConversationStatus
    | ConversationAssignee
    | OfficeHoursCondition
    | MessageText,
    Field(discriminator="field"),
]

# --- Steps ----------------------------------------------------------------------------


class SendMessage(Part):
    """Send ``body`` as the bot. ``channel``: the one the run's message came on (or the
    thread's last) when left out; ``sender_id``: the company number, mailbox or widget,
    the channel's default when left out. ``{{contact.name}}`` and
    ``{{contact.first_name}}`` in the body are filled in."""

    type: Literal["send_message"]
    body: Annotated[LongText, StringConstraints(min_length=1)]
    channel: ChannelName | None = None
    sender_id: Id | None = None
    subject: Annotated[ShortText, OneLine] | None = None


class Assign(Part):
    """To ``user_id``, or to the next active agent in turn (``round_robin``)."""

    type: Literal["assign"]
    user_id: Id | None = None
    round_robin: bool = False

    @model_validator(mode="after")
    def _one_way(self) -> Assign:
        if (self.user_id is not None) != self.round_robin:
            return self
        raise ValueError("give either user_id or round_robin: true")


class AddTag(Part):
    type: Literal["tag"]
    tag: Tag


class RemoveTag(Part):
    type: Literal["untag"]
    tag: Tag


class Close(Part):
    type: Literal["close"]


class Reopen(Part):
    type: Literal["reopen"]


class CreateTask(Part):
    """A to-do for ``user_id`` (the conversation's assignee, else the workflow's author,
    when left out)."""

    type: Literal["create_task"]
    title: Name
    user_id: Id | None = None


class CallWebhook(Part):
    """Send the run (its workflow, thread, contact and what started it) to one of the
    account's webhook endpoints, as a "workflow.called" event: signed and retried like
    every delivery."""

    type: Literal["call_webhook"]
    endpoint_id: Id


class Wait(Part):
    """Wait ``minutes``; with ``until`` "contact_replies" the wait ends early when the
    contact writes (and the run's later steps see that they did)."""

    type: Literal["wait"]
    minutes: Minutes
    until: Literal["contact_replies"] | None = None


Step = Annotated[
    SendMessage | Assign | AddTag | RemoveTag | Close | Reopen | CreateTask | CallWebhook | Wait,
    Field(discriminator="type"),
]


class WorkflowIn(Part):
    name: Name
    enabled: bool = True
    trigger: Trigger
    conditions: Annotated[list[Condition], Field(max_length=MAX_CONDITIONS)] = []
    steps: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)]


class WorkflowPatch(Part):
    name: Name | None = None
    enabled: bool | None = None
    trigger: Trigger | None = None
    conditions: Annotated[list[Condition], Field(max_length=MAX_CONDITIONS)] | None = None
    steps: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)] | None = None


class WorkflowOut(BaseModel):
    id: int
    name: str
    enabled: bool
    trigger: dict[str, Any]
    conditions: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    # Why it was paused (it failed again and again); None while it runs as it should.
    paused_reason: str | None
    next_fire_at: datetime | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, w: Workflow) -> WorkflowOut:
        return cls(
            id=w.id,
            name=w.name,
            enabled=w.enabled,
            trigger=dict(w.trigger),
            conditions=list(w.conditions or []),
            steps=list(w.steps or []),
            paused_reason=w.paused_reason,
            next_fire_at=w.next_fire_at,
            created_by=w.created_by,
            created_at=w.created_at,
            updated_at=w.updated_at,
        )


class RunOut(BaseModel):
    id: int
    workflow_id: int
    conversation_id: int | None
    contact_id: int | None
    status: Literal["waiting", "running", "completed", "cancelled", "failed"]
    step: int
    due_at: datetime
    waiting_for: str | None
    log: list[dict[str, Any]]
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_model(cls, r: WorkflowRun) -> RunOut:
        return cls(
            id=r.id,
            workflow_id=r.workflow_id,
            conversation_id=r.conversation_id,
            contact_id=r.contact_id,
            status=r.status,
            step=r.step,
            due_at=r.due_at,
            waiting_for=r.waiting_for,
            log=list(r.log or []),
            error=r.error,
            created_at=r.created_at,
            finished_at=r.finished_at,
        )
