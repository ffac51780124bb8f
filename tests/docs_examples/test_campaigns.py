"""docs/howto/campaigns.rst: a template campaign from a CSV, from Python, against the sandbox."""

from __future__ import annotations

import pytest


@pytest.mark.django_db(transaction=True)
def test_a_campaign_from_python(sandbox_bot, fresh_sandbox, tmp_path):
    bot = sandbox_bot
    path = tmp_path / "customers.csv"
    path.write_text("phone,first_name\n+46 70 123 45 67,Anna\n+46701234568,Björn\nnot-a-number,Carla\n")
    # [start-service]
    from django_sinch_whatsapp.services import campaigns

    campaign = campaigns.create_campaign(
        bot, template_name="order_ready", language="en", number_column="phone", param_columns=["first_name"]
    )
    with open(path, encoding="utf-8-sig", newline="") as stream:  # read a row at a time
        summary = campaigns.run_campaign(campaign, stream)

    assert (summary.accepted, summary.rejected, summary.sent) == (2, 1, 2)
    assert summary.rejections[0].line == 4  # the header is line 1
    # [end-service]
    assert fresh_sandbox.count("POST", "/messages") == 2  # one parameter set per row: a request each
