"""Form pieces for write-only secrets: the current value is never rendered."""

from __future__ import annotations

from typing import Any

from django import forms

from .fields import Secret


class WriteOnlySecretWidget(forms.PasswordInput):
    """A password input that never renders the stored value.

    Its placeholder tells whether a secret is set; leaving it empty keeps the
    stored secret (see :class:`SecretFieldsFormMixin`).
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        attrs = dict(attrs or {})
        if isinstance(value, Secret) and value:
            attrs["placeholder"] = "set (hidden): type a new value to replace it"
        else:
            attrs.setdefault("placeholder", "not set")
        return super().get_context(name, None, attrs)


class WriteOnlySecretField(forms.CharField):
    # A class here, an instance once the field is built (as in Django's own fields).
    widget: forms.Widget | type[forms.Widget] = WriteOnlySecretWidget

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data)


class SecretFieldsFormMixin:
    """For ModelForms: an empty secret input keeps the stored secret."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        instance = getattr(self, "instance", None)
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            if isinstance(field, WriteOnlySecretField) and instance is not None and getattr(instance, name, None):
                field.required = False

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        instance = getattr(self, "instance", None)
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            if isinstance(field, WriteOnlySecretField) and not cleaned.get(name) and instance is not None:
                stored = getattr(instance, name, None)
                if stored:
                    cleaned[name] = stored
        return cleaned
