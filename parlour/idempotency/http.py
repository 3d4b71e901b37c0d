"""``Idempotency-Key`` on the API's writes, wired into HTTP.

``claim_key`` runs once the caller is known (``accounts.deps.current_user``): a request
already answered is answered again from its kept answer (``Replay``) and nothing runs;
otherwise the key is held with the request's writes. ``KeptAnswers`` keeps the answer of
a request whose writes were committed, before it is sent: an answer lost on the way is
then still there for the retry.
"""

from __future__ import annotations

import hashlib
import logging

from fastapi import FastAPI, Request, Response
from starlette.datastructures import FormData, UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parlour.db.deps import SAFE_METHODS
from parlour.db.outage import describe
from parlour.db.tx import Tx, transaction
from parlour.idempotency import service
from parlour.idempotency.service import Answer, Claim
from parlour.runtime import Runtime

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_SLOT = "parlour.idempotency"


class _Slot:
    """Where the request's claim waits for its answer (in the ASGI scope)."""

    claim: Claim | None = None


class Replay(Exception):
    """Answers the request with the answer its key already got."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("replayed")
        self.answer = answer


async def claim_key(request: Request, tx: Tx, *, account_id: int, user_id: int) -> None:
    """Honours the request's ``Idempotency-Key``, if it is a write that sent one."""
    key = request.headers.get(HEADER)
    if key is None or request.method in SAFE_METHODS:
        return
    slot = request.scope.get(_SLOT)
    if not isinstance(slot, _Slot):
        raise RuntimeError("Idempotency-Key needs the KeptAnswers middleware (install())")
    claim = Claim(
        account_id=account_id,
        user_id=user_id,
        key=service.check_key(key),
        fingerprint=service.fingerprint(request.method, _target(request), await _body(request)),
    )
    answer = await service.look_up(tx, claim=claim)
    if answer is not None:
        raise Replay(answer)
    service.hold(tx, claim=claim)
    slot.claim = claim


def _target(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


async def _body(request: Request) -> bytes:
    """The body's bytes; for a multipart form, its fields and files: a browser sending the
    same form again picks another boundary, and so other bytes."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _form_parts(await request.form())
    return await request.body()


async def _form_parts(form: FormData) -> bytes:
    parts: list[bytes] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            digest = hashlib.sha256()
            await value.seek(0)
            while chunk := await value.read(1 << 16):
                digest.update(chunk)
            await value.seek(0)
            fields = [name, value.filename or "", value.content_type or "", digest.hexdigest()]
        else:
            fields = [name, "", "", value]
        for field in fields:
            data = field.encode()
            parts += [len(data).to_bytes(8, "big"), data]
    return b"".join(parts)


async def _replay(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    answer = exc.answer
    return Response(
        answer.body,
        status_code=answer.status_code,
        media_type=answer.media_type,
        headers={REPLAYED: "true"},
    )


class KeptAnswers:
    """Keeps the answer of a write that holds a key, before sending it.

    Only answers of requests whose key's row was written (with their writes, at commit)
    are kept. A 5xx is not: the writes may well have been committed, and a retry answered
    "failed" would send them again under a new key; the key stays without an answer, so a
    retry gets ``idempotency_key_in_use``, which says the effect is stored.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        slot = scope[_SLOT] = _Slot()
        start: Message | None = None
        chunks: list[bytes] = []

        async def keeping(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                claim = slot.claim
                if claim is not None and claim.row_id is not None and message["status"] < 500:
                    start = message
                    return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            assert slot.claim is not None
            await _keep(scope, slot.claim, start, body)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, keeping)


async def _keep(scope: Scope, claim: Claim, start: Message, body: bytes) -> None:
    headers = dict(start.get("headers") or [])
    media_type = headers.get(b"content-type", b"").decode("latin-1")[:100] or None
    answer = Answer(status_code=start["status"], media_type=media_type, body=body)
    rt: Runtime = scope["app"].state.runtime
    # The request's own transaction has ended (FastAPI leaves its dependencies before the
    # answer is sent): on SQLite this takes the next write turn, not the request's.
    try:
        async with transaction(rt.db, rt.hub) as tx:
            await service.keep_answer(tx, claim=claim, answer=answer)
            await tx.commit()
    except Exception as exc:
        # The writes stand; a retry is told so (idempotency_key_in_use) instead of its answer.
        # Usually the database went away just now: that is logged once, as an outage.
        log.warning("the answer for an Idempotency-Key could not be kept (%s)", describe(exc))


def install(app: FastAPI) -> None:
    app.add_exception_handler(Replay, _replay)
    app.add_middleware(KeptAnswers)
