"""Transports: one package per way of reaching WhatsApp through Sinch, chosen per bot by name.

``get_transport("conversation")`` returns the class registered under that name.
The built-in ones are imported lazily (a webhook for a legacy bot never imports
the Conversation client); a project adds its own in the ``TRANSPORTS`` setting
(``{"cloud": "myproject.cloud_transport.CloudTransport"}``) or with
:func:`register_transport`. See :mod:`.base` for what a transport provides.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

from .base import CapabilityAnswer, Feature, SentMessage, Transport, WireRequest
from .errors import FeatureNotSupported, UnknownTransport

#: name -> dotted path of the Transport subclass.
BUILTIN_TRANSPORTS: dict[str, str] = {
    "whatsapp": "django_sinch_whatsapp.transports.whatsapp.WhatsAppTransport",
    "conversation": "django_sinch_whatsapp.transports.conversation.ConversationTransport",
}
DEFAULT_TRANSPORT = "whatsapp"

_registered: dict[str, str | type[Transport]] = {}


def register_transport(name: str, transport: str | type[Transport]) -> None:
    """Make ``transport`` (a class or its dotted path) available as ``name``; re-registering replaces."""
    if not name or not name.isidentifier():
        raise ValueError(f"transport name {name!r} must be a Python identifier, e.g. 'cloud'")
    _registered[name] = transport


def _table() -> dict[str, str | type[Transport]]:
    from ..conf import app_settings

    table: dict[str, str | type[Transport]] = dict(BUILTIN_TRANSPORTS)
    table.update(app_settings.TRANSPORTS or {})
    table.update(_registered)
    return table


def transport_names() -> tuple[str, ...]:
    """Every registered name, built-in ones first."""
    return tuple(_table())


def get_transport(name: str) -> type[Transport]:
    """The class registered as ``name``; :class:`UnknownTransport` (an ``ImproperlyConfigured``) otherwise."""
    table = _table()
    try:
        entry = table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise UnknownTransport(f"no transport named {name!r}; the registered transports are {known}") from None
    cls = import_string(entry) if isinstance(entry, str) else entry
    if not (isinstance(cls, type) and issubclass(cls, Transport)):
        raise UnknownTransport(f"transport {name!r} points at {entry!r}, which is not a Transport subclass")
    return cls


def transports_with(feature: Feature) -> tuple[str, ...]:
    """Names of the transports that have ``feature`` (for error messages); unloadable ones are skipped."""
    names = []
    for name in _table():
        try:
            if feature in get_transport(name).features:
                names.append(name)
        except (ImportError, UnknownTransport):
            continue
    return tuple(names)


__all__ = [
    "BUILTIN_TRANSPORTS",
    "DEFAULT_TRANSPORT",
    "CapabilityAnswer",
    "Feature",
    "FeatureNotSupported",
    "SentMessage",
    "Transport",
    "UnknownTransport",
    "WireRequest",
    "get_transport",
    "register_transport",
    "transport_names",
    "transports_with",
]
