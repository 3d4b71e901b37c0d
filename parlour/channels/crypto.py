"""Secrets at rest: provider credentials encrypted with a key derived from the secret key.

Fernet (AES-128-CBC + HMAC-SHA256) gives authenticated encryption; HKDF turns
``PARLOUR_SECRET_KEY`` into a key used for nothing else, so the same secret can also sign
cookies without the two uses ever sharing key material.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"parlour provider credentials v1"


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, values: dict[str, str]) -> str:
    return _fernet(secret_key).encrypt(json.dumps(values, sort_keys=True).encode()).decode()


class CannotDecrypt(Exception):
    """The stored secret was sealed with another PARLOUR_SECRET_KEY (or was altered)."""


@lru_cache(maxsize=256)
def _open(secret_key: str, token: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise CannotDecrypt("stored credentials cannot be decrypted") from exc


def unseal(secret_key: str, token: str) -> dict[str, str]:
    values: dict[str, str] = json.loads(_open(secret_key, token))
    return values
