"""Email addresses that pass for another (Unicode homoglyphs) are refused for contacts."""

from __future__ import annotations

from typing import Any

import httpx

from parlour.contacts.lookalikes import lookalike_of
from tests.conftest import Tenant

CYRILLIC_A = "\u0430"
CYRILLIC_O = "\u043e"
GREEK_ALPHA = "\u03b1"


def test_what_counts_as_a_lookalike() -> None:
    real = "alice@northwind.example"
    for fake in (
        f"{CYRILLIC_A}lice@northwind.example",
        f"alice@northwind.ex{CYRILLIC_A}mple",
        f"{GREEK_ALPHA}lice@northwind.example",
        "\uff41lice@northwind.example",  # fullwidth a
    ):
        assert lookalike_of(fake, [real]) == real, fake
        assert lookalike_of(real, [fake]) == fake, fake
    # Two forgeries of the same address look like each other too.
    assert lookalike_of(f"{CYRILLIC_A}lice@x.example", [f"{GREEK_ALPHA}lice@x.example"])
    # Different addresses, and ASCII ones taken as typed.
    assert lookalike_of("alicé@northwind.example", [real]) is None
    assert lookalike_of("rnary@northwind.example", ["mary@northwind.example"]) is None
    assert lookalike_of(real, [real]) is None


async def contact(
    client: httpx.AsyncClient, tenant: Tenant, *addresses: str, name: str = "Alice"
) -> httpx.Response:
    return await client.post(
        "/api/v1/contacts",
        json={"name": name, "emails": [{"address": a} for a in addresses]},
        headers=tenant.agent_headers,
    )


def refusal(resp: httpx.Response) -> tuple[int, str, Any]:
    return resp.status_code, resp.json().get("code"), resp.json().get("details", {}).get("email")


async def test_a_contact_email_that_looks_like_another_contacts_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    real = "alice@northwind.example"
    fake = f"{CYRILLIC_A}lice@northwind.example"
    alice = await contact(client, tenant, real)
    assert alice.status_code == 201, alice.text

    assert refusal(await contact(client, tenant, fake, name="Eve")) == (
        409,
        "lookalike_email",
        real,
    )
    eve = await contact(client, tenant, "eve@elsewhere.example", name="Eve")
    eve_id = eve.json()["id"]
    added = await client.post(
        f"/api/v1/contacts/{eve_id}/emails", json={"address": fake}, headers=tenant.agent_headers
    )
    assert refusal(added) == (409, "lookalike_email", real)
    patched = await client.patch(
        f"/api/v1/contacts/{eve_id}",
        json={"emails": [{"address": "eve@elsewhere.example"}, {"address": fake}]},
        headers=tenant.agent_headers,
    )
    assert refusal(patched) == (409, "lookalike_email", real)
    shown = await client.get(f"/api/v1/contacts/{eve_id}", headers=tenant.agent_headers)
    assert [e["address"] for e in shown.json()["emails"]] == ["eve@elsewhere.example"]

    # Another account's contacts are not compared with; a merely similar address is fine.
    assert (await contact(client, other_tenant, fake)).status_code == 201
    assert (await contact(client, tenant, "alicé@northwind.example")).status_code == 201


async def test_the_real_address_is_refused_next_to_an_earlier_lookalike(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    fake = f"b{CYRILLIC_O}b@northwind.example"
    first = await contact(client, tenant, fake, name="Bob?")
    assert first.status_code == 201
    assert refusal(await contact(client, tenant, "bob@northwind.example", name="Bob")) == (
        409,
        "lookalike_email",
        fake,
    )
    # Saving the contact that has it, unchanged, still works.
    kept = await client.patch(
        f"/api/v1/contacts/{first.json()['id']}",
        json={"name": "Bob", "emails": [{"address": fake}]},
        headers=tenant.agent_headers,
    )
    assert kept.status_code == 200, kept.text
