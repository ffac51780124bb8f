"""docs/howto/api.rst: a token, a filter, an error, a form body."""

from __future__ import annotations

import pytest


@pytest.mark.django_db(transaction=True)
def test_a_client_with_a_token_filters_and_reads_errors(api_user, sandbox_bot):
    from django_sinch_whatsapp.models import OutboundMessage

    OutboundMessage.objects.create(
        bot=sandbox_bot, recipient="46732001122", message_type="text", payload={"type": "text", "text": "hi"}
    )
    # [start-token]
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=api_user)  # or: manage.py drf_create_token alice
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")

    # Numbers match whatever way they are written.
    listed = api.get("/api/sinch-whatsapp/messages/", {"recipient": "+46 73-200 11 22", "state": "accepted"})
    print(listed.status_code, [m["recipient"] for m in listed.json()["results"]])
    # 200 ['46732001122']

    # A filter that does not validate is a 400 naming it, in the one error shape.
    refused = api.get("/api/sinch-whatsapp/messages/", {"state": "lost"})
    print(refused.status_code, refused.json()["error"]["code"], list(refused.json()["error"]["fields"]))
    # 400 invalid ['state']
    # [end-token]
    assert listed.status_code == 200 and len(listed.json()["results"]) == 1
    assert refused.status_code == 400 and list(refused.json()["error"]["fields"]) == ["state"]


@pytest.mark.django_db(transaction=True)
def test_a_form_send(api_user, sandbox_bot):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(api_user)
    bot = sandbox_bot
    # [start-form]
    sent = api.post(
        f"/api/sinch-whatsapp/bots/{bot.pk}/send/",
        "to=46732001122,46732001133&text=Hello&allow_outside_window=true",
        content_type="application/x-www-form-urlencoded",
    )
    print(sent.status_code, sorted(m["recipient"] for m in sent.json()["messages"]))
    # 201 ['46732001122', '46732001133']
    # [end-form]
    assert sent.status_code == 201, sent.content
