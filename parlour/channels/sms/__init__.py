"""SMS: company numbers, providers (Twilio, Telnyx, console), webhooks and opt-outs.

What the conversation core stores for this channel is named here, so that every module of
the folder (the channel, the inbound path) uses the same names.
"""

from parlour.conversations.schemas import EndpointNames

NAME = "sms"
# A message's endpoints under their older API names: a company number, a contact's phone.
ENDPOINT_NAMES = EndpointNames(sender="phone_number_id", recipient="contact_phone_id")
