"""Errors of the transport seam, as subclasses of the one error tree (:mod:`django_sinch_whatsapp.exceptions`)."""

from __future__ import annotations

from ..exceptions import SinchConfigurationError, SinchNotFound, SinchUnauthorized, SinchWhatsAppError


class FeatureNotSupported(SinchWhatsAppError):
    """A bot asked its transport for a feature only another transport has (e.g. stickerpacks on Conversation).

    Services answer it as a 4xx in the API and a message in the admin: it is the caller's
    choice of feature that is wrong, never a fault at Sinch. ``transport`` and ``feature``
    are the names, so the text can say which transport lacks what.
    """

    def __init__(self, transport: str, feature: str, *, available_on: tuple[str, ...] = ()) -> None:
        self.transport = transport
        self.feature = feature
        self.available_on = available_on
        where = f"; it exists on the {', '.join(available_on)} transport" if available_on else ""
        super().__init__(f"{feature} is not available on the {transport!r} transport{where}")


class UnknownTransport(SinchConfigurationError):
    """A bot or setting names a transport nobody registered."""


class ConversationNotFound(SinchNotFound):
    """404 from the Conversation API: often the app lives in another region than the host called."""

    default_hint = (
        "Wrong region or project/app id? A Conversation API app lives in one region (us, eu or br) "
        "and the other regions' hosts answer 404 for it."
    )


class ConsentRegistrationNotFound(ConversationNotFound):
    """404 from ``optins:register``/``optouts:register``, which the Conversation API may no longer offer."""

    default_hint = (
        "Opt-in and opt-out registration is optional on the Conversation API: WhatsApp needs none there and "
        "Sinch may no longer answer optins:register/optouts:register (a 404). Check also the region and the "
        "project/app id (an app lives in one region)."
    )


class ConversationUnauthorized(SinchUnauthorized):
    """401 from the Conversation API or its token endpoint: the access key or the OAuth token is wrong."""

    default_hint = (
        "Check the bot's access key id and secret (Sinch dashboard, Settings > Access keys) and "
        "that the key belongs to the bot's project."
    )


class ConversationForbidden(SinchUnauthorized):
    """403 from the Conversation API: the key may not act on this project or app."""

    default_hint = "The access key is valid but not allowed to use this project or app."
