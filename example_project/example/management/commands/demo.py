"""Run the example on the embedded defaults: SQLite, a demo bot, the sandbox, the dev server.

``python example_project/manage.py demo`` migrates, creates a superuser and a
demo organization with a bot pointed at the sandbox, starts the sandbox (a
real HTTP server standing in for Sinch) and then the Django server, and prints
where to look and how to send a message.

``--conversation`` makes the demo bot a Conversation API bot instead (project,
app and access key registered on the sandbox's Conversation wire, its signed
delivery reports coming back to this site's webhook), which is what a team
adopting Sinch WhatsApp today holds.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from organizations.models import Organization

from django_sinch_whatsapp.models import Bot
from django_sinch_whatsapp.sandbox import SandboxServer

DEMO_BOT_ID = "demo-bot"
DEMO_CUSTOMER = "46732001122"
DEMO_PROJECT_ID = "demo-project"
DEMO_APP_ID = "DEMOAPP0000000000000000001"
DEMO_KEY_ID = "demo-key"


class Command(BaseCommand):
    help = "Run the example project with the Sinch sandbox and a demo bot."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--addrport",
            default=os.environ.get("DEMO_ADDRPORT", "127.0.0.1:8000"),
            help="host:port the Django server listens on (default 127.0.0.1:8000, or $DEMO_ADDRPORT). "
            "Every printed URL and the bot's callback URL follow it unless PUBLIC_BASE_URL is set.",
        )
        parser.add_argument(
            "--sandbox-port",
            type=int,
            default=settings.SINCH_SANDBOX_PORT,
            help="Port of the embedded Sinch sandbox (default $SINCH_SANDBOX_PORT or 8765; 0 picks a free one).",
        )
        parser.add_argument(
            "--username",
            default=os.environ.get("DEMO_ADMIN_USER", "admin"),
            help="Superuser created (or reset) for the admin (default admin, or $DEMO_ADMIN_USER).",
        )
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_ADMIN_PASSWORD", "admin"),
            help="That superuser's password (default admin, or $DEMO_ADMIN_PASSWORD).",
        )
        parser.add_argument("--no-server", action="store_true", help="Set up and start the sandbox, but not runserver.")
        parser.add_argument(
            "--conversation",
            action="store_true",
            help="Make the demo bot a Conversation API bot (transport 'conversation': project, app and access key "
            "on the sandbox's Conversation wire) instead of a standalone WhatsApp API bot.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = self._split_addrport(options["addrport"])
        # Claim both ports before touching the database: a second demo that cannot
        # listen must not rewrite the running demo's bot (its callback URL and sandbox).
        if not options["no_server"]:
            self._ensure_free(host, port)
        try:
            sandbox = SandboxServer(host="127.0.0.1", port=options["sandbox_port"]).start()
        except OSError as err:
            raise CommandError(
                f"The sandbox cannot listen on 127.0.0.1:{options['sandbox_port']} ({err.strerror or err}). "
                "Is another demo running? Pick another port with --sandbox-port."
            ) from err
        site = self._public_url(host, port)

        call_command("migrate", interactive=False, verbosity=0)
        user = self._superuser(options["username"], options["password"])
        organization, _ = Organization.objects.get_or_create(name="Demo Co")
        organization.members.add(user)
        if options["conversation"]:
            bot = self._conversation_bot(organization, sandbox.conversation.url("us"))
            sandbox.conversation.register_key(DEMO_KEY_ID, bot.key_secret.reveal(), project_id=DEMO_PROJECT_ID)
            sandbox.conversation.register_app(
                DEMO_PROJECT_ID,
                DEMO_APP_ID,
                region="us",
                webhook_url=site + bot.callback_path,
                webhook_secret=bot.callback_key.reveal(),
            )
            described = f"Conversation app '{DEMO_APP_ID}' of project '{DEMO_PROJECT_ID}' in region us"
        else:
            bot = self._demo_bot(organization, sandbox.region_url("us"))
            sandbox.register_bot(
                DEMO_BOT_ID,
                bot.bearer_token.reveal(),
                region="us",
                callback_url=site + bot.callback_path,
                callback_key=bot.callback_key.reveal(),
            )
            described = f"bot '{DEMO_BOT_ID}' in region us"
        self.stdout.write(
            self.style.SUCCESS("django-sinch-whatsapp demo is up.\n")
            + f"  Admin:    {site}/admin/   (login {options['username']} / {options['password']})\n"
            + f"  API:      {site}/api/sinch-whatsapp/   (docs: {site}/api/docs/)\n"
            + f"  Sandbox:  {sandbox.base_url}   (stands in for Sinch; {described})\n"
            + "  Send a text:\n"
            + f"    curl -u {options['username']}:{options['password']} -H 'Content-Type: application/json' \\\n"
            + '      -d \'{"to": ["46732001122"], "text": "Hello from the demo"}\' \\\n'
            + f"      {site}/api/sinch-whatsapp/bots/{bot.pk}/send/\n"
            + f"    then: curl -u {options['username']}:{options['password']} {site}/api/sinch-whatsapp/messages/\n"
        )
        # The demo customer writes first, which opens the 24-hour window for session texts.
        threading.Thread(
            target=self._greet_when_up,
            args=(sandbox, host, port, options["conversation"]),
            daemon=True,
            name="demo-greeting",
        ).start()
        if options["no_server"]:
            return
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            sandbox.stop()

    def _split_addrport(self, addrport: str) -> tuple[str, int]:
        host, _, port = addrport.rpartition(":")
        try:
            number = int(port)
        except ValueError:
            raise CommandError(f"--addrport {addrport!r} is not host:port (e.g. 127.0.0.1:8000).") from None
        if not 0 < number < 65536:
            raise CommandError(f"--addrport {addrport!r}: the port must be between 1 and 65535.")
        return host.strip("[]") or "127.0.0.1", number

    def _ensure_free(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As runserver binds: a port an earlier demo just left (TIME_WAIT, nothing listening) is
            # free; on Linux one that something listens on is still refused.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as err:
                raise CommandError(
                    f"The site cannot listen on {host}:{port} ({err.strerror or err}). "
                    "Is another demo running? Pick another port with --addrport."
                ) from err

    def _greet_when_up(self, sandbox: SandboxServer, host: str, port: int, conversation: bool) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=1).close()
            except OSError:
                time.sleep(0.2)
                continue
            greeting = "Hi! Any news about my order?"
            if conversation:
                sandbox.conversation.inject_inbound(DEMO_PROJECT_ID, DEMO_APP_ID, DEMO_CUSTOMER, text=greeting)
            else:
                sandbox.inject_inbound(DEMO_BOT_ID, DEMO_CUSTOMER, text=greeting, contacts_name="Demo Customer")
            return

    def _superuser(self, username: str, password: str) -> Any:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
        if created or not user.check_password(password):
            user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
        return user

    def _demo_bot(self, organization: Organization, sandbox_url: str) -> Bot:
        bot = Bot.objects.filter(tenant=organization, sinch_bot_id=DEMO_BOT_ID).first()
        if bot is None:
            bot = Bot.objects.create(
                tenant=organization,
                name="Demo bot (sandbox)",
                sinch_bot_id=DEMO_BOT_ID,
                bearer_token=secrets.token_urlsafe(24),
                callback_key=secrets.token_urlsafe(24),
                region="us",
                base_url_override=sandbox_url,
            )
        elif bot.base_url_override != sandbox_url:
            bot.base_url_override = sandbox_url
            bot.save(update_fields=["base_url_override", "updated_at"])
        return bot

    def _conversation_bot(self, organization: Organization, sandbox_url: str) -> Bot:
        """The Conversation demo bot: found again by its app id, so a second run keeps its secrets."""
        bot = Bot.objects.filter(tenant=organization, transport="conversation", app_id=DEMO_APP_ID).first()
        if bot is None:
            bot = Bot.objects.create(
                tenant=organization,
                name="Demo Conversation bot (sandbox)",
                transport="conversation",
                project_id=DEMO_PROJECT_ID,
                app_id=DEMO_APP_ID,
                key_id=DEMO_KEY_ID,
                key_secret=secrets.token_urlsafe(24),
                conversation_region="us",
                callback_key=secrets.token_urlsafe(24),
                base_url_override=sandbox_url,
            )
        elif bot.base_url_override != sandbox_url:
            bot.base_url_override = sandbox_url
            bot.save(update_fields=["base_url_override", "updated_at"])
        return bot

    def _public_url(self, host: str, port: int) -> str:
        """PUBLIC_BASE_URL when the project set one (a tunnel, a proxy), else where runserver listens.

        The derived URL is written back into the running settings so the bot's
        ``callback_url`` (sent with every message) agrees with what is printed.
        """
        configured = str(settings.SINCH_WHATSAPP.get("PUBLIC_BASE_URL") or "")
        if configured:
            return configured.rstrip("/")
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        site = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
        settings.SINCH_WHATSAPP["PUBLIC_BASE_URL"] = site
        return site
