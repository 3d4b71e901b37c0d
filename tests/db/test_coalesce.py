"""Lookups asked for while one is in flight share the next one."""

from __future__ import annotations

import asyncio

import pytest

from parlour.db.coalesce import Coalescer


async def test_callers_arriving_during_a_lookup_share_the_next() -> None:
    calls: list[list[int]] = []
    release = asyncio.Event()

    async def fetch(keys: list[int]) -> dict[int, int]:
        calls.append(sorted(keys))
        await release.wait()
        return {k: k * 10 for k in keys}

    c: Coalescer[int, int] = Coalescer()
    first = asyncio.create_task(c.get([1], fetch))
    await asyncio.sleep(0)
    later = [asyncio.create_task(c.get([k, k + 100], fetch)) for k in (2, 3, 4)]
    await asyncio.sleep(0)
    release.set()
    assert await first == {1: 10}
    assert [await t for t in later] == [{2: 20, 102: 1020}, {3: 30, 103: 1030}, {4: 40, 104: 1040}]
    assert calls == [[1], [2, 3, 4, 102, 103, 104]]


async def test_a_failed_lookup_fails_its_callers_only() -> None:
    async def fetch(keys: list[int]) -> dict[int, int]:
        if 13 in keys:
            raise LookupError("unlucky")
        return {k: k for k in keys}

    c: Coalescer[int, int] = Coalescer()
    with pytest.raises(LookupError):
        await c.get([13], fetch)
    assert await c.get([7], fetch) == {7: 7}
