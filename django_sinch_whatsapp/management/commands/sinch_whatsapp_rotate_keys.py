"""Re-encrypt every stored bot secret with the first key of ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from ...fields import Secret, rotate
from ...models import Bot

SECRET_FIELDS = ("bearer_token", "callback_key", "previous_callback_key")


class Command(BaseCommand):
    help = (
        "Re-encrypt bot secrets with the first SINCH_WHATSAPP['ENCRYPTION_KEYS'] key (after putting a new key first)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            for bot in Bot.objects.select_for_update().only("pk", *SECRET_FIELDS):
                for name in SECRET_FIELDS:
                    secret = getattr(bot, name)
                    if secret:
                        setattr(bot, name, Secret.from_db(rotate(secret.ciphertext())))
                bot.save(update_fields=list(SECRET_FIELDS))
                count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} bot(s).")
