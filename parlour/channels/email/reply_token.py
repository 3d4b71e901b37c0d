"""The reply address that names a thread: the mailbox's address plus a signed token
(``hello+c42.1a2b3c4d5e@example.com``). A reply to it finds its thread even when a client
dropped In-Reply-To and References, and the signature keeps anyone from steering a mail
into another thread by editing the number."""

from __future__ import annotations

import hashlib
import hmac
import re

_TAG = re.compile(r"^(?P<local>[^+@]+)\+c(?P<conv>\d{1,18})\.(?P<sig>[0-9a-f]{10})$")


def _signature(conversation_id: int, secret_key: str) -> str:
    mac = hmac.new(secret_key.encode(), f"reply-to:c{conversation_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:10]


def reply_address(address: str, conversation_id: int, *, secret_key: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local}+c{conversation_id}.{_signature(conversation_id, secret_key)}@{domain}"


def base_address(address: str) -> str:
    """``address`` without its plus tag, lower-cased: the mailbox it reaches."""
    local, _, domain = address.lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def thread_of(address: str, *, secret_key: str) -> int | None:
    """The conversation a reply address names, if its signature holds."""
    local, _, _domain = address.lower().partition("@")
    found = _TAG.match(local)
    if found is None:
        return None
    conversation_id = int(found["conv"])
    if not hmac.compare_digest(found["sig"], _signature(conversation_id, secret_key)):
        return None
    return conversation_id
