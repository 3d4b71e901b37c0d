"""Every SMS provider Parlour can deliver through, by the name stored on a phone number.

Adding a provider touches this folder only: its module (``send``, and ``find_sent`` when it
takes no idempotency key), its line here and in ``schemas.Provider``, its webhook in
``webhooks.py`` and its error words in ``errors.py``.
"""

from __future__ import annotations

from parlour.channels.sms.console import ConsoleSms
from parlour.channels.sms.provider import SmsProvider
from parlour.channels.sms.telnyx import TelnyxSms
from parlour.channels.sms.twilio import TwilioSms
from parlour.config import Settings


def make_sms_providers(settings: Settings) -> dict[str, SmsProvider]:
    return {
        "console": ConsoleSms(),
        "twilio": TwilioSms(api_base=settings.twilio_api_base, public_url=settings.public_url),
        "telnyx": TelnyxSms(api_base=settings.telnyx_api_base, public_url=settings.public_url),
    }
