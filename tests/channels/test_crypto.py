"""Provider secrets at rest: sealed with a key derived from PARLOUR_SECRET_KEY."""

from __future__ import annotations

import pytest

from parlour.channels.crypto import CannotDecrypt, seal, unseal


def test_sealed_secrets_open_only_with_the_same_secret_key() -> None:
    token = seal("key-one", {"auth_token": "s3cret-token"})
    assert "s3cret-token" not in token
    assert unseal("key-one", token) == {"auth_token": "s3cret-token"}
    with pytest.raises(CannotDecrypt):
        unseal("key-two", token)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(CannotDecrypt):
        unseal("key-one", tampered)
    # Fresh randomness every time: equal secrets do not look equal at rest.
    assert seal("key-one", {"auth_token": "x"}) != seal("key-one", {"auth_token": "x"})
