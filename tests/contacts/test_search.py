"""How a search chooses its plan (parlour.contacts.search); each plan's results are tested
through the API, in tests/contacts/test_api.py and tests/conversations/test_api.py."""

from __future__ import annotations

import httpx
import pytest

from parlour.contacts import search
from parlour.contacts.search import Probe
from parlour.db.tx import transaction
from parlour.runtime import Runtime
from tests.conftest import Tenant


def test_a_probe_gives_the_ids_only_when_they_are_few() -> None:
    assert Probe(limit=2, ids=[1, 2]).few == [1, 2]
    assert Probe(limit=2, ids=[1, 2, 3]).few is None


async def test_matches_lead_by_name_when_nearly_all_names_start_with_the_query(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: Tenant,
    other_tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another account's contacts, named otherwise, are not counted. On SQLite they share
    # the word index, where they come first (created first).
    for name in ["Ravi Priya", "Sam Priya"]:
        resp = await client.post(
            "/api/v1/contacts", json={"name": name}, headers=other_tenant.admin_headers
        )
        assert resp.status_code == 201, resp.text

    names = ["Priya Park", "Príya Ode", "Priya Shah", "William Park", "Wílliam Ode"]
    names += ["Ada Williams", "Bo Williams"]
    for name in names:
        resp = await client.post(
            "/api/v1/contacts", json={"name": name}, headers=tenant.admin_headers
        )
        assert resp.status_code == 201, resp.text

    async def leads(query: str, *, matches: int) -> bool:
        # One fewer than the matches: the probe finds "many", and samples them all.
        monkeypatch.setattr(search, "FEW", matches - 1)
        async with transaction(runtime.db, runtime.hub, write=False) as tx:
            conn = await tx.session.connection()
            found = await search.probe(conn, query, account_id=tenant.account_id, with_leads=True)
            return found.lead_by_name

    assert await leads("priya", matches=3)
    assert await leads("  PRIYA ", matches=3)
    assert not await leads("william", matches=4)  # 2 of 4 are Williams, anywhere by name
    assert not await leads("zzqx", matches=1)
