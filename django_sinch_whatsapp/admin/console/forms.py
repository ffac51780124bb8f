"""The console's send and reply forms: what a person types, turned into a message the builders validate.

A builder's ``MessageValidationError`` names a dotted path into the message
(``message.body_params[0]``); :func:`show_validation_error` puts it on the
form field that path came from, so the person sees it next to what they typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ...exceptions import MessageValidationError

KINDS = [
    ("text", _("text (inside the 24-hour window)")),
    ("template", _("template")),
    ("image", _("image")),
    ("video", _("video")),
    ("document", _("document")),
    ("audio", _("audio")),
]
MEDIA_KINDS = ("image", "video", "document", "audio")

# The first path segment after "message." that names each form field.
_FIELD_FOR_PATH = {
    "text": "text",
    "caption": "text",
    "template_name": "template",
    "language": "language",
    "body_params": "body_params",
    "header_params": "header_params",
    "url": "media_url",
    "media": "media_url",
    "filename": "media_url",
    "type": "kind",
}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class MessageForm(forms.Form):
    """The message part shared by "send" and "reply": a kind and the fields that kind reads."""

    kind = forms.ChoiceField(label=_("Message"), choices=KINDS, initial="template")
    text = forms.CharField(
        label=_("Text or caption"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("The text of a text message, or the caption of an image, video or document."),
    )
    template = forms.CharField(label=_("Template name"), required=False, max_length=512)
    language = forms.CharField(label=_("Template language"), required=False, initial="en", max_length=16)
    header_params = forms.CharField(
        label=_("Header parameters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("One per line, in the template's order."),
    )
    body_params = forms.CharField(
        label=_("Body parameters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("One per line, in the template's order."),
    )
    media_url = forms.URLField(
        label=_("Media URL"),
        required=False,
        assume_scheme="https",
        max_length=2000,
        widget=forms.URLInput(attrs={"size": 80}),
        help_text=_("For an image, video, document or audio message, or a template's media header."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        kind = cleaned.get("kind")
        if kind == "template" and not cleaned.get("template"):
            self.add_error("template", _("A template message needs the template's name."))
        if kind == "text" and not (cleaned.get("text") or "").strip():
            self.add_error("text", _("A text message needs text."))
        if kind in MEDIA_KINDS and not cleaned.get("media_url"):
            self.add_error("media_url", _("A media message needs the URL of its media."))
        return cleaned

    def message(self) -> dict[str, Any]:
        """The wire ``message`` object (unvalidated: ``services.send_message`` validates it)."""
        data = self.cleaned_data
        kind = data["kind"]
        if kind == "text":
            return {"type": "text", "text": data["text"]}
        if kind == "template":
            message: dict[str, Any] = {
                "type": "template",
                "template_name": data["template"],
                "language": data.get("language") or "en",
            }
            for key in ("header_params", "body_params"):
                params = _lines(data.get(key) or "")
                if params:
                    message[key] = params
            if data.get("media_url"):
                media_type = "document" if data["media_url"].lower().endswith(".pdf") else "image"
                message["media"] = {"type": media_type, "url": data["media_url"]}
            return message
        message = {"type": kind, "url": data["media_url"]}
        if data.get("text") and kind != "audio":
            message["caption"] = data["text"]
        return message


class SendForm(MessageForm):
    """A bot's "send a message": one or more numbers, then the message."""

    numbers = forms.CharField(
        label=_("Numbers"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=_("One or more numbers in international format, one per line or separated by commas."),
    )
    field_order = ["numbers", "kind", "template", "language", "header_params", "body_params", "text", "media_url"]

    def recipients(self) -> list[str]:
        raw = self.cleaned_data["numbers"].replace(",", "\n")
        return _lines(raw)


def show_validation_error(form: forms.Form, err: MessageValidationError) -> None:
    """Put a builder's error on the field its path names (the whole form when no field matches)."""
    path = err.field
    if path.startswith("message."):
        key = path[len("message.") :].split(".")[0].split("[")[0]
        name = _FIELD_FOR_PATH.get(key)
        if name and name in form.fields:
            form.add_error(name, f"{path}: {err.problem}")
            return
    if path == "bot":
        form.add_error(None, _("This bot %(problem)s.") % {"problem": err.problem})
        return
    form.add_error(None, str(err))
