"""Encrypted model field for bearer tokens and callback signing keys.

Values are encrypted with cryptography's ``MultiFernet`` over
``SINCH_WHATSAPP["ENCRYPTION_KEYS"]`` (the first key encrypts, every key
decrypts, so keys can be rotated). Reading a row never decrypts: the attribute
is a :class:`Secret` that decrypts only when :meth:`Secret.reveal` is called,
and whose ``str``/``repr`` never show the value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ValidationError
from django.db import models

from .client.session import HEADER_SAFE_RULE, header_safe
from .conf import app_settings
from .exceptions import SecretDecryptionError, SinchConfigurationError

REDACTED = "********"


def validate_header_secret(value: Any) -> None:
    """Refuse a secret sent in a header (the bearer token) that HTTP cannot carry; never echoes the value."""
    text = value.reveal() if isinstance(value, Secret) else str(value or "")
    if not header_safe(text):
        bad = sum(1 for char in text if not header_safe(char))
        raise ValidationError(
            f"It has {bad} character(s) that cannot be used: {HEADER_SAFE_RULE} (letters such as \u03a9 or "
            "accented ones, spaces and line breaks cannot). Paste the token exactly as Sinch shows it.",
            code="header_unsafe",
        )


def _fernet() -> MultiFernet:
    keys = app_settings.ENCRYPTION_KEYS
    if isinstance(keys, (str, bytes)):
        keys = [keys]
    if not keys:
        raise SinchConfigurationError(
            'SINCH_WHATSAPP["ENCRYPTION_KEYS"] is empty: bot secrets cannot be stored or read. '
            "Generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as err:
        raise SinchConfigurationError(
            'SINCH_WHATSAPP["ENCRYPTION_KEYS"] holds a value that is not a Fernet key '
            "(32 url-safe base64-encoded bytes)"
        ) from err


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as err:
        raise SecretDecryptionError(
            "A stored secret cannot be decrypted with any key in "
            'SINCH_WHATSAPP["ENCRYPTION_KEYS"]: was a key removed or changed?'
        ) from err


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the first key (after a new key was put first)."""
    try:
        return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken as err:
        raise SecretDecryptionError("A stored secret cannot be decrypted for rotation") from err


class Secret:
    """A secret that is shown as ``********`` everywhere but :meth:`reveal`."""

    __slots__ = ("_ciphertext", "_plaintext")

    def __init__(self, *, plaintext: str | None = None, ciphertext: str | None = None) -> None:
        self._plaintext = plaintext
        self._ciphertext = ciphertext

    @classmethod
    def from_db(cls, ciphertext: str) -> Secret:
        return cls(ciphertext=ciphertext)

    def reveal(self) -> str:
        if self._plaintext is None:
            self._plaintext = decrypt(self._ciphertext or "")
        return self._plaintext

    def ciphertext(self) -> str:
        if self._ciphertext is None:
            self._ciphertext = encrypt(self._plaintext or "")
        return self._ciphertext

    def __bool__(self) -> bool:
        return bool(self._ciphertext) or bool(self._plaintext)

    def __str__(self) -> str:
        return REDACTED if self else ""

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})" if self else "Secret('')"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self.reveal() == other.reveal()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return (Secret.from_db, (self.ciphertext(),))


class _SecretAttribute:
    """Turns any assigned ``str`` into a :class:`Secret`, so the model attribute is always one."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return instance.__dict__.get(self.name)

    def __set__(self, instance: Any, value: Any) -> None:
        if value is not None and not isinstance(value, Secret):
            value = Secret(plaintext=str(value))
        instance.__dict__[self.name] = value


if TYPE_CHECKING:
    # For django-stubs: the model attribute accepts a ``str`` or a ``Secret`` and always holds a
    # ``Secret`` (see ``_SecretAttribute``). Django's ``Field`` is not subscriptable at runtime.
    _SecretTextField = models.TextField[Secret | str, Secret]
else:
    _SecretTextField = models.TextField


class EncryptedSecretField(_SecretTextField):
    """A ``TextField`` that stores Fernet ciphertext and hands out :class:`Secret`.

    Assign a plain ``str`` (or a ``Secret``); an empty string means "no secret".
    """

    description = "An encrypted secret, never shown"

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        setattr(cls, self.attname, _SecretAttribute(self.attname))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | None:
        if value is None:
            return None
        if value == "":
            return Secret(plaintext="")
        return Secret.from_db(value)

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, Secret):
            return value
        return Secret(plaintext=str(value))

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, Secret):
            return value.ciphertext() if value else ""
        value = str(value)
        return encrypt(value) if value else ""

    def value_to_string(self, obj: Any) -> str:
        # Serialization (dumpdata) writes ciphertext, never plaintext.
        value = self.value_from_object(obj)
        return self.get_prep_value(value) or ""

    def formfield(self, **kwargs: Any) -> Any:
        from .forms import WriteOnlySecretField, WriteOnlySecretWidget

        # Any ModelForm gets a widget that never renders the stored value.
        defaults: dict[str, Any] = {
            "form_class": WriteOnlySecretField,
            "widget": WriteOnlySecretWidget,
            "required": not self.blank,
        }
        defaults.update(kwargs)
        defaults.pop("max_length", None)
        return super().formfield(**defaults)
