"""One pooled :class:`SinchWhatsAppClient` per bot and credentials, per process."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from django.views.decorators.debug import sensitive_variables

from .client.client import SinchWhatsAppClient
from .client.retry import RetryPolicy
from .conf import app_settings
from .transports import Transport

if TYPE_CHECKING:
    from .models import Bot

_MAX_CACHED = 256
_cache: OrderedDict[tuple[object, ...], SinchWhatsAppClient] = OrderedDict()
_lock = threading.Lock()


@sensitive_variables("token")
def client_for_bot(bot: Bot) -> SinchWhatsAppClient:
    """A client for ``bot``, reused while its id, host, token and settings stay the same.

    Reuse keeps the HTTP connection pool warm; any change of credentials or
    settings yields a fresh client.
    """
    if bot.transport != "whatsapp":
        # Only the standalone API has this client: a legacy-only call for another transport is refused, named.
        from .transports import FeatureNotSupported

        raise FeatureNotSupported(bot.transport, "the standalone WhatsApp API", available_on=("whatsapp",))
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
        while _conversation_cache:
            _, transport = _conversation_cache.popitem()
            transport.client.close()


_conversation_cache: OrderedDict[tuple[object, ...], Transport] = OrderedDict()


def transport_for_bot(bot: Bot) -> Transport:
    """The bot's :class:`~.transports.Transport` with its HTTP client: the one place that reads ``bot.transport``.

    Everything above the seam (dispatch, services, the webhook) asks this for
    the transport and never branches on its name. Clients are pooled per bot
    and credentials, like :func:`client_for_bot`.
    """
    from .transports import get_transport

    cls = get_transport(bot.transport)
    if cls.name == "conversation":
        return _conversation_transport(bot)
    if cls.name == "whatsapp":
        return cls(client_for_bot(bot))
    # A project's own transport builds its client from the bot itself.
    from_bot = getattr(cls, "from_bot", None)
    return from_bot(bot) if callable(from_bot) else cls()


def verifier_for_bot(bot: Bot) -> Transport:
    """The bot's transport without a client: enough to verify and parse its callbacks (no credential read)."""
    from .transports import get_transport

    return get_transport(bot.transport)()


@sensitive_variables("secret")
def _conversation_transport(bot: Bot) -> Transport:
    from .client.targets import check_target
    from .transports.conversation import ConversationTransport
    from .transports.conversation.auth import AccessKey
    from .transports.conversation.client import ConversationClient

    secret = bot.key_secret.reveal()
    override = bot.base_url_override.rstrip("/")
    hosts = tuple(app_settings.override_hosts()) if override else None
    if override:
        # The override receives the access key (token endpoint) and the tokens: checked before every use.
        check_target(override, hosts)
    options = (
        float(app_settings.CONNECT_TIMEOUT),
        float(app_settings.READ_TIMEOUT),
        int(app_settings.RETRY_TOTAL),
        str(app_settings.USER_AGENT_SUFFIX),
        bool(app_settings.LOG_HTTP),
        hosts,
    )
    key = (
        bot.pk,
        bot.project_id,
        bot.app_id,
        bot.conversation_region,
        override,
        bot.key_id,
        hashlib.sha256(secret.encode()).hexdigest(),
        options,
    )
    with _lock:
        transport = _conversation_cache.get(key)
        if transport is not None:
            _conversation_cache.move_to_end(key)
            return transport
        client = ConversationClient.from_settings(
            project_id=bot.project_id,
            app_id=bot.app_id,
            key=AccessKey(bot.key_id, secret),
            region=bot.conversation_region or "us",
            base_url=override,
            allowed_hosts=hosts,
        )
        transport = ConversationTransport(client)
        _conversation_cache[key] = transport
        while len(_conversation_cache) > _MAX_CACHED:
            _, old = _conversation_cache.popitem(last=False)
            old.client.close()
        return transport
