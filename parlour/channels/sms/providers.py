"""Every SMS provider Parlour can deliver through, by the name stored on a phone number.

Adding a provider touches this folder only: its module (``send``, and ``find_sent`` when it
takes no idempotency key; the account calls of ``provider.SmsAccountApi``; its webhook
payloads read into Parlour's values), its line here and in ``schemas.Provider``, its
webhook in ``webhooks.py`` and its error words in ``errors.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import HTTPConnection

from parlour.channels.sms.console import ConsoleSms
from parlour.channels.sms.provider import ListsNumbers, SmsAccountApi, SmsProvider
from parlour.channels.sms.telnyx import TelnyxSms
from parlour.channels.sms.twilio import TwilioSms
from parlour.config import Settings


def make_sms_providers(settings: Settings) -> dict[str, SmsProvider]:
    return {
        "console": ConsoleSms(),
        "twilio": TwilioSms(api_base=settings.twilio_api_base, public_url=settings.public_url),
        "telnyx": TelnyxSms(api_base=settings.telnyx_api_base, public_url=settings.public_url),
    }


def sms_providers(conn: HTTPConnection) -> Mapping[str, SmsProvider]:
    """The running app's SMS providers: the one place that knows where they are kept."""
    providers: Mapping[str, SmsProvider] = conn.app.state.providers.sms
    return providers


def account_api(providers: Mapping[str, object], name: str) -> SmsAccountApi:
    """The provider ``name`` as the account calls see it."""
    provider = providers[name]
    if not isinstance(provider, SmsAccountApi):
        raise TypeError(f"The SMS provider {name!r} has no account calls.")
    return provider


def number_lister(providers: Mapping[str, object], name: str) -> ListsNumbers:
    """The provider ``name`` as the number import sees it."""
    provider = providers[name]
    if not isinstance(provider, ListsNumbers):
        raise TypeError(f"The SMS provider {name!r} cannot list its numbers.")
    return provider
