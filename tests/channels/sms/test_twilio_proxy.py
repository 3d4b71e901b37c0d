"""Behind a TLS-terminating proxy, Twilio's signatures still check out."""

from __future__ import annotations

import httpx
import pytest

from parlour.config import Settings
from tests.channels.sms.conftest import post_inbound, thread_of
from tests.conftest import Tenant
from tests.fakes.twilio import FakeTwilio, inbound_params, new_number


@pytest.fixture
def settings(database_url: str, settings: Settings) -> Settings:
    # Behind a TLS-terminating proxy: Twilio calls https://…, the app sees plain http.
    return settings.model_copy(update={"public_url": "https://parlour.example.com"})


async def test_signatures_hold_behind_a_proxy_that_changes_scheme_and_port(
    client: httpx.AsyncClient, tenant: Tenant, fake_twilio: FakeTwilio
) -> None:
    from tests.channels.sms.conftest import connect_twilio

    twilio = await connect_twilio(client, tenant, fake_twilio)
    for i, url in enumerate(
        [
            "https://parlour.example.com/webhooks/twilio/sms",
            # Twilio sometimes signs with the default port spelled out.
            "https://parlour.example.com:443/webhooks/twilio/sms",
        ]
    ):
        sender = new_number()
        params = inbound_params(
            account_sid=twilio.account.sid, from_=sender, to=twilio.number, body=f"via {i}"
        )
        resp = await post_inbound(client, params, twilio.account.auth_token, signed_url=url)
        assert resp.status_code == 200, resp.text
        assert [m["body"] for m in await thread_of(client, tenant, sender)] == [f"via {i}"]
    # The URL the app itself saw (http://test/…) is not what Twilio signed.
    sender = new_number()
    params = inbound_params(
        account_sid=twilio.account.sid, from_=sender, to=twilio.number, body="direct"
    )
    resp = await post_inbound(
        client, params, twilio.account.auth_token, signed_url="http://test/webhooks/twilio/sms"
    )
    assert resp.status_code == 403
