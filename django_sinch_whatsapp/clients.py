"""One pooled :class:`SinchWhatsAppClient` per bot and credentials, per process; the pool transports build on."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.views.decorators.debug import sensitive_variables

from .client.client import SinchWhatsAppClient
from .client.retry import RetryPolicy
from .conf import app_settings
from .transports import Transport

if TYPE_CHECKING:
    from .models import Bot

_MAX_CACHED = 256
T = TypeVar("T", bound=Transport)
_cache: OrderedDict[tuple[object, ...], SinchWhatsAppClient] = OrderedDict()
_lock = threading.Lock()


@sensitive_variables("token")
def client_for_bot(bot: Bot) -> SinchWhatsAppClient:
    """A client for ``bot``, reused while its id, host, token and settings stay the same.

    Reuse keeps the HTTP connection pool warm; any change of credentials or
    settings yields a fresh client.
    """
    from .transports import DEFAULT_TRANSPORT, FeatureNotSupported

    if bot.transport != DEFAULT_TRANSPORT:
        # This is the standalone API's own client (the ``whatsapp`` transport builds on it): a legacy-only
        # call for a bot on another transport is refused, named, instead of sending its credentials there.
        raise FeatureNotSupported(bot.transport, "the standalone WhatsApp API", available_on=(DEFAULT_TRANSPORT,))
    token = bot.bearer_token.reveal()
    retry = RetryPolicy(
        total=int(app_settings.RETRY_TOTAL),
        backoff_factor=float(app_settings.RETRY_BACKOFF_FACTOR),
        backoff_max=float(app_settings.RETRY_BACKOFF_MAX),
        statuses=tuple(app_settings.RETRY_STATUSES),
    )
    options = (
        float(app_settings.CONNECT_TIMEOUT),
        float(app_settings.READ_TIMEOUT),
        retry,
        str(app_settings.USER_AGENT_SUFFIX),
        bool(app_settings.LOG_HTTP),
        # An override is checked again before every request (defense in depth:
        # a row written around model validation must not reach another host).
        tuple(app_settings.override_hosts()) if bot.base_url_override else None,
    )
    # A digest, so the cache key itself holds no usable secret.
    key = (bot.pk, bot.sinch_bot_id, bot.base_url, hashlib.sha256(token.encode()).hexdigest(), options)
    with _lock:
        client = _cache.get(key)
        if client is not None:
            _cache.move_to_end(key)
            return client
        client = SinchWhatsAppClient(
            bot.sinch_bot_id,
            token,
            bot.base_url,
            connect_timeout=options[0],
            read_timeout=options[1],
            retry=retry,
            user_agent_suffix=options[3],
            log_http=options[4],
            allowed_hosts=options[5],
        )
        _cache[key] = client
        while len(_cache) > _MAX_CACHED:
            _, old = _cache.popitem(last=False)
            old.close()
        return client


def clear_client_cache() -> None:
    with _lock:
        while _cache:
            _, client = _cache.popitem()
            client.close()
        while _transport_cache:
            _, transport = _transport_cache.popitem()
            _close(transport)


_transport_cache: OrderedDict[tuple[object, ...], Transport] = OrderedDict()


def _close(transport: Transport) -> None:
    close = getattr(transport.client, "close", None)
    if callable(close):
        close()


def pooled(key: tuple[object, ...], build: Callable[[], T]) -> T:
    """The transport pooled under ``key`` (a transport's own, holding no usable secret), built when missing.

    Transports whose client keeps connections or tokens use it from ``from_bot``
    (the Conversation API's); the oldest of more than 256 is closed.
    """
    with _lock:
        found = _transport_cache.get(key)
        if found is not None:
            _transport_cache.move_to_end(key)
            return found  # type: ignore[return-value]
        transport = build()
        _transport_cache[key] = transport
        while len(_transport_cache) > _MAX_CACHED:
            _, old = _transport_cache.popitem(last=False)
            _close(old)
        return transport


def transport_for_bot(bot: Bot) -> Transport:
    """The bot's :class:`~.transports.Transport` with its HTTP client: the one place that reads ``bot.transport``.

    Everything above the seam (dispatch, services, the webhook) asks this for
    the transport and never branches on its name; each transport builds itself
    from the bot (``Transport.from_bot``), pooling its client where that pays.
    """
    from .transports import get_transport

    return get_transport(bot.transport).from_bot(bot)


def verifier_for_bot(bot: Bot) -> Transport:
    """The bot's transport without a client: enough to verify and parse its callbacks (no credential read)."""
    from .transports import get_transport

    return get_transport(bot.transport)()
