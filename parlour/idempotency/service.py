"""Safe retries: a write sent again with the ``Idempotency-Key`` of one whose answer was
lost gets that first answer, and nothing is done twice.

A key belongs to the user who sent it. Its row is written by the request's own commit
(``Tx.before_commit``), so it exists exactly when the request's writes do; the answer is
added once it is known. Keys are kept for a day, as Stripe keeps them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from parlour.db.base import utcnow
from parlour.db.tx import Tx
from parlour.errors import Conflict, InvalidInput
from parlour.idempotency.models import IdempotencyKey

KEEP_KEYS = timedelta(hours=24)
# Visible ASCII only: no spaces, no control characters. A UUID fits.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class InvalidKey(InvalidInput):
    code = "invalid_idempotency_key"


class KeyReused(InvalidInput):
    code = "idempotency_key_reused"


class KeyInUse(Conflict):
    code = "idempotency_key_in_use"


def _in_use() -> KeyInUse:
    return KeyInUse(
        "Another request with this Idempotency-Key has not been answered yet. Its effect, "
        "if it had one, is stored and was not repeated: try again in a moment for its answer.",
        headers={"Retry-After": "1"},
    )


@dataclass(frozen=True)
class Answer:
    status_code: int
    media_type: str | None
    body: bytes


@dataclass
class Claim:
    """A key a request will hold once its writes are committed."""

    account_id: int
    user_id: int
    key: str
    fingerprint: str
    # Set when the key's row was written in the request's transaction; it exists if that
    # transaction committed.
    row_id: int | None = None


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise InvalidKey(
            "An Idempotency-Key is 1 to 255 visible ASCII characters (no spaces), such as a UUID."
        )
    return key


def fingerprint(method: str, target: str, body: bytes) -> str:
    """What makes two requests the same one: method, path with query, and body."""
    digest = hashlib.sha256()
    for part in (method.encode(), target.encode()):
        digest.update(part + b"\0")  # neither holds a NUL, so the parts cannot run together
    digest.update(body)
    return digest.hexdigest()


async def look_up(tx: Tx, *, claim: Claim) -> Answer | None:
    """The answer the first request with this key got, or None when the key is free.

    Raises ``KeyReused`` for a key first sent with another request, and ``KeyInUse`` while
    the first request has no answer (it is still running, or its answer was never kept).
    """
    row = await tx.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == claim.user_id, IdempotencyKey.key == claim.key
        )
    )
    if row is None:
        return None
    if row.created_at < utcnow() - KEEP_KEYS:
        # Not pruned yet, but expired: the key is free again, and this request takes it.
        await tx.session.delete(row)
        return None
    if row.fingerprint != claim.fingerprint:
        raise KeyReused(
            "This Idempotency-Key was sent before with another request (another method, "
            "path or body). A new request needs a new key."
        )
    if row.status_code is None:
        raise _in_use()
    return Answer(status_code=row.status_code, media_type=row.media_type, body=row.body or b"")


def hold(tx: Tx, *, claim: Claim) -> None:
    """Writes the key's row with the transaction's own writes, when it commits.

    A concurrent request with the same key that committed first makes the insert fail on
    the unique index: this one then answers ``KeyInUse`` and its writes roll back.
    """

    async def write_row() -> None:
        # The request's own writes go first, so that their conflicts stay theirs.
        await tx.session.flush()
        try:
            claim.row_id = await tx.session.scalar(
                insert(IdempotencyKey)
                .values(
                    account_id=claim.account_id,
                    user_id=claim.user_id,
                    key=claim.key,
                    fingerprint=claim.fingerprint,
                    created_at=utcnow(),
                )
                .returning(IdempotencyKey.id)
            )
        except IntegrityError as exc:
            raise _in_use() from exc

    tx.before_commit(write_row)


async def keep_answer(tx: Tx, *, claim: Claim, answer: Answer) -> bool:
    """Stores the answer for the key's row; False when there is no such row (the request's
    commit failed) or it already has one."""
    if claim.row_id is None:
        return False
    result = await tx.session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == claim.row_id,
            IdempotencyKey.user_id == claim.user_id,
            IdempotencyKey.key == claim.key,
            IdempotencyKey.fingerprint == claim.fingerprint,
            IdempotencyKey.status_code.is_(None),
        )
        .values(status_code=answer.status_code, media_type=answer.media_type, body=answer.body)
    )
    return bool(result.rowcount)


async def prune_keys(tx: Tx, *, keep: timedelta = KEEP_KEYS) -> int:
    result = await tx.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - keep)
    )
    return int(result.rowcount or 0)
