"""A separate process that sends through the Conversation sandbox with a shared Redis token cache.

``python -m tests.conversation_token_worker '<json>'`` with ``base_url``, ``redis_url``,
``key_prefix``, ``threads``, ``start_at`` (unix time to start, so processes overlap) and the
app credentials; prints ``{"message_ids": [...], "errors": [...]}`` as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import django
from django.conf import settings


def main(arguments: dict) -> dict:
    settings.configure(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": arguments["redis_url"],
                "KEY_PREFIX": arguments["key_prefix"],
            }
        },
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()
    from django_sinch_whatsapp.client import messages as build
    from django_sinch_whatsapp.transports.conversation import wire
    from django_sinch_whatsapp.transports.conversation.auth import AccessKey, TokenProvider
    from django_sinch_whatsapp.transports.conversation.client import ConversationClient

    base_url = arguments["base_url"]
    key = AccessKey(arguments["key_id"], arguments["key_secret"])
    results: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        # One client per thread, as separate dispatch workers would have; the cache is what they share.
        client = ConversationClient(
            project_id=arguments["project_id"], app_id=arguments["app_id"], key=key, base_url=base_url
        )
        client.tokens = TokenProvider(key, base_url + "/oauth2/token", session=client._session)
        body = wire.send_body(
            project_id=client.project_id,
            app_id=client.app_id,
            message=build.text(f"hello {index}"),
            recipient="46732001122",
            correlation_id=f"{arguments['key_prefix']}-{index}",
        )
        time.sleep(max(0.0, arguments["start_at"] - time.time()))
        try:
            message_id = client.send_message(body).message_id
        except Exception as err:  # reported to the parent test
            with lock:
                errors.append(f"{type(err).__name__}: {err}")
            return
        with lock:
            results.append(message_id)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(arguments["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"message_ids": results, "errors": errors}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
