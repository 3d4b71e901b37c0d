"""No request may read or change another account's rows."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant


async def test_another_accounts_ids_are_404_everywhere(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await client.post(
        "/api/v1/contacts",
        json={"name": "Secret", "phones": [{"number": "+16505550190"}]},
        headers=other_tenant.admin_headers,
    )
    cid = theirs.json()["id"]
    pid = theirs.json()["phones"][0]["id"]
    conv = await client.post(
        f"/api/v1/contacts/{cid}/conversation", headers=other_tenant.admin_headers
    )
    conv_id = conv.json()["id"]
    numbers = await client.get("/api/v1/phone-numbers", headers=other_tenant.admin_headers)
    number_id = numbers.json()[0]["id"]
    me = tenant.admin_headers
    attempts = [
        ("GET", f"/api/v1/contacts/{cid}", None),
        ("PATCH", f"/api/v1/contacts/{cid}", {"name": "Mine now"}),
        ("DELETE", f"/api/v1/contacts/{cid}", None),
        ("PATCH", f"/api/v1/contacts/{cid}/phones/{pid}", {"sms_opt_out": True}),
        ("POST", f"/api/v1/contacts/{cid}/conversation", None),
        ("GET", f"/api/v1/conversations/{conv_id}", None),
        ("GET", f"/api/v1/conversations/{conv_id}/messages", None),
        ("POST", f"/api/v1/conversations/{conv_id}/messages", {"channel": "sms", "body": "x"}),
        ("PATCH", f"/api/v1/conversations/{conv_id}", {"status": "closed"}),
        ("PATCH", f"/api/v1/phone-numbers/{number_id}", {"label": "hijacked"}),
        ("DELETE", f"/api/v1/phone-numbers/{number_id}", None),
        ("GET", f"/api/v1/users/{other_tenant.admin_id}/avatar", None),
    ]
    for method, url, body in attempts:
        resp = await client.request(method, url, json=body, headers=me)
        assert resp.status_code == 404, (method, url, resp.status_code)
        assert resp.json()["code"] == "not_found", (method, url)
    # Merging someone else's contact into mine is refused too.
    mine = await client.post("/api/v1/contacts", json={"name": "Mine"}, headers=me)
    merge = await client.post(
        f"/api/v1/contacts/{mine.json()['id']}/merge", json={"other_contact_id": cid}, headers=me
    )
    assert merge.status_code == 404
    # Their data is untouched, and invisible in my lists and searches.
    still = await client.get(f"/api/v1/contacts/{cid}", headers=other_tenant.admin_headers)
    assert still.json()["name"] == "Secret"
    assert still.json()["phones"][0]["sms_opt_out"] is False
    mine_list = await client.get("/api/v1/contacts", params={"q": "secret"}, headers=me)
    assert mine_list.json()["items"] == []
    # The same phone number can be a contact in two accounts.
    dup = await client.post(
        "/api/v1/contacts",
        json={"name": "Also", "phones": [{"number": "+16505550190"}]},
        headers=me,
    )
    assert dup.status_code == 201
