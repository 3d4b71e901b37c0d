"""What every provider returns or raises, whatever its channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ProviderReceipt:
    provider_message_id: str
    # "sent": the provider took it and will call back; "delivered": it is already there.
    status: Literal["sent", "delivered"] = "sent"


class DeliveryError(Exception):
    def __init__(self, message: str, *, code: str = "provider_error") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TransientFailure(DeliveryError):
    """Worth retrying later: network trouble, provider 5xx, rate limits."""


class PermanentFailure(DeliveryError):
    """Will never succeed as it is: invalid number, opted out, rejected content."""
