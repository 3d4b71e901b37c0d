"""Twilio's webhooks against a real `parlour serve` over HTTP: good ones land once in the
thread; forged, altered, unsigned and malformed ones are refused and store nothing."""

from __future__ import annotations

import httpx

from tests.channels.sms.test_crash import Server, fake, prepare, server
from tests.fakes.twilio import FakeTwilio, inbound_params, new_number, sign

__all__ = ["fake", "server"]  # the fixtures, shared with the crash tests


async def test_webhooks_against_a_running_server(
    server: Server, fake: FakeTwilio, database_url: str
) -> None:
    server.start()
    h, _, _ = await prepare(server, fake, database_url)
    [acct] = fake.accounts.values()
    company = acct.numbers[0].e164
    url = f"{server.url}/webhooks/twilio/sms"
    sender = new_number()

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as c:

        async def post(params: dict[str, str], signature: str | None) -> httpx.Response:
            headers = {"X-Twilio-Signature": signature} if signature is not None else {}
            return await c.post("/webhooks/twilio/sms", data=params, headers=headers)

        good = inbound_params(account_sid=acct.sid, from_=sender, to=company, body="Hello there")
        sig = sign(acct.auth_token, url, good)
        altered = {**good, "Body": "Hello thief"}
        malformed = {**good, "NumMedia": "x"}
        answers = [
            (await post(good, None)).status_code,
            (await post(good, sign("0" * 32, url, good))).status_code,
            (await post(altered, sig)).status_code,
            (await post(malformed, sign(acct.auth_token, url, malformed))).status_code,
            (await post(good, sig)).status_code,
            (await post(good, sig)).status_code,  # Twilio's retry
        ]
        assert answers == [403, 403, 403, 422, 200, 200]

        found = await c.get("/api/v1/contacts", params={"q": sender[1:]}, headers=h)
        [contact] = found.json()["items"]
        conv = await c.post(f"/api/v1/contacts/{contact['id']}/conversation", headers=h)
        thread = await c.get(f"/api/v1/conversations/{conv.json()['id']}/messages", headers=h)
        assert [
            (m["body"], m["from_address"], m["to_address"]) for m in thread.json()["items"]
        ] == [("Hello there", sender, company)]
