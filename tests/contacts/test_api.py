"""Contacts through HTTP: endpoints, duplicates, search, merge."""

from __future__ import annotations

from typing import Any

import httpx

from parlour.pagination import encode_cursor
from tests.conftest import Tenant, search_pages


async def create(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/contacts", json=body, headers=tenant.admin_headers)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def test_phones_are_stored_in_e164_and_emails_lowercased(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    c = await create(
        client,
        tenant,
        name="Zoë Ólafsdóttir",
        phones=[{"number": "(650) 555-0143", "label": "mobile"}, {"number": "+44 20 7946 0958"}],
        emails=[{"address": "Zoe@Example.COM"}],
        tags=["vip", "vip", "wholesale"],
    )
    assert [p["e164"] for p in c["phones"]] == ["+16505550143", "+442079460958"]
    assert c["emails"][0]["address"] == "zoe@example.com"
    assert c["tags"] == ["vip", "wholesale"]
    found = await client.get(
        "/api/v1/contacts/lookup", params={"phone": "650.555.0143"}, headers=tenant.admin_headers
    )
    assert found.json()["id"] == c["id"]


async def test_duplicate_endpoint_is_409_and_writes_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = await create(client, tenant, name="A", phones=[{"number": "+16505550144"}])
    resp = await client.post(
        "/api/v1/contacts",
        json={"name": "B", "phones": [{"number": "650-555-0144"}]},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 409
    assert resp.json()["code"] == "duplicate_phone"
    assert resp.json()["details"]["contact_id"] == first["id"]
    everyone = await client.get("/api/v1/contacts", headers=tenant.admin_headers)
    assert [c["name"] for c in everyone.json()["items"]] == ["A"]


async def test_malformed_phone_is_422_with_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    resp = await client.post(
        "/api/v1/contacts",
        json={"name": "X", "phones": [{"number": "+16505550145"}, {"number": "12345"}]},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == "invalid_phone"
    assert resp.json()["details"]["field"] == "phones.1.number"
    everyone = await client.get("/api/v1/contacts", headers=tenant.admin_headers)
    assert everyone.json()["items"] == []


async def test_search_ignores_case_and_accents_and_matches_phone_digits(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    zoe = await create(client, tenant, name="Zoë Ólafsdóttir", phones=[{"number": "+16505550146"}])
    await create(client, tenant, name="Bob Stone", emails=[{"address": "bob@stone.example"}])

    async def names(q: str) -> list[str]:
        resp = await client.get("/api/v1/contacts", params={"q": q}, headers=tenant.admin_headers)
        assert resp.status_code == 200
        return [c["name"] for c in resp.json()["items"]]

    assert await names("OLAFS") == [zoe["name"]]
    assert await names("zoë") == [zoe["name"]]
    assert await names("555-0146") == [zoe["name"]]
    assert await names("(650) 555") == [zoe["name"]]
    assert await names("stone.exa") == ["Bob Stone"]
    assert await names("zo") == [zoe["name"]]
    assert await names("st") == ["Bob Stone"]  # two letters: the start of any word
    assert await names("nobody-like-this") == []


async def test_search_results_page_prefix_matches_first_then_by_name(
    client: httpx.AsyncClient, tenant: Tenant, search_plan: str
) -> None:
    """Names starting with the query come first (whatever their case and accents, in
    that folded order), then the other matches by name; every plan (see
    parlour.contacts.search) gives one order, across pages."""
    names = ["Quill Evans", "Ada Quillon", "Bea Quill", "Cy Quillsby", "Dee Quilliam"]
    for name in [*names, "quilla Moss", "Quíllan Ash", "Nobody Else"]:
        await create(client, tenant, name=name)

    seen = await search_pages(client, tenant, "/api/v1/contacts", "quill", limit=2)
    assert [c["name"] for c in seen] == [
        "Quill Evans",
        "quilla Moss",
        "Quíllan Ash",
        "Ada Quillon",
        "Bea Quill",
        "Cy Quillsby",
        "Dee Quilliam",
    ]


async def test_a_name_most_matches_start_with_still_lists_the_others_after_them(
    client: httpx.AsyncClient, tenant: Tenant, search_plan: str
) -> None:
    # Nearly every "zanele" is named Zanele: the walk for the others is skipped, and the
    # one named otherwise still comes, after them, on its page. (A name no other test
    # uses: on SQLite the accounts share the word index, which tests/contacts/test_search.py
    # samples.)
    for letter in "JIHGFEDCBA":
        await create(client, tenant, name=f"Zanele {letter}")
    await create(client, tenant, name="Anna Muzanele")

    seen = await search_pages(client, tenant, "/api/v1/contacts", "zanele", limit=3)
    assert [c["name"] for c in seen] == [*(f"Zanele {c}" for c in "ABCDEFGHIJ"), "Anna Muzanele"]


async def test_a_search_cursor_from_before_prefix_matches_came_first_goes_on_by_name(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for name in ["Ada Quillon", "Bea Quill", "Quill Evans"]:
        await create(client, tenant, name=name)
    old = encode_cursor("Ada Quillon", 0)  # (name, id): the earlier releases' search cursor
    resp = await client.get(
        "/api/v1/contacts",
        params={"q": "quill", "cursor": old},
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 200
    assert [c["name"] for c in resp.json()["items"]] == ["Ada Quillon", "Bea Quill"]
    for bad in (encode_cursor(3, "x", 1), encode_cursor(True, "x", 1), encode_cursor(1, 5, 1)):
        resp = await client.get(
            "/api/v1/contacts",
            params={"q": "quill", "cursor": bad},
            headers=tenant.admin_headers,
        )
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_cursor"


async def test_quick_edit_replaces_endpoints_and_keeps_opt_out(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    c = await create(client, tenant, name="Kim", phones=[{"number": "+16505550147"}])
    phone_id = c["phones"][0]["id"]
    opted = await client.patch(
        f"/api/v1/contacts/{c['id']}/phones/{phone_id}",
        json={"sms_opt_out": True},
        headers=tenant.admin_headers,
    )
    assert opted.json()["phones"][0]["sms_opt_out"] is True
    resp = await client.patch(
        f"/api/v1/contacts/{c['id']}",
        json={
            "name": "Kim Park",
            "phones": [
                {"id": phone_id, "number": "+16505550147", "label": "work"},
                {"number": "+16505550148"},
            ],
            "emails": [{"address": "kim@park.example"}],
        },
        headers=tenant.admin_headers,
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["name"] == "Kim Park"
    assert [(p["e164"], p["label"], p["sms_opt_out"]) for p in body["phones"]] == [
        ("+16505550147", "work", True),
        ("+16505550148", "", False),
    ]
    assert [e["address"] for e in body["emails"]] == ["kim@park.example"]


async def test_merge_gives_one_contact_with_one_thread_in_time_order(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    a = await create(client, tenant, name="Ann", phones=[{"number": "+16505550150"}], tags=["a"])
    b = await create(client, tenant, name="", emails=[{"address": "ann@example.com"}], tags=["b"])
    conv_a = (
        await client.post(f"/api/v1/contacts/{a['id']}/conversation", headers=tenant.admin_headers)
    ).json()
    conv_b = (
        await client.post(f"/api/v1/contacts/{b['id']}/conversation", headers=tenant.admin_headers)
    ).json()
    for conv, channel, body in (
        (conv_a, "sms", "one"),
        (conv_b, "email", "two"),
        (conv_a, "sms", "three"),
    ):
        payload = {"channel": channel, "body": body}
        if channel == "email":
            payload["subject"] = "Hello"
        r = await client.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            json=payload,
            headers=tenant.admin_headers,
        )
        assert r.status_code == 201, r.text

    merged = await client.post(
        f"/api/v1/contacts/{a['id']}/merge",
        json={"other_contact_id": b["id"]},
        headers=tenant.admin_headers,
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["name"] == "Ann"
    assert [e["address"] for e in body["emails"]] == ["ann@example.com"]
    assert body["tags"] == ["a", "b"]
    assert body["conversation_id"] == conv_a["id"]
    gone = await client.get(f"/api/v1/contacts/{b['id']}", headers=tenant.admin_headers)
    assert gone.status_code == 404
    thread = await client.get(
        f"/api/v1/conversations/{conv_a['id']}/messages", headers=tenant.admin_headers
    )
    assert [m["body"] for m in thread.json()["items"]] == ["one", "two", "three"]
    panel = await client.get("/api/v1/conversations", headers=tenant.admin_headers)
    assert [(c["contact"]["id"], sorted(c["channels"])) for c in panel.json()["items"]] == [
        (a["id"], ["email", "sms"])
    ]


async def test_merge_with_itself_or_unknown_is_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    a = await create(client, tenant, name="Solo")
    same = await client.post(
        f"/api/v1/contacts/{a['id']}/merge",
        json={"other_contact_id": a["id"]},
        headers=tenant.admin_headers,
    )
    assert same.status_code == 422
    assert same.json()["code"] == "merge_same_contact"
    unknown = await client.post(
        f"/api/v1/contacts/{a['id']}/merge",
        json={"other_contact_id": 999999999},
        headers=tenant.admin_headers,
    )
    assert unknown.status_code == 404


async def test_a_list_page_is_exactly_its_documented_shape(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # A page is shaped as dicts and serialised once, not built as models (for speed): it
    # must still be exactly what ContactPage gives, and each item what the contact gives.
    from parlour.contacts.schemas import ContactOut, ContactPage

    c = await create(
        client,
        tenant,
        name="Page Shape",
        phones=[{"number": "+16505550184", "label": "work"}, {"number": "+16505550185"}],
        emails=[{"address": "shape@example.com"}],
        tags=["b", "a"],
    )
    opted = await client.patch(
        f"/api/v1/contacts/{c['id']}/phones/{c['phones'][0]['id']}",
        json={"sms_opt_out": True},
        headers=tenant.admin_headers,
    )
    assert opted.status_code == 200, opted.text
    await create(client, tenant, name="", emails=[{"address": "nameless@example.com"}])
    for q in (None, "shape"):
        params = {"q": q} if q else {}
        page = (
            await client.get("/api/v1/contacts", params=params, headers=tenant.admin_headers)
        ).json()
        assert ContactPage.model_validate(page).model_dump(mode="json") == page
        one = (await client.get(f"/api/v1/contacts/{c['id']}", headers=tenant.admin_headers)).json()
        listed = next(item for item in page["items"] if item["id"] == c["id"])
        assert listed == {k: one[k] for k in ContactOut.model_fields}
        assert listed["phones"][0]["sms_opt_out"] is True


async def test_a_contact_with_a_very_long_search_text_is_stored_and_found(
    client: httpx.AsyncClient, tenant: Tenant, search_plan: str
) -> None:
    # Indexes keep only the first 400 characters of a contact's search text (an index
    # entry must stay small): twenty long emails must still save, and match by the last,
    # in order, in pages of one (a walk that missed it would give another first).
    emails = [{"address": f"{'x' * 60}{i:02d}@long-domain-{i}.example"} for i in range(19)]
    emails.append({"address": "needle-at-the-end@example.com"})
    long = await create(client, tenant, name="Aa Long", emails=emails)
    short = [
        await create(client, tenant, name=name, emails=[{"address": f"needle-{name}@x.example"}])
        for name in ("Bb", "Cc")
    ]
    await create(client, tenant, name="Other")
    expected = [long["id"], short[0]["id"], short[1]["id"]]

    contacts = await search_pages(client, tenant, "/api/v1/contacts", "needle", limit=1)
    assert [c["id"] for c in contacts] == expected
    for contact_id in reversed(expected):  # the long one's thread is the newest
        thread = await client.post(
            f"/api/v1/contacts/{contact_id}/conversation", headers=tenant.admin_headers
        )
        sent = await client.post(
            f"/api/v1/conversations/{thread.json()['id']}/messages",
            json={"channel": "email", "subject": "Hi", "body": "hello"},
            headers=tenant.admin_headers,
        )
        assert sent.status_code == 201, sent.text
    threads = await search_pages(client, tenant, "/api/v1/conversations", "needle", limit=1)
    assert [c["contact"]["id"] for c in threads] == expected
