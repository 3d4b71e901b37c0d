"""Web-chat widgets, as the API shows and takes them."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from parlour.accounts.hours import OfficeHours, TimeZone
from parlour.channels.webchat.models import Widget
from parlour.types import Name

Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Origin = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^https?://[^/\s]+$")
]
Greeting = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
OfflineMode = Literal["never", "office_hours", "no_agent_online"]


class WidgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    enabled: bool = True
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=20)
    greeting: Greeting = ""
    color: Color = "#4f46e5"
    offline_mode: OfflineMode = "never"
    office_hours: OfficeHours = Field(default_factory=dict)
    timezone: TimeZone = "UTC"


class WidgetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    enabled: bool | None = None
    allowed_origins: list[Origin] | None = Field(default=None, max_length=20)
    greeting: Greeting | None = None
    color: Color | None = None
    offline_mode: OfflineMode | None = None
    office_hours: OfficeHours | None = None
    timezone: TimeZone | None = None


class IdentitySecretOut(BaseModel):
    identity_secret: str


class WidgetOut(BaseModel):
    id: int
    name: str
    public_token: str
    enabled: bool
    allowed_origins: list[str]
    greeting: str
    color: str
    offline_mode: OfflineMode
    office_hours: dict[str, list[str]]
    timezone: str
    embed_snippet: str

    @classmethod
    def from_model(cls, w: Widget, *, public_url: str) -> WidgetOut:
        src = json.dumps(f"{public_url.rstrip('/')}/widget.js")
        snippet = f'<script async src={src} data-parlour-widget="{w.public_token}"></script>'
        return cls(
            id=w.id,
            name=w.name,
            public_token=w.public_token,
            enabled=w.enabled,
            allowed_origins=list(w.allowed_origins or []),
            greeting=w.greeting,
            color=w.color,
            offline_mode=w.offline_mode or "never",
            office_hours=dict(w.office_hours or {}),
            timezone=w.timezone or "UTC",
            embed_snippet=snippet,
        )
