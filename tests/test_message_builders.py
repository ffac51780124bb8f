"""Message builders and validation against whatsapp-message.md (no database, no HTTP)."""

from __future__ import annotations

import copy
import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from django_sinch_whatsapp.client import messages
from django_sinch_whatsapp.client.messages import LIMITS, MESSAGE_TYPES, validate_message
from django_sinch_whatsapp.exceptions import MessageValidationError

from .message_samples import (
    BUTTONS_SAMPLE,
    CONTACT_CARD,
    IMAGE_SAMPLE,
    LIST_SAMPLE,
    SAMPLES,
    TEMPLATE_CALL_URL_SAMPLE,
    TEMPLATE_RICH_TEXT_SAMPLE,
)

BUILT_SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "text": lambda: messages.text("Greetings from Sinch"),
    "template": lambda: messages.template("test_template", body_params=["param here"]),
    "template_rich_text": lambda: messages.template(
        "demo_rich_text", header_params=["Nick"], body_params=["Swan Lake"]
    ),
    "template_call_url": lambda: messages.template(
        "some_template_name",
        header_params=["a_parameter"],
        body_params=["some_first_parameter", "some_second_parameter"],
        media={"type": "image", "url": "https://www.example.com/some_image.jpg", "provider": "some_provider_name"},
        buttons=[{"type": "call"}, {"type": "url", "parameter": "some_url_parameter"}],
        ttl="P1D",
    ),
    "template_quick_reply": lambda: messages.template(
        "some_template_name",
        language="en",
        header_params=["some_parameter"],
        body_params=["some_first_parameter", "some_second_parameter"],
        media={"type": "text"},
        buttons=[{"type": "quick_reply", "payload": "some_quick_reply_payload"}, {"type": "quick_reply"}],
    ),
    "template_deal_offer": lambda: messages.template(
        "deal_offer",
        body_params=["John", "books", "By train", "By car", "By drone"],
        buttons=[{"type": "quick_reply", "payload": f"books {way}"} for way in ("train", "car", "drone")],
    ),
    "image": lambda: messages.image("https://example.com/image.jpg", caption="Example Image"),
    "video": lambda: messages.video(
        "https://example.com/video.mp4", caption="Example Video", provider="your-bearer-provider"
    ),
    "document": lambda: messages.document("https://example.com", caption="Example study", filename="document.pdf"),
    "audio": lambda: messages.audio("https://example.com/song.mp3"),
    "location": lambda: messages.location(55.7047, 13.191, name="Sinch Ideon Lund", address="Scheelevägen 17"),
    "contacts": lambda: messages.contacts([CONTACT_CARD]),
    "sticker": lambda: messages.sticker(url="https://example.com/sticker.webp"),
    "interactive_buttons": lambda: messages.interactive_buttons(
        "Body text",
        [{"title": f"Title {n}", "id": f"Id {n}"} for n in (1, 2, 3)],
        header={"type": "video", "url": "https://example.com/video.mp4"},
        footer="Footer text",
    ),
    "interactive_list": lambda: messages.interactive_list(
        "Body text",
        "Press me",
        [
            {"title": "Section 1", "rows": [{"title": "A row", "id": "ID 1", "description": "Description"}]},
            {"title": "Section 2", "rows": [{"title": "Another row", "id": "ID 2", "description": "Description"}]},
        ],
        header_text="Header text",
        footer="Footer text",
    ),
}


def quietly(build: Callable[[], Any]) -> Any:
    """Run a builder whose input carries the deprecated ttl (the warning has its own test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return build()


@pytest.mark.parametrize("name", list(SAMPLES))
def test_builder_produces_the_docs_sample(name):
    assert quietly(BUILT_SAMPLES[name]) == SAMPLES[name]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_docs_sample_validates_unchanged(name):
    sample = copy.deepcopy(SAMPLES[name])
    assert quietly(lambda: validate_message(sample)) == SAMPLES[name]
    assert sample == SAMPLES[name]  # the input is not touched


def test_every_message_type_has_a_sample_and_a_builder():
    assert set(MESSAGE_TYPES) == {sample["type"] for sample in SAMPLES.values()}
    assert set(BUILT_SAMPLES) == set(SAMPLES)
    assert MESSAGE_TYPES[:2] == ("template", "text")


# --- the limits table: at the limit accepted, one past rejected with the right field -----------------


def chars(n: int) -> str:
    return "x" * n


def buttons_with(count: int = 3, index: int = 0, **members: Any) -> dict[str, Any]:
    """``count`` reply buttons; ``members`` override those of buttons[index]."""
    buttons = [{"id": f"id-{n}", "title": f"T{n}"} for n in range(count)]
    if members:
        buttons[index].update(members)
    return messages.interactive_buttons("Body", buttons)


def list_with(row_counts: tuple[int, ...] = (2, 3), *, row: dict[str, Any] | None = None, **kwargs: Any):
    """Sections with these row counts; ``row`` overrides members of the last row of the last section."""
    sections = [
        {"title": f"Section {s}", "rows": [{"id": f"r{s}-{r}", "title": f"Row {r}"} for r in range(count)]}
        for s, count in enumerate(row_counts)
    ]
    if row:
        sections[-1]["rows"][-1].update(row)
    if "section_title" in kwargs:
        sections[-1]["title"] = kwargs.pop("section_title")
    return messages.interactive_list(kwargs.pop("body", "Body"), kwargs.pop("button", "Choose"), sections, **kwargs)


ROW = "message.message.action.sections[1].rows[2]"
# limit name -> (build a message whose limited quantity is the argument, the concrete path of the field)
LIMIT_CASES: dict[str, tuple[Callable[[Any], Any], str]] = {
    "text": (lambda n: messages.text(chars(n)), "message.text"),
    # two parameters plus 5 characters of the template's own header text make up the total
    "template.header_params": (
        lambda n: messages.template("t", header_params=["a" * 10, chars(n - 15)], header_text_length=5),
        "message.header_params",
    ),
    "template.body_params": (
        lambda n: messages.template("t", body_params=["a" * 100, chars(n - 120)], body_text_length=20),
        "message.body_params",
    ),
    "provider": (lambda n: messages.image("https://example.com/a.png", provider=chars(n)), "message.provider"),
    "location.lat": (lambda degrees: messages.location(degrees, 0), "message.lat"),
    "location.lng": (lambda degrees: messages.location(0, degrees), "message.lng"),
    "interactive.header": (
        lambda n: messages.interactive_buttons("Body", [{"id": "a", "title": "A"}], header=chars(n)),
        "message.message.header.text",
    ),
    "interactive.body": (
        lambda n: messages.interactive_buttons(chars(n), [{"id": "a", "title": "A"}]),
        "message.message.body.text",
    ),
    "interactive.footer": (lambda n: list_with(footer=chars(n)), "message.message.footer.text"),
    "button.buttons": (lambda n: buttons_with(n), "message.message.action.buttons"),
    "button.id": (lambda n: buttons_with(3, 2, id=chars(n)), "message.message.action.buttons[2].id"),
    "button.title": (lambda n: buttons_with(3, 1, title=chars(n)), "message.message.action.buttons[1].title"),
    "list.button": (lambda n: list_with(button=chars(n)), "message.message.action.button"),
    "list.sections": (lambda n: list_with((1,) * n), "message.message.action.sections"),
    "list.section.title": (lambda n: list_with(section_title=chars(n)), "message.message.action.sections[1].title"),
    "list.section.rows": (lambda n: list_with((n,)), "message.message.action.sections[0].rows"),
    "list.rows_total": (lambda n: list_with((5, n - 5)), "message.message.action.sections"),
    "list.row.id": (lambda n: list_with(row={"id": chars(n)}), f"{ROW}.id"),
    "list.row.title": (lambda n: list_with(row={"title": chars(n)}), f"{ROW}.title"),
    "list.row.description": (lambda n: list_with(row={"description": chars(n)}), f"{ROW}.description"),
}


def beyond(limit: messages.Limit, value: float, direction: int) -> float:
    """The nearest value past ``value``: the next float for degrees, the next whole number otherwise."""
    if limit.unit == "degrees":
        return math.nextafter(value, direction * math.inf)
    return value + direction


def rejected(build: Callable[[], Any], field: str) -> MessageValidationError:
    with pytest.raises(MessageValidationError) as info:
        build()
    assert info.value.field == field, str(info.value)
    return info.value


def test_every_limit_has_a_case():
    assert set(LIMIT_CASES) == {limit.name for limit in LIMITS}
    assert len({limit.name for limit in LIMITS}) == len(LIMITS)


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.name)
def test_limit_accepted_at_maximum_and_rejected_one_past(limit):
    build, field = LIMIT_CASES[limit.name]
    assert re.sub(r"\[\d+\]", "[]", field) == limit.field
    built = build(limit.limit)
    assert validate_message(built) == built
    over = beyond(limit, limit.limit, +1)
    error = rejected(lambda: build(over), field)
    assert str(over) in error.problem and str(limit.limit) in error.problem
    assert (error.limit, error.actual) == (limit.limit, over)
    assert str(error).startswith(f"{field}: ")


@pytest.mark.parametrize("limit", [lim for lim in LIMITS if lim.minimum is not None], ids=lambda limit: limit.name)
def test_limit_accepted_at_minimum_and_rejected_one_below(limit):
    build, field = LIMIT_CASES[limit.name]
    build(limit.minimum)
    under = beyond(limit, limit.minimum, -1)
    error = rejected(lambda: build(under), field)
    assert str(under) in error.problem and str(limit.minimum) in error.problem
    assert (error.limit, error.actual) == (limit.minimum, under)


def test_problem_sentence_names_size_and_limit():
    error = rejected(lambda: messages.text(chars(4097)), "message.text")
    assert error.problem == "is 4097 characters; the limit is 4096"
    assert error.as_dict() == {"field": "message.text", "problem": error.problem, "limit": 4096, "actual": 4097}


def test_lengths_count_characters_not_bytes():
    assert messages.text("ä" * 4096)["text"] == "ä" * 4096
    assert messages.interactive_buttons("Body", [{"id": "a", "title": "ü" * 20}])


# --- text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: messages.text(""), "message.text"),
        (lambda: messages.text(None), "message.text"),
        (lambda: messages.text(42), "message.text"),
        (lambda: messages.text("hi", preview_url="yes"), "message.preview_url"),
        (lambda: validate_message({"type": "text"}), "message.text"),
    ],
)
def test_text_refusals(build, field):
    rejected(build, field)


def test_text_preview_url():
    assert messages.text("see https://sinch.com", preview_url=True)["preview_url"] is True
    assert validate_message({"type": "text", "text": "hi"}) == {"type": "text", "text": "hi"}


# --- template ---------------------------------------------------------------------------------------


def test_template_defaults_media_to_text_and_language_to_en():
    assert messages.template("hello") == {
        "type": "template",
        "template_name": "hello",
        "language": "en",
        "media": {"type": "text"},
    }
    raw = {"type": "template", "template_name": "hello"}
    assert validate_message(raw) == {**raw, "media": {"type": "text"}}


@pytest.mark.parametrize(
    ("language", "sent"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en_US", "en_US"),
        ("en_us", "en_US"),
        ("EN_GB", "en_GB"),
        ("pt_br", "pt_BR"),
        ("FIL", "fil"),
        ("zh_tw", "zh_TW"),
    ],
)
def test_template_language_codes_are_matched_case_insensitively_and_sent_as_the_docs_spell_them(language, sent):
    # whatsapp-introduction.md, "Supported language codes": "EN" is sent as "en", never as typed.
    assert messages.template("t", language=language)["language"] == sent
    assert validate_message({"type": "template", "template_name": "t", "language": language})["language"] == sent


@pytest.mark.parametrize("language", ["", "xx", "en-US", "english", "en_AU", 1])
def test_template_unknown_language_is_refused(language):
    rejected(lambda: messages.template("t", language=language), "message.language")


def test_template_caption_is_refused():
    media = {"type": "image", "url": "https://example.com/a.jpg", "caption": "no"}
    error = rejected(lambda: messages.template("t", media=media), "message.media.caption")
    assert "not allowed" in error.problem


def test_template_audio_is_refused():
    error = rejected(
        lambda: messages.template("t", media={"type": "audio", "url": "https://e.com/a.mp3"}), "message.media.type"
    )
    assert "audio" in error.problem


@pytest.mark.parametrize(
    ("media", "field"),
    [
        ({"type": "sticker", "url": "https://e.com/s.webp"}, "message.media.type"),
        ({"url": "https://e.com/a.jpg"}, "message.media.type"),
        ({"type": "image"}, "message.media.url"),
        ({"type": "image", "url": "e.com/a.jpg"}, "message.media.url"),
        ({"type": "image", "url": "https://e.com/a.jpg", "filename": "a.jpg"}, "message.media.filename"),
        ({"type": "text", "url": "https://e.com/a.jpg"}, "message.media.url"),
        ({"type": "video", "url": "https://e.com/a.mp4", "provider": "bad name!"}, "message.media.provider"),
        ("image", "message.media"),
    ],
)
def test_template_media_refusals(media, field):
    rejected(lambda: messages.template("t", media=media), field)


def test_template_document_media_takes_filename():
    media = {"type": "document", "url": "https://e.com/a.pdf", "filename": "a.pdf", "provider": "my_provider-1"}
    assert messages.template("t", media=media)["media"] == media


@pytest.mark.parametrize(
    ("buttons", "field"),
    [
        ([{"type": "reply"}], "message.buttons[0].type"),
        ([{"type": "call"}, {"type": "call", "payload": "x"}], "message.buttons[1].payload"),
        ([{"type": "url", "parameter": 5}], "message.buttons[0].parameter"),
        ([{"type": "quick_reply", "parameter": "x"}], "message.buttons[0].parameter"),
        ({"type": "call"}, "message.buttons"),
        (["call"], "message.buttons[0]"),
    ],
)
def test_template_button_refusals(buttons, field):
    rejected(lambda: messages.template("t", buttons=buttons), field)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"template_name": ""}, "message.template_name"),
        ({"header_params": "Nick"}, "message.header_params"),
        ({"body_params": ["ok", 3]}, "message.body_params[1]"),
        ({"header_text_length": -1}, "header_text_length"),
        ({"body_text_length": "12"}, "body_text_length"),
    ],
)
def test_template_argument_refusals(kwargs, field):
    rejected(lambda: messages.template(**{"template_name": "t", **kwargs}), field)


def test_template_text_lengths_count_in_the_totals():
    messages.template("t", body_params=[chars(1000)], body_text_length=24)
    error = rejected(
        lambda: messages.template("t", body_params=[chars(1000)], body_text_length=25), "message.body_params"
    )
    assert "1025" in error.problem and "1024" in error.problem
    rejected(lambda: validate_message(TEMPLATE_RICH_TEXT_SAMPLE, header_text_length=57), "message.header_params")


def test_template_params_removed_field_is_explained():
    raw = {"type": "template", "template_name": "t", "params": ["John"]}
    error = rejected(lambda: validate_message(raw), "message.params")
    assert "header_params" in error.problem


def test_template_ttl_warns_and_is_passed_through():
    with pytest.warns(DeprecationWarning, match="ttl") as record:
        built = messages.template("t", ttl="P1D")
    assert built["ttl"] == "P1D"
    assert record[0].filename == __file__  # points at the caller, not at messages.py
    with pytest.warns(DeprecationWarning) as record:
        assert validate_message(TEMPLATE_CALL_URL_SAMPLE)["ttl"] == "P1D"
    assert record[0].filename == __file__


def test_template_without_ttl_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        messages.template("t", body_params=["x"])


# --- media ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["", "www.example.com/a.jpg", "ftp://example.com/a.jpg", "https://", "file:///a.jpg"])
@pytest.mark.parametrize("build", [messages.image, messages.video, messages.document, messages.audio])
def test_media_url_must_be_http_or_https(build, url):
    rejected(lambda: build(url), "message.url")


def test_media_builders():
    assert messages.image("HTTP://example.com/a.png", provider="p") == {
        "type": "image",
        "url": "HTTP://example.com/a.png",
        "provider": "p",
    }
    assert messages.audio("https://e.com/a.ogg", provider="p")["provider"] == "p"
    assert messages.document("https://e.com/a.pdf") == {"type": "document", "url": "https://e.com/a.pdf"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": "audio", "url": "https://e.com/a.mp3", "caption": "no"}, "message.caption"),
        ({"type": "image", "url": "https://e.com/a.jpg", "filename": "a.jpg"}, "message.filename"),
        ({"type": "video", "url": "https://e.com/a.mp4", "caption": 7}, "message.caption"),
        ({"type": "image", "url": "https://e.com/a.jpg", "provider": "has space"}, "message.provider"),
        ({"type": "image"}, "message.url"),
    ],
)
def test_media_refusals(raw, field):
    rejected(lambda: validate_message(raw), field)


# --- location ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lng", "field"),
    [
        (True, 0, "message.lat"),
        (0, False, "message.lng"),
        (math.nan, 0, "message.lat"),
        (0, math.inf, "message.lng"),
        ("55.7", 0, "message.lat"),
        (None, 0, "message.lat"),
    ],
)
def test_location_refusals(lat, lng, field):
    rejected(lambda: messages.location(lat, lng), field)


def test_location_accepts_whole_numbers_and_bounds():
    assert messages.location(-90, 180) == {"type": "location", "lat": -90, "lng": 180}


# --- contacts ---------------------------------------------------------------------------------------


def card(**members: Any) -> dict[str, Any]:
    return {"name": {"formatted_name": "Ada Lovelace"}, **members}


def test_contacts_full_card():
    full = card(
        addresses=[
            {
                "type": "WORK",
                "street": "Scheelevägen 17",
                "city": "Lund",
                "zip": "223 63",
                "country": "Sweden",
                "country_code": "SE",
                "state": "Skåne",
            }
        ],
        birthday="1815-12-10",
        emails=[{"type": "HOME", "email": "ada@example.com"}],
        ims=[{"service": "AIM", "user_id": "ada"}],
        name={
            "formatted_name": "Ada Lovelace",
            "first_name": "Ada",
            "middle_name": "A.",
            "last_name": "Lovelace",
            "prefix": "Lady",
            "suffix": "II",
        },
        org={"company": "Analytical Engines"},
        phones=[
            {"type": phone_type, "phone": "+46 732 00 11 22"}
            for phone_type in ("CELL", "MAIN", "HOME", "WORK", "IPHONE")
        ],
        urls=[{"type": "HOME", "url": "https://example.com"}],
        contact_image_url="https://example.com/ada.png",
    )
    assert messages.contacts([full, card()]) == {"type": "contacts", "contacts": [full, card()]}


@pytest.mark.parametrize(
    ("cards", "field"),
    [
        ([], "message.contacts"),
        ({"name": {"formatted_name": "A"}}, "message.contacts"),
        (["Ada"], "message.contacts[0]"),
        ([card(), {"phones": []}], "message.contacts[1].name"),
        ([card(name={"first_name": "Ada"})], "message.contacts[0].name.formatted_name"),
        ([card(name={"formatted_name": ""})], "message.contacts[0].name.formatted_name"),
        ([card(nickname="Ada")], "message.contacts[0].nickname"),
        ([card(phones=[{"phone": "1", "type": "MOBILE"}])], "message.contacts[0].phones[0].type"),
        ([card(phones=[{"phone": "1", "type": "cell"}])], "message.contacts[0].phones[0].type"),
        ([card(emails=[{"email": "a@b.c"}, {"email": "x", "type": "OTHER"}])], "message.contacts[0].emails[1].type"),
        ([card(addresses=[{"type": "CELL", "city": "Lund"}])], "message.contacts[0].addresses[0].type"),
        ([card(addresses=[{"planet": "Earth"}])], "message.contacts[0].addresses[0].planet"),
        ([card(urls=[{"type": "WORK", "url": 1}])], "message.contacts[0].urls[0].url"),
        ([card(urls={"url": "https://e.com"})], "message.contacts[0].urls"),
        ([card(org={"company": "A", "ceo": "B"})], "message.contacts[0].org.ceo"),
        ([card(ims=["ada@aim"])], "message.contacts[0].ims[0]"),
        ([card(birthday="18-08-2012")], "message.contacts[0].birthday"),
        ([card(birthday="2012-02-30")], "message.contacts[0].birthday"),
        ([card(birthday="2012-8-18")], "message.contacts[0].birthday"),
        ([card(birthday=20120818)], "message.contacts[0].birthday"),
        ([card(contact_image_url="ada.png")], "message.contacts[0].contact_image_url"),
    ],
)
def test_contacts_refusals(cards, field):
    rejected(lambda: messages.contacts(cards), field)


def test_contacts_unknown_key_error_lists_known_fields():
    error = rejected(lambda: messages.contacts([card(nickname="Ada")]), "message.contacts[0].nickname")
    assert "birthday" in error.problem and "contact_image_url" in error.problem


# --- sticker ----------------------------------------------------------------------------------------


def test_sticker_by_url_or_by_id():
    assert messages.sticker(id="abc123") == {"type": "sticker", "id": "abc123"}
    assert messages.sticker(url="https://e.com/s.webp", provider="p") == {
        "type": "sticker",
        "url": "https://e.com/s.webp",
        "provider": "p",
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "https://e.com/s.webp", "id": "abc"}, "message.id"),
        ({}, "message.url"),
        ({"provider": "p"}, "message.url"),
        ({"id": "abc", "provider": "p"}, "message.provider"),
        ({"id": ""}, "message.id"),
        ({"url": "s.webp"}, "message.url"),
    ],
)
def test_sticker_refusals(kwargs, field):
    rejected(lambda: messages.sticker(**kwargs), field)


# --- interactive ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        {"type": "text", "text": "Hi"},
        {"type": "image", "url": "https://e.com/a.png", "provider": "p"},
        {"type": "video", "url": "https://e.com/a.mp4"},
        {"type": "document", "url": "https://e.com/a.pdf", "filename": "a.pdf", "provider": "p"},
    ],
)
def test_button_message_header_types(header):
    assert (
        messages.interactive_buttons("Body", [{"id": "a", "title": "A"}], header=header)["message"]["header"] == header
    )


def test_button_message_text_header_shorthand():
    built = messages.interactive_buttons("Body", [{"id": "a", "title": "A"}], header="Hi")
    assert built["message"]["header"] == {"type": "text", "text": "Hi"}


def test_button_ids_must_be_unique():
    buttons = [{"id": "same", "title": "A"}, {"id": "other", "title": "B"}, {"id": "same", "title": "C"}]
    error = rejected(lambda: messages.interactive_buttons("Body", buttons), "message.message.action.buttons[2].id")
    assert "buttons[0]" in error.problem


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"header": {"type": "audio", "url": "https://e.com/a.mp3"}}, "message.message.header.type"),
        ({"header": {"type": "text"}}, "message.message.header.text"),
        (
            {"header": {"type": "image", "url": "https://e.com/a.png", "filename": "a"}},
            "message.message.header.filename",
        ),
        ({"header": {"type": "video", "text": "x", "url": "https://e.com/a.mp4"}}, "message.message.header.text"),
        ({"header": {"type": "image", "url": "nope"}}, "message.message.header.url"),
        ({"buttons": [{"id": "a", "title": "A", "type": "url"}]}, "message.message.action.buttons[0].type"),
        ({"buttons": [{"id": "a"}]}, "message.message.action.buttons[0].title"),
        ({"buttons": [{"id": "a", "title": "A", "payload": "x"}]}, "message.message.action.buttons[0].payload"),
        ({"buttons": "a"}, "message.message.action.buttons"),
        ({"body": None}, "message.message.body.text"),
    ],
)
def test_button_message_refusals(kwargs, field):
    arguments = {"body": "Body", "buttons": [{"id": "a", "title": "A"}], **kwargs}
    rejected(lambda: messages.interactive_buttons(**arguments), field)


def test_list_rows_total_at_most_ten_across_sections():
    assert sum(len(s["rows"]) for s in list_with((3, 3, 4))["message"]["action"]["sections"]) == 10
    error = rejected(lambda: list_with((3, 3, 3, 2)), "message.message.action.sections")
    assert "11" in error.problem and "10" in error.problem


def test_list_row_ids_unique_across_sections():
    sections = [
        {"title": "One", "rows": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]},
        {"title": "Two", "rows": [{"id": "c", "title": "C"}, {"id": "a", "title": "A again"}]},
    ]
    error = rejected(
        lambda: messages.interactive_list("Body", "Choose", sections), "message.message.action.sections[1].rows[1].id"
    )
    assert "sections[0].rows[0]" in error.problem


@pytest.mark.parametrize(
    ("raw_header", "field"),
    [
        ({"type": "image", "url": "https://e.com/a.png"}, "message.message.header.type"),
        ({"type": "text", "text": "Hi", "url": "https://e.com"}, "message.message.header.url"),
    ],
)
def test_list_header_is_text_only(raw_header, field):
    raw = copy.deepcopy(LIST_SAMPLE)
    raw["message"]["header"] = raw_header
    rejected(lambda: validate_message(raw), field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m["action"]["sections"][0].pop("title"), "message.message.action.sections[0].title"),
        (lambda m: m["action"]["sections"][1]["rows"][0].pop("id"), "message.message.action.sections[1].rows[0].id"),
        (lambda m: m["action"]["sections"][0].update(extra=1), "message.message.action.sections[0].extra"),
        (lambda m: m["action"].update(buttons=[]), "message.message.action.buttons"),
        (lambda m: m["footer"].update(text=""), "message.message.footer.text"),
        (lambda m: m.update(type="carousel"), "message.message.type"),
        (lambda m: m.pop("body"), "message.message.body"),
    ],
)
def test_list_message_refusals(change, field):
    raw = copy.deepcopy(LIST_SAMPLE)
    change(raw["message"])
    rejected(lambda: validate_message(raw), field)


def test_list_row_description_is_optional():
    rows = list_with((1,))["message"]["action"]["sections"][0]["rows"]
    assert rows == [{"id": "r0-0", "title": "Row 0"}]


# --- validate_message on raw JSON -------------------------------------------------------------------


def test_unknown_type_lists_the_known_types():
    error = rejected(lambda: validate_message({"type": "carousel"}), "message.type")
    assert all(kind in error.problem for kind in MESSAGE_TYPES)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({}, "message.type"),
        ({"type": None}, "message.type"),
        ({"type": ["text"]}, "message.type"),
        ({"type": "voice", "url": "https://e.com/a.ogg"}, "message.type"),
        ([], "message"),
        ("text", "message"),
        ({"type": "text", "text": "hi", "to": ["46732001122"]}, "message.to"),
        ({"type": "interactive", "message": {"type": "button"}, "extra": 1}, "message.extra"),
        ({"type": "interactive"}, "message.message"),
        ({"type": "interactive", "message": "list"}, "message.message"),
    ],
)
def test_validate_message_refusals(raw, field):
    rejected(lambda: validate_message(raw), field)


def test_unknown_top_level_key_names_the_known_ones():
    error = rejected(lambda: validate_message({**IMAGE_SAMPLE, "filename": "x"}), "message.filename")
    assert "caption, provider, type, url" in error.problem


def test_validate_message_returns_a_normalized_copy():
    raw = {"type": "image", "url": "https://e.com/a.png", "caption": None, "provider": None}
    assert validate_message(raw) == {"type": "image", "url": "https://e.com/a.png"}
    nested = copy.deepcopy(BUTTONS_SAMPLE)
    result = validate_message(nested)
    result["message"]["action"]["buttons"][0]["title"] = "changed"
    result["message"]["body"]["text"] = "changed"
    assert nested == BUTTONS_SAMPLE
    tuples = validate_message({"type": "template", "template_name": "t", "body_params": ("a", "b")})
    assert tuples["body_params"] == ["a", "b"]


def test_builders_share_the_validation_of_validate_message():
    for name, build in BUILT_SAMPLES.items():
        built = quietly(build)
        assert quietly(lambda built=built: validate_message(built)) == built, name
