"""The transport seam: what every way of reaching WhatsApp through Sinch must provide.

Everything above the seam (services, dispatch, callback processing, models,
admin, API) works on *normalized messages* (the dicts the builders of
:mod:`django_sinch_whatsapp.client.messages` produce and ``validate_message``
checks) and *normalized events* (:mod:`django_sinch_whatsapp.callbacks.events`,
plus :mod:`.events`), and never branches on the transport. A transport owns:

* the translation of a normalized message into its wire request(s), and how
  many recipients one request may carry (:meth:`Transport.build_requests`);
* sending one such request with its own HTTP client and auth (:meth:`Transport.send`);
* its callback signature scheme (:meth:`Transport.signature_present`,
  :meth:`Transport.verify_signature`) and callback parsing (:meth:`Transport.parse_callback`);
* mapping its errors into our error tree (its client raises ``SinchAPIError`` subclasses);
* which optional features it has (:attr:`Transport.features`, :meth:`Transport.require`), and the
  calls behind them: capability lookups (:meth:`Transport.check_capability`, answered at once or later
  by callback), opt-in and opt-out (:meth:`Transport.opt_in`, :meth:`Transport.opt_out`), mark as
  read, message lookup.

A new transport is one package with a ``Transport`` subclass and one line in
:data:`django_sinch_whatsapp.transports.BUILTIN_TRANSPORTS` (or the
``TRANSPORTS`` setting).
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from ..callbacks.events import ParsedCallback, StatusUpdate
from .errors import FeatureNotSupported

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Feature(enum.StrEnum):
    """Optional capabilities; a transport lists the ones it has in ``features``."""

    STICKERPACKS = "stickerpacks"
    BLACKLIST = "blacklist"
    CALLBACK_STORE = "callback store"
    MEDIA_PROVIDERS = "media providers"
    GROUPS = "groups"
    #: Capability answered in the same HTTP call (legacy) rather than by a later callback.
    SYNCHRONOUS_CAPABILITY = "synchronous capability"
    #: Capability lookups at all (answered later by a callback on Conversation).
    CAPABILITY = "capability"
    #: Opt-in/opt-out registration (optional on Conversation: WhatsApp needs none there, docs README).
    OPT_IN = "opt-in and opt-out"
    #: The standalone API's deprecated ``POST /provision/optout`` (whatsapp-opt-in-and-outs.md).
    DEPRECATED_OPT_OUT = "the deprecated opt-out endpoint (POST /provision/optout)"
    MARK_AS_READ = "mark as read"
    #: Fetch one message's current state from Sinch (reconciliation).
    MESSAGE_LOOKUP = "message lookup"
    #: Find a sent message by our correlation id (a send whose answer, with Sinch's id, was lost).
    CORRELATION_LOOKUP = "message lookup by our correlation id"


@dataclass(frozen=True)
class WireRequest:
    """One HTTP request a transport will make for a send: never sent twice once it may have reached Sinch.

    ``path`` is relative to the transport's base URL; ``recipients`` are the
    normalized numbers (digits, no ``+``) this request covers, in order;
    ``correlation_id`` is our message row id when the transport carries one.
    """

    method: str
    path: str
    body: dict[str, Any]
    recipients: tuple[str, ...]
    correlation_id: str = ""


@dataclass(frozen=True)
class SentMessage:
    """Sinch's id for one recipient of a sent request (``state`` is ours, e.g. ``queued``)."""

    recipient: str
    message_id: str
    state: str = "queued"
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CapabilityAnswer:
    """What a transport learnt from a capability lookup of one number.

    ``recipient`` is the number as Sinch named it (digits, perhaps with ``+``).
    ``capable`` is True/False when Sinch answered in the same call (the standalone
    API), None when it did not say; ``pending`` when the answer comes later by a
    callback (the Conversation API's ``capability:query``), ``request_id`` naming it.
    """

    recipient: str
    capable: bool | None = None
    pending: bool = False
    request_id: str = ""


class Transport(ABC):
    """One way to reach WhatsApp through Sinch; subclasses set the class attributes.

    Instances are cheap; ``client`` is the transport's own HTTP client (None
    for a transport used only to build, verify and parse, e.g. in the webhook view).
    """

    #: The registry name, stored on a bot (``whatsapp``, ``conversation``).
    name: ClassVar[str]
    #: Most recipients one send request may carry.
    recipients_per_request: ClassVar[int]
    #: Optional features this transport has.
    features: ClassVar[frozenset[Feature]] = frozenset()
    #: Lower-cased header names that mark a callback as signed with this transport's scheme.
    signature_headers: ClassVar[tuple[str, ...]] = ()
    #: How long after a send Sinch is done reporting it: Sinch reports every message it takes to the
    #: webhook and retries each report for at most this long. A send whose answer was lost and that no
    #: report has named in that time, while the webhook demonstrably received and applied callbacks, was
    #: never taken (``services.lost_sends``). None when silence proves nothing (reports not promised).
    reports_arrive_within: ClassVar[timedelta | None] = None
    #: ``Bot`` fields holding this transport's credentials, all required (model, admin form and API check them).
    credential_fields: ClassVar[tuple[str, ...]] = ()
    #: The write-only credential sent to Sinch: typed again when the bot moves (tenant, or where requests go).
    secret_field: ClassVar[str] = ""
    #: ``Bot`` fields that say where requests go; changing one needs ``secret_field`` typed again.
    location_fields: ClassVar[tuple[str, ...]] = ("base_url_override",)
    #: The admin form's fieldset of this transport: its title, fields and description.
    form_title: ClassVar[StrOrPromise] = ""
    form_fields: ClassVar[tuple[str, ...]] = ()
    form_description: ClassVar[StrOrPromise] = ""

    def __init__(self, client: Any = None) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @classmethod
    def from_bot(cls, bot: Any) -> Transport:
        """This transport for ``bot`` with its HTTP client (pooled per bot and credentials where it pays).

        Only :func:`django_sinch_whatsapp.clients.transport_for_bot` calls it. The
        default has no client: a project's transport overrides it.
        """
        return cls()

    @classmethod
    def bot_label(cls, bot: Any) -> str:
        """``str(bot)``: its name, what Sinch calls it and where requests go (never a secret)."""
        where = bot.transport
        if bot.base_url_override:
            from urllib.parse import urlsplit

            where += f" via {urlsplit(bot.base_url_override).netloc}"
        return f"{bot.name} ({where})"

    def verify_credentials(self) -> None:
        """A cheap call that proves Sinch accepts the bot's credentials; raises the error tree otherwise."""
        raise NotImplementedError(f"{type(self).__name__} cannot verify its credentials")

    # -- features ---------------------------------------------------------------------------------------

    def supports(self, feature: Feature) -> bool:
        return feature in self.features

    def require(self, feature: Feature) -> None:
        """Raise :class:`FeatureNotSupported` naming this transport when it lacks ``feature``."""
        if feature not in self.features:
            from . import transports_with  # the registry imports this module

            raise FeatureNotSupported(self.name, str(feature), available_on=transports_with(feature))

    # -- outbound ---------------------------------------------------------------------------------------

    def recipient_batches(self, recipients: Sequence[str]) -> list[tuple[str, ...]]:
        """``recipients`` cut into the groups one request takes, order kept."""
        size = self.recipients_per_request
        return [tuple(recipients[i : i + size]) for i in range(0, len(recipients), size)]

    @abstractmethod
    def build_requests(
        self,
        message: Mapping[str, Any],
        recipients: Sequence[str],
        *,
        correlation_ids: Sequence[str] = (),
        callback_url: str = "",
    ) -> list[WireRequest]:
        """The wire requests for a validated normalized ``message`` to ``recipients``.

        ``correlation_ids`` (one per recipient, our row ids) are carried where the
        wire allows, so a delivery report can always be matched. Raises
        ``MessageValidationError`` naming the field when the message cannot be
        expressed on this transport's wire; nothing is sent then.
        """

    @abstractmethod
    def send(self, request: WireRequest) -> list[SentMessage]:
        """Make one request with ``self.client``; one ``SentMessage`` per recipient, or a ``SinchAPIError``."""

    # -- operations on numbers ---------------------------------------------------------------------------
    # Services call these with at most ``recipients_per_request`` numbers (digits, no ``+``) at a time and
    # record the effect once the call returned; Sinch's refusals are raised as the error tree.

    def check_capability(self, recipients: Sequence[str]) -> list[CapabilityAnswer]:
        """Whether each number can be reached on WhatsApp: answered now, or ``pending`` (a callback follows)."""
        self.require(Feature.CAPABILITY)
        raise NotImplementedError(f"{type(self).__name__} lists capability but does not implement it")

    def opt_in(self, recipients: Sequence[str]) -> None:
        """Register the numbers' opt-in (a transport may confirm it later by callback)."""
        self.require(Feature.OPT_IN)
        raise NotImplementedError(f"{type(self).__name__} lists opt-in but does not implement it")

    def opt_out(self, recipients: Sequence[str], *, deprecated_endpoint: bool = False) -> None:
        """Register the numbers' opt-out; ``deprecated_endpoint`` only where :attr:`Feature.DEPRECATED_OPT_OUT` is."""
        self.require(Feature.OPT_IN)
        raise NotImplementedError(f"{type(self).__name__} lists opt-out but does not implement it")

    # -- operations on one message ----------------------------------------------------------------------

    def mark_as_read(self, message_id: str, recipient: str) -> None:
        """Tell Sinch an inbound message was read (blue ticks); ``recipient`` is its sender's number."""
        self.require(Feature.MARK_AS_READ)
        raise NotImplementedError(f"{type(self).__name__} lists mark as read but does not implement it")

    def lookup_statuses(self, message_id: str) -> list[StatusUpdate]:
        """What Sinch can still say about one sent message's state (reconciliation), as status updates.

        A transport answers what its API keeps: the standalone API's callback store
        replays the delivery reports; the Conversation API's ``GET /messages/{id}``
        only says the message was accepted.
        """
        self.require(Feature.MESSAGE_LOOKUP)
        raise NotImplementedError(f"{type(self).__name__} lists message lookup but does not implement it")

    def lookup_by_correlation_id(self, correlation_id: str, recipient: str) -> list[StatusUpdate]:
        """What Sinch has of a message we sent with ``correlation_id`` (our row id) to ``recipient``.

        For a send whose answer was lost (no Sinch id): the updates carry Sinch's id and our
        ``correlation_id``, and an empty list means Sinch has no such message. Only transports listing
        :attr:`Feature.CORRELATION_LOOKUP`; neither built-in one can (see their docstrings).
        """
        self.require(Feature.CORRELATION_LOOKUP)
        raise NotImplementedError(f"{type(self).__name__} lists correlation lookup but does not implement it")

    # -- inbound ----------------------------------------------------------------------------------------

    def signature_present(self, headers: Mapping[str, str]) -> bool:
        """True when ``headers`` carry any of this transport's signature headers (the view picks the scheme)."""
        names = {name.lower() for name in headers}
        return any(header in names for header in self.signature_headers)

    def signature_nonce(self, headers: Mapping[str, str]) -> str:
        """The nonce of a signed callback (for replay detection); '' when the scheme has none."""
        return ""

    @abstractmethod
    def verify_signature(
        self, headers: Mapping[str, str], raw_body: bytes, keys: Iterable[tuple[str, str]], *, now: float | None = None
    ) -> str:
        """The label of the key (of ``(label, key)`` pairs) that verifies the callback; else ``SignatureError``."""

    @abstractmethod
    def parse_callback(self, payload: Any) -> ParsedCallback:
        """Normalized events of a verified callback body (JSON already decoded); never raises for valid JSON

        except ``CallbackParseError`` when the JSON is no callback of this transport at all.
        """
