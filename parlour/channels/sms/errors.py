"""Provider error codes, in words a user understands, and whether a retry could help; and
the error a provider's webhook payload gets when it does not parse."""

from __future__ import annotations

from parlour.errors import InvalidInput

# Twilio's codes: REST errors when creating a message (2xxxx) and delivery errors reported
# by status callbacks (3xxxx).
TWILIO: dict[str, str] = {
    "20003": "Twilio rejected the account's credentials. Check them in Settings → SMS.",
    "20404": "Twilio does not know this resource (wrong Account SID or number?).",
    "20429": "Twilio is limiting how fast we send. It will be retried.",
    "21211": "The recipient's phone number is not valid.",
    "21212": "The sending number is not valid.",
    "21408": "Sending SMS to this country is not enabled on the Twilio account.",
    "21606": "This company number cannot send SMS through Twilio.",
    "21608": "A Twilio trial account can only text verified numbers.",
    "21610": "The contact opted out of SMS (they texted STOP) and Twilio blocks messages to them.",
    "21612": "This phone number cannot receive SMS from this company number.",
    "21614": "The recipient's number is not a mobile number, so it cannot receive SMS.",
    "21617": "The message is too long (at most 1,600 characters).",
    "21660": "This company number does not belong to the connected Twilio account.",
    "30001": "Twilio's queue was full; the message was not sent.",
    "30002": "The Twilio account is suspended.",
    "30003": "The recipient's phone is switched off or out of reach.",
    "30004": "The message was blocked: the recipient may have blocked SMS from this number.",
    "30005": "The recipient's number does not exist or is no longer in service.",
    "30006": "The recipient's number is a landline or cannot receive SMS.",
    "30007": "The carrier filtered the message as spam or unregistered traffic.",
    "30008": "The carrier could not deliver the message (unknown error).",
    "30034": "The company number is not registered for A2P 10DLC, so carriers block it.",
}

# Telnyx's codes (``errors[].code``).
TELNYX: dict[str, str] = {
    "10001": "Telnyx rejected the request as invalid.",
    "10009": "Telnyx rejected the API key. Check it in Settings → SMS.",
    "40001": "The recipient's number is a landline or cannot receive SMS.",
    "40002": "The carrier blocked the message as spam.",
    "40003": "The carrier blocked the message.",
    "40008": "The recipient's number is not valid.",
    "40300": "The contact opted out of SMS (they texted STOP) and Telnyx blocks messages to them.",
    "40310": "The recipient's number is not valid.",
    "40311": "The recipient's number is not SMS-capable.",
    "40305": "This company number cannot send SMS through Telnyx.",
}

# Errors that mean the contact opted out at the provider: Parlour records the opt-out too.
OPT_OUT_CODES = frozenset({"21610", "40300"})


def describe(provider: str, code: str | None, fallback: str | None = None) -> str:
    table = TWILIO if provider == "twilio" else TELNYX if provider == "telnyx" else {}
    if code and code in table:
        return table[code]
    if fallback:
        return fallback
    return f"The message could not be delivered (error {code})." if code else "Delivery failed."


def invalid_webhook(message: str, field: str) -> InvalidInput:
    """A signed webhook whose payload Parlour cannot read: 422, ``invalid_webhook``."""
    return InvalidInput(message, code="invalid_webhook", details={"field": field})
