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
