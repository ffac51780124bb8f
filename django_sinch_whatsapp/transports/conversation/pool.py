"""One pooled :class:`ConversationTransport` per bot, app, region, host and access key, per process.

Reuse keeps the HTTP connection pool warm and the token provider's local copy;
any change of credentials or settings yields a fresh client. The cache key holds
a digest of the key secret, never the secret.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.views.decorators.debug import sensitive_variables

from ...clients import pooled
from ...conf import app_settings

if TYPE_CHECKING:
    from ...models import Bot
    from .transport import ConversationTransport


@sensitive_variables("secret")
def pooled_transport(bot: Bot) -> ConversationTransport:
    from ...client.targets import check_target
    from .auth import AccessKey
    from .client import ConversationClient
    from .transport import ConversationTransport

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
        ConversationTransport.name,
        bot.pk,
        bot.project_id,
        bot.app_id,
        bot.conversation_region,
        override,
        bot.key_id,
        hashlib.sha256(secret.encode()).hexdigest(),
        options,
    )

    def build() -> ConversationTransport:
        client = ConversationClient.from_settings(
            project_id=bot.project_id,
            app_id=bot.app_id,
            key=AccessKey(bot.key_id, secret),
            region=bot.conversation_region or "us",
            base_url=override,
            allowed_hosts=hosts,
        )
        return ConversationTransport(client)

    return pooled(key, build)
