"""The providers this process delivers through, chosen by settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from parlour.channels.email.console import ConsoleEmail
from parlour.channels.email.provider import EmailProvider
from parlour.channels.sms.provider import SmsProvider
from parlour.channels.sms.providers import make_sms_providers
from parlour.channels.webchat.delivery import StoredForVisitor
from parlour.config import Settings


@dataclass
class Providers:
    # Keyed by the ``provider`` name stored on a phone number or mailbox.
    sms: dict[str, SmsProvider] = field(default_factory=dict)
    email: dict[str, EmailProvider] = field(default_factory=dict)
    webchat: StoredForVisitor = field(default_factory=StoredForVisitor)


def make_providers(settings: Settings) -> Providers:
    return Providers(
        sms=make_sms_providers(settings),
        email={"console": ConsoleEmail()},
    )
