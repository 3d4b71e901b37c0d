"""FastAPI dependency giving each request its own transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from parlour.db.tx import Tx, transaction
from parlour.runtime import runtime_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_tx(request: Request) -> AsyncIterator[Tx]:
    rt = runtime_of(request)
    async with transaction(rt.db, rt.hub, write=request.method not in SAFE_METHODS) as tx:
        tx.wake_outbox = rt.outbox_wakeup.set
        yield tx


TxDep = Annotated[Tx, Depends(get_tx)]
