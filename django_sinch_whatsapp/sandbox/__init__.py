"""A local stand-in for the Sinch WhatsApp API: the same HTTP contract on 127.0.0.1, signed callbacks.

It does not import Django, so it also runs on its own::

    python -m django_sinch_whatsapp.sandbox --port 8765 --bots-file bots.json

and from tests::

    with SandboxServer(step_delay=0.01) as sandbox:
        sandbox.register_bot("bot-1", "token-1", region="us", callback_url=..., callback_key=...)
        base_url = sandbox.region_url("us")
"""

from .server import SandboxServer

__all__ = ["SandboxServer"]
