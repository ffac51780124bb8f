"""Phone numbers: exact or refused, one normalizer for every entry point (issue 7, item 1)."""

from __future__ import annotations

import phonenumbers
import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from django_sinch_whatsapp import services
from django_sinch_whatsapp.exceptions import SinchConfigurationError
from django_sinch_whatsapp.models import Bot, Contact, OutboundMessage
from django_sinch_whatsapp.phone import InvalidPhoneNumber, best_effort_e164, to_e164

from .conftest import TOKEN
from .test_admin import bot_form_data

REFUSED = object()

# (input, default region, E.164 or REFUSED, words the refusal must contain)
TABLE = [
    # Sweden, every decoration
    ("+46732001122", None, "+46732001122", ""),
    ("46732001122", None, "+46732001122", ""),
    ("+46 73 200 11 22", None, "+46732001122", ""),
    ("+46 73-200 11 22", None, "+46732001122", ""),
    ("+46 (73) 200-11-22", None, "+46732001122", ""),
    ("0046 73 200 11 22", None, "+46732001122", ""),
    ("0046-73-200-11-22", None, "+46732001122", ""),
    ("46.73.200.11.22", None, "+46732001122", ""),
    ("  +46732001122  ", None, "+46732001122", ""),
    ("+46\u00a073\u00a0200\u00a011\u00a022", None, "+46732001122", ""),
    # national format with a region
    ("0732001122", "SE", "+46732001122", ""),
    ("073-200 11 22", "se", "+46732001122", ""),
    ("(202) 555-0123", "US", "+12025550123", ""),
    ("202-555-0123", "US", "+12025550123", ""),
    ("020 7946 0958", "GB", "+442079460958", ""),
    ("07911 123456", "GB", "+447911123456", ""),
    ("030 123456", "DE", "+4930123456", ""),
    ("011 46 73 200 11 22", "US", "+46732001122", ""),
    # international numbers keep their country whatever the region
    ("+46732001122", "US", "+46732001122", ""),
    ("46732001122", "US", "+46732001122", ""),
    ("0046732001122", "GB", "+46732001122", ""),
    # other countries
    ("+1 202 555 0123", None, "+12025550123", ""),
    ("+1 (650) 555-1234", None, "+16505551234", ""),
    ("+44 7911 123456", None, "+447911123456", ""),
    ("+49 151 12345678", None, "+4915112345678", ""),
    ("+91 98765 43210", None, "+919876543210", ""),
    ("+55 11 91234-5678", None, "+5511912345678", ""),
    ("+81 90-1234-5678", None, "+819012345678", ""),
    ("+27 82 123 4567", None, "+27821234567", ""),
    ("+61 412 345 678", None, "+61412345678", ""),
    # extensions and letters are refused, never stripped
    ("46732001122 ext. 5", None, REFUSED, "letters"),
    ("46732001122x", None, REFUSED, "letters"),
    ("+46732001122 x5", None, REFUSED, "letters"),
    ("+46732001122;ext=5", None, REFUSED, "';'"),
    ("+46732001122#5", None, REFUSED, "'#'"),
    ("1-800-FLOWERS", "US", REFUSED, "letters"),
    ("+46 73 200 11 22 (home)", None, REFUSED, "letters"),
    ("not-a-number", None, REFUSED, "letters"),
    ("+46 73 2OO 11 22", None, REFUSED, "letters"),  # capital O, not zero
    ("\u0664\u0666\u0667\u0663\u0662\u0660\u0660\u0661\u0661\u0662\u0662", None, REFUSED, "another script"),
    # punctuation that is not decoration
    ("++46732001122", None, REFUSED, "'+' may only start"),
    ("46+732001122", None, REFUSED, "'+' may only start"),
    ("+46 (73 200 11 22", None, REFUSED, "not closed"),
    ("+46 73) 200 11 22", None, REFUSED, "without a '('"),
    ("+46 ((73)) 200", None, REFUSED, "inside parentheses"),
    ("+46/73/2001122", None, REFUSED, "'/'"),
    ("+46_732001122", None, REFUSED, "'_'"),
    # too short, too long, no country
    ("", None, REFUSED, "empty"),
    ("   ", None, REFUSED, "empty"),
    ("+", None, REFUSED, "no digits"),
    ("- ( ) -", None, REFUSED, "no digits"),
    ("12", None, REFUSED, "too few digits"),
    ("+4612", None, REFUSED, "too few digits"),
    ("+46 7320 0112 2334 455", None, REFUSED, "at most 15"),
    ("1234567890123456", None, REFUSED, "too many digits"),
    ("+999 1234 5678", None, REFUSED, "country calling code"),
    ("+0046732001122", None, REFUSED, "country calling code"),
    # national without a region: refused with the way out
    ("0732001122", None, REFUSED, "national format"),
    ("073-200 11 22", None, REFUSED, "DEFAULT_REGION"),
    ("07911 123456", None, REFUSED, "+ and the country code"),
    # a region that does not exist
    ("0732001122", "XX", REFUSED, "not a known country code"),
]


@pytest.mark.parametrize(("raw", "region", "expected", "words"), TABLE)
def test_numbers_are_exact_or_refused(raw, region, expected, words):
    if expected is REFUSED:
        with pytest.raises(InvalidPhoneNumber) as info:
            to_e164(raw, region)
        reason = info.value.reason
        assert words in reason
        # A plain sentence: no library error codes such as "(0)" or "(1)".
        assert "(0)" not in reason and "(1)" not in reason and "NumberParseException" not in reason
        assert best_effort_e164(raw, region) == raw.strip()  # callbacks keep the raw text
    else:
        assert to_e164(raw, region) == expected
        assert best_effort_e164(raw, region) == expected


def test_the_table_has_at_least_40_rows_in_several_countries():
    countries = {phonenumbers.region_code_for_number(phonenumbers.parse(e)) for _, _, e, _ in TABLE if e is not REFUSED}
    assert len(TABLE) >= 40 and len(countries) >= 8


# -- property: any accepted decoration of a valid number is that number ----------------------------------


def _example_numbers() -> list[str]:
    found = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                found.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return sorted(found)


EXAMPLES = _example_numbers()


@st.composite
def valid_e164(draw: st.DrawFn) -> str:
    """A valid number: a country's example with its last digits redrawn (kept only while still valid)."""
    base = draw(st.sampled_from(EXAMPLES))
    keep = len(base) - draw(st.integers(0, 3))
    candidate = base[:keep] + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=len(base) - keep, max_size=len(base) - keep))
    )
    number = phonenumbers.parse(candidate)
    return candidate if phonenumbers.is_valid_number(number) else base


@st.composite
def decorated(draw: st.DrawFn, e164: str) -> str:
    """``e164`` written with spaces, dashes, dots, parentheses, a leading + or 00 (or bare digits)."""
    digits = e164[1:]
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=5)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    if len(groups) > 1 and draw(st.booleans()):
        index = draw(st.integers(0, len(groups) - 1))
        groups[index] = f"({groups[index]})"
    separators = st.sampled_from([" ", "-", ".", "", "  ", " - "])
    text = groups[0] + "".join(draw(separators) + group for group in groups[1:])
    prefix = draw(st.sampled_from(["+", "00", "+ ", ""]))
    padding = draw(st.sampled_from(["", " ", "\t"]))
    return f"{padding}{prefix}{text}{padding}"


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_any_accepted_decoration_of_a_valid_number_is_exactly_that_number(data):
    e164 = data.draw(valid_e164())
    written = data.draw(decorated(e164))
    assert to_e164(written) == e164


pytestmark_db = pytest.mark.django_db(transaction=True)


@pytestmark_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_number_sent_is_exactly_the_number_given(sandbox_bot, fresh_sandbox, data):
    """End to end: services -> dispatch -> sandbox; the recorded ``to`` is the number's digits."""
    e164 = data.draw(valid_e164())
    written = data.draw(decorated(e164))
    fresh_sandbox.reset()
    fresh_sandbox.register_bot(sandbox_bot.sinch_bot_id, TOKEN, region="us")
    outcome = services.send_text(sandbox_bot, [written], "Hi", allow_outside_window=True)
    assert outcome.rejected == [] and outcome.errors == []
    posts = [r for r in fresh_sandbox.requests_log if r["method"] == "POST" and r["path"].endswith("/messages")]
    assert [p["body"]["to"] for p in posts] == [[e164[1:]]]
    assert Contact.objects.filter(bot=sandbox_bot, number=e164).exists()


# -- the region: bot field, setting, and refusal ----------------------------------------------------------


def message_posts(sandbox):
    return [r for r in sandbox.requests_log if r["method"] == "POST" and r["path"].endswith("/messages")]


@pytestmark_db
def test_national_numbers_are_refused_without_a_region_and_nothing_is_sent(sandbox_bot, fresh_sandbox):
    outcome = services.send_text(sandbox_bot, ["0732001122", "46732001122 ext. 5"], "Hi", allow_outside_window=True)
    reasons = {r.raw: r.reason for r in outcome.rejected}
    assert "default region" in reasons["0732001122"] and "letters" in reasons["46732001122 ext. 5"]
    assert outcome.messages == [] and message_posts(fresh_sandbox) == []
    assert not Contact.objects.exists() and not OutboundMessage.objects.exists()


@pytestmark_db
def test_the_setting_reads_national_numbers(sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DEFAULT_REGION": "SE"}
    outcome = services.send_text(sandbox_bot, ["073-200 11 22"], "Hi", allow_outside_window=True)
    assert [m.recipient for m in outcome.messages] == ["46732001122"]
    assert message_posts(fresh_sandbox)[0]["body"]["to"] == ["46732001122"]


@pytestmark_db
def test_the_bots_region_wins_over_the_setting(sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DEFAULT_REGION": "SE"}
    sandbox_bot.default_region = "GB"
    sandbox_bot.save()
    outcome = services.opt_in(sandbox_bot, ["07911 123456"])
    assert outcome.done == ["+447911123456"]
    [post] = [r for r in fresh_sandbox.requests_log if r["path"].endswith("/provision/optin")]
    assert post["body"]["numbers"] == ["447911123456"]


@pytestmark_db
def test_an_unknown_region_setting_is_a_configuration_error(sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DEFAULT_REGION": "Sweden"}
    with pytest.raises(SinchConfigurationError, match="DEFAULT_REGION"):
        services.send_text(sandbox_bot, ["0732001122"], "Hi", allow_outside_window=True)
    assert fresh_sandbox.requests_log == []


@pytest.mark.django_db
def test_the_api_shows_and_validates_the_bots_region(api_user, bot):
    api = APIClient()
    api.force_authenticate(api_user)
    url = f"/api/sinch-whatsapp/bots/{bot.pk}/"
    assert api.get(url).json()["default_region"] == ""
    refused = api.patch(url, {"default_region": "XX"}, format="json")
    assert refused.status_code == 400 and "default_region" in refused.json()["error"]["fields"]
    assert api.patch(url, {"default_region": "SE"}, format="json").status_code == 200
    assert Bot.objects.get(pk=bot.pk).default_region == "SE"


@pytest.mark.django_db
def test_the_admin_shows_and_validates_the_bots_region(admin_client, bot):
    url = reverse("admin:sinch_whatsapp_bot_change", args=[bot.pk])
    assert 'name="default_region"' in admin_client.get(url).content.decode()
    refused = admin_client.post(url, bot_form_data(bot, default_region="ZZ"))
    assert refused.status_code == 200 and "default_region" in refused.context["adminform"].form.errors
    accepted = admin_client.post(url, bot_form_data(bot, default_region="SE"))
    assert accepted.status_code == 302
    assert Bot.objects.get(pk=bot.pk).default_region == "SE"
