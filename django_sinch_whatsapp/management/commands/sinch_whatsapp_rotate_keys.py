"""Re-encrypt every stored bot secret with the first key of ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from ...fields import EncryptedSecretField, Secret, rotate
from ...models import Bot
from ..progress import progress

#: Every encrypted column of a bot, whatever its transport (read from the model, so a new one is not missed).
SECRET_FIELDS = tuple(f.name for f in Bot._meta.concrete_fields if isinstance(f, EncryptedSecretField))


class Command(BaseCommand):
    help = (
        "Re-encrypt bot secrets with the first SINCH_WHATSAPP['ENCRYPTION_KEYS'] key (after putting a new key first)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Decrypt every secret with the configured keys and count them; write nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        bots = secrets = 0
        with transaction.atomic():
            rows = Bot.objects.select_for_update().only("pk", *SECRET_FIELDS).order_by("pk")
            with progress(self.stderr, "Re-encrypting bot secrets", rows.count()) as advance:
                for bot in rows:
                    for name in SECRET_FIELDS:
                        secret = getattr(bot, name)
                        if secret:
                            # A dry run still proves every secret decrypts with the configured keys.
                            setattr(bot, name, Secret.from_db(rotate(secret.ciphertext())))
                            secrets += 1
                    if not dry_run:
                        bot.save(update_fields=list(SECRET_FIELDS))
                    bots += 1
                    advance()
        if dry_run:
            self.stdout.write(f"Dry run: would re-encrypt {secrets} secret(s) of {bots} bot(s); nothing was written.")
        else:
            self.stdout.write(f"Re-encrypted {secrets} secret(s) of {bots} bot(s).")
