"""docs/tutorials/multi-tenant.rst: a SaaS front end creates a bot and sends through the API."""

from __future__ import annotations

import pytest

from tests.conftest import CALLBACK_KEY, TOKEN


@pytest.mark.django_db(transaction=True)
def test_a_tenant_creates_a_bot_and_sends_a_template(api_user, organization, other_organization, fresh_sandbox):
    fresh_sandbox.register_bot("acme-bot", TOKEN, region="us", callback_key=CALLBACK_KEY)
    # [start-api]
    from rest_framework.test import APIClient

    api = APIClient()
    api.login(username="alice", password="pw-alice")  # a member of "Acme" only

    created = api.post(
        "/api/sinch-whatsapp/bots/",
        {
            "tenant": organization.pk,
            "name": "Acme support",
            "sinch_bot_id": "acme-bot",
            "region": "us",
            "bearer_token": TOKEN,  # write-only: never in any answer
            "callback_key": CALLBACK_KEY,
            "base_url_override": fresh_sandbox.region_url("us"),  # the sandbox stands in for Sinch
        },
        format="json",
    )
    bot = created.json()
    print(created.status_code, sorted(key for key in bot if "token" in key or "key" in key))
    # 201 ['has_callback_key']

    sent = api.post(
        f"/api/sinch-whatsapp/bots/{bot['id']}/send/",
        {
            "to": ["46732001122"],
            # The message object as whatsapp-message.md writes it; checked against every documented limit.
            "message": {"type": "template", "template_name": "order_update", "language": "en", "body_params": ["4711"]},
        },
        format="json",
    )
    print(sent.status_code, sent.json()["messages"][0]["state"])
    # 201 queued

    # Another tenant's bot is not there for Alice: 404, not 403.
    foreign = api.post(
        "/api/sinch-whatsapp/bots/",
        {"tenant": other_organization.pk, "name": "Globex", "sinch_bot_id": "g", "bearer_token": "t"},
        format="json",
    )
    print(foreign.status_code, foreign.json()["error"]["code"], list(foreign.json()["error"]["fields"]))
    # 400 invalid ['tenant']
    # [end-api]
    assert created.status_code == 201, created.content
    assert TOKEN not in created.content.decode() and CALLBACK_KEY not in created.content.decode()
    assert sent.status_code == 201, sent.content
    assert sent.json()["messages"][0]["state"] == "queued"
    assert foreign.status_code == 400 and "tenant" in foreign.json()["error"]["fields"]
