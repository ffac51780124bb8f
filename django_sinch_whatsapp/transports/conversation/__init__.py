"""The Conversation API transport: auth (OAuth2 tokens), client, wire translation, signatures, parsing.

=================  ==========================================================================
auth.py            client-credentials tokens shared by every process through the Django cache
client.py          ConversationClient: messages:send, GET messages/{id}, events:send, capability,
                   optins/optouts:register
pool.py            one pooled transport per bot, app, region, host and key (``from_bot``)
wire.py            normalized message -> ``messages:send`` body (the mapping table is there)
signature.py       x-sinch-webhook-signature verification with timestamp tolerance
parsing.py         callbacks -> normalized events (the state mapping table is there)
transport.py       ConversationTransport, registered as ``conversation``: asynchronous capability
                   (answered ``pending``), consent registration (optional on this API)
=================  ==========================================================================
"""

from __future__ import annotations

from .transport import ConversationTransport

__all__ = ["ConversationTransport"]
