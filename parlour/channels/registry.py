"""The channels this process serves, and the providers they deliver through, chosen by
settings. Adding a channel is one line in ``make_channels`` (docs/adding-a-channel.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from parlour.channels.email.channel import EmailChannel
from parlour.channels.email.console import ConsoleEmail
from parlour.channels.email.provider import EmailProvider
from parlour.channels.email.smtp import SmtpEmail
from parlour.channels.sms.channel import SmsChannel
from parlour.channels.sms.provider import SmsProvider
from parlour.channels.sms.providers import make_sms_providers
from parlour.channels.webchat.channel import WebchatChannel
from parlour.channels.webchat.delivery import StoredForVisitor
from parlour.config import Settings
from parlour.conversations.channel import Channels


@dataclass
class Providers:
    # Keyed by the ``provider`` name stored on a phone number or mailbox.
    sms: dict[str, SmsProvider] = field(default_factory=dict)
    email: dict[str, EmailProvider] = field(default_factory=dict)
    webchat: StoredForVisitor = field(default_factory=StoredForVisitor)


def make_providers(settings: Settings) -> Providers:
    return Providers(
        sms=make_sms_providers(settings),
        email={"console": ConsoleEmail(), "smtp": SmtpEmail()},
    )


def make_channels(settings: Settings, providers: Providers) -> Channels:
    """In the composer's order."""
    return Channels(
        [
            SmsChannel(providers.sms, secret_key=settings.secret_key),
            WebchatChannel(providers.webchat),
            EmailChannel(
                providers.email,
                secret_key=settings.secret_key,
                max_attachment_bytes=settings.email_max_attachments_bytes,
            ),
        ]
    )
