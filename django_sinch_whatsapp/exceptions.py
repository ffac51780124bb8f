"""The one error tree of the package.

``SinchAPIError`` and its subclasses carry what Sinch answered (status,
``message``, ``details``) and the request that caused it (method and path,
never the token), so the admin and the API can show people the real reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured


class SinchWhatsAppError(Exception):
    """Base class of every error raised by django-sinch-whatsapp."""


class SinchConfigurationError(SinchWhatsAppError, ImproperlyConfigured):
    """The project or a bot is set up in a way that cannot work."""


class SecretDecryptionError(SinchConfigurationError):
    """A stored secret cannot be decrypted with any configured key."""


class MessageValidationError(SinchWhatsAppError, ValueError):
    """Our own input breaks a documented Sinch limit; nothing was sent.

    ``field`` is a dotted path into the message (``message.action.buttons[3]``),
    ``limit`` the documented limit, ``actual`` what was given.
    """

    def __init__(self, field: str, problem: str, *, limit: Any = None, actual: Any = None) -> None:
        self.field = field
        self.problem = problem
        self.limit = limit
        self.actual = actual
        super().__init__(f"{field}: {problem}")

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "problem": self.problem, "limit": self.limit, "actual": self.actual}


class OutsideCustomerCareWindow(SinchWhatsAppError):
    """A session (non-template) message to a contact whose 24-hour window is closed.

    ``numbers`` holds (up to ten of) the E.164 numbers refused, ``count`` how many there were.
    """

    def __init__(self, message: str, *, numbers: Sequence[str] = (), count: int = 0) -> None:
        self.numbers = list(numbers)
        self.count = count or len(self.numbers)
        super().__init__(message)


class MessagingTierExceeded(SinchWhatsAppError):
    """A template campaign would message more unique users in 24 hours than the bot's tier allows.

    Raised before any row is written; ``tier``, ``used`` (unique recipients in
    the rolling 24 hours, including deferred ones) and ``requested`` say by how much.
    """

    def __init__(self, tier: int, used: int, requested: int) -> None:
        self.tier, self.used, self.requested = tier, used, requested
        super().__init__(
            f"messaging tier {tier:,} unique users per 24 hours: {used:,} used, {requested:,} requested, "
            f"{max(tier - used, 0):,} left; pass over_tier='defer' to send the rest when the window allows"
        )


class IdempotencyKeyReused(SinchWhatsAppError):
    """An ``Idempotency-Key`` already used for a different request (the API answers 422)."""


class IdempotencyKeyInProgress(SinchWhatsAppError):
    """The first request with this ``Idempotency-Key`` is still being sent (the API answers 409)."""


class SinchAPIError(SinchWhatsAppError):
    """Sinch answered with an error, or could not be reached.

    ``message`` and ``details`` are Sinch's own fields (whatsapp-introduction.md,
    "HTTP Errors"); ``method`` and ``path`` identify our request without secrets.
    """

    default_hint = ""

    def __init__(
        self,
        message: str = "",
        details: str = "",
        *,
        status_code: int | None = None,
        method: str = "",
        path: str = "",
        response_text: str = "",
    ) -> None:
        self.message = message
        self.details = details
        self.status_code = status_code
        self.method = method
        self.path = path
        self.response_text = response_text[:2000]
        super().__init__(self.__str__())

    @property
    def hint(self) -> str:
        return self.default_hint

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f"HTTP {self.status_code}" if self.status_code else "no HTTP answer"
        text = self.message or "Sinch error"
        if self.details:
            text = f"{text}: {self.details}"
        parts = [f"{status} from Sinch", text]
        if where:
            parts.append(f"({where})")
        if self.hint:
            parts.append(self.hint)
        return " ".join([parts[0] + ":", *parts[1:]])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r}, details={self.details!r}, method={self.method!r}, path={self.path!r})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status_code": self.status_code,
            "message": self.message,
            "details": self.details,
            "hint": self.hint,
        }


class SinchBadRequest(SinchAPIError):
    """400: Sinch refused the request as malformed or not allowed."""


class SinchUnauthorized(SinchAPIError):
    """401: a wrong bearer token, or a bot used against the other region's host."""

    default_hint = (
        "Check the bot's bearer token, and that the bot's region (US or EU) is the one "
        "its Sinch bot was provisioned in: the two hosts are not interchangeable."
    )


class SinchNotFound(SinchAPIError):
    """404: the bot, message, provider or stickerpack does not exist at Sinch."""


class SinchCredentialsUnusable(SinchAPIError):
    """The bot's bearer token cannot be put in an HTTP header (a character outside printable ASCII): nothing was sent.

    Tokens are checked where they enter (admin form, API); this covers one stored some other way.
    """

    default_hint = "Set the bot's bearer token again (admin or API): it must be printable ASCII without spaces."


class SinchUnexpectedAnswer(SinchAPIError):
    """Sinch (or something in between) answered with a status its pages do not document, e.g. a 3xx redirect.

    Never treated as success, and redirects are never followed: the token must not go to another host.
    """


class SinchUnavailable(SinchAPIError):
    """5xx, 429, a timeout or a connection error: worth retrying later."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class SinchRequestMayHaveBeenSent(SinchUnavailable):
    """A non-idempotent request failed after it may have reached Sinch.

    It is never re-sent automatically: the outcome is unknown until a
    delivery report or the callback store settles it.
    """
