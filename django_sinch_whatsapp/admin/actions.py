"""Console actions that call Sinch: opt-in/out and capability on contacts, read receipts on inbound messages.

Each reports per bot what Sinch accepted, and Sinch's own error text when it refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .. import services
from ..exceptions import MessageValidationError, SecretDecryptionError, SinchAPIError
from ..models import Bot, Contact, InboundMessage
from ..services.numbers import NumbersOutcome
from ..transports.errors import FeatureNotSupported
from .common import sinch_error_text, user_may_change


def _by_bot(queryset: QuerySet[Contact]) -> dict[Bot, list[str]]:
    grouped: dict[Bot, list[str]] = defaultdict(list)
    for contact in queryset.select_related("bot"):
        grouped[contact.bot].append(contact.number)
    return grouped


class ContactActionsMixin:
    """Use with ``actions = ["opt_in", "opt_out", "check_capability"]``."""

    def has_sinch_permission(self, request: HttpRequest) -> bool:
        return user_may_change(request, Contact)

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Contact],
        call: Callable[[Bot, list[str]], NumbersOutcome],
        done_text: str,
    ) -> None:
        for bot, numbers in _by_bot(queryset).items():
            try:
                outcome = call(bot, numbers)
            except (SinchAPIError, SecretDecryptionError, MessageValidationError, FeatureNotSupported) as err:
                # An inactive bot is refused by the service, with the API's words; a feature the bot's
                # transport lacks is named with that transport.
                text = sinch_error_text(err) if isinstance(err, SinchAPIError) else str(err)
                self.message_user(request, f"{bot.name}: {text}", messages.ERROR)  # type: ignore[attr-defined]
                continue
            pending = getattr(outcome, "pending", [])
            answered = len(outcome.done) - len(pending)
            if answered:
                self.message_user(  # type: ignore[attr-defined]
                    request, f"{bot.name}: {done_text} {answered} number(s).", messages.SUCCESS
                )
            if pending:
                # The Conversation API answers a capability lookup later, by callback.
                self.message_user(  # type: ignore[attr-defined]
                    request,
                    f"{bot.name}: asked Sinch about {len(pending)} number(s); the answers arrive by callback "
                    "(capability 'lookup pending' until then).",
                    messages.SUCCESS,
                )
            for failed in outcome.failed:
                self.message_user(  # type: ignore[attr-defined]
                    request,
                    f"{bot.name}: {', '.join(failed.numbers)}: {sinch_error_text(failed.error)}",
                    messages.ERROR,
                )
            for rejected in outcome.rejected:
                self.message_user(  # type: ignore[attr-defined]
                    request, f"{bot.name}: {rejected.raw}: {rejected.reason}", messages.WARNING
                )

    @admin.action(description=_("Opt in at Sinch"), permissions=["sinch"])
    def opt_in(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        source = f"admin:{request.user}"
        self._run(request, queryset, lambda bot, numbers: services.opt_in(bot, numbers, source=source), "opted in")

    @admin.action(description=_("Opt out at Sinch"), permissions=["sinch"])
    def opt_out(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        source = f"admin:{request.user}"
        self._run(request, queryset, lambda bot, numbers: services.opt_out(bot, numbers, source=source), "opted out")

    @admin.action(description=_("Check WhatsApp capability"), permissions=["sinch"])
    def check_capability(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        self._run(request, queryset, services.check_capability, "checked")


class InboundActionsMixin:
    """Use with ``actions = ["mark_read"]``."""

    def has_sinch_permission(self, request: HttpRequest) -> bool:
        return user_may_change(request, InboundMessage)

    @admin.action(description=_("Mark as read at Sinch (blue ticks)"), permissions=["sinch"])
    def mark_read(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        done = 0
        for message in queryset.select_related("bot").exclude(message_type="error"):
            try:
                services.mark_read(message)
            except SinchAPIError as err:
                self.message_user(request, f"{message.sinch_message_id}: {sinch_error_text(err)}", messages.ERROR)  # type: ignore[attr-defined]
            except (MessageValidationError, FeatureNotSupported) as err:  # an inactive bot; a transport's lack
                self.message_user(request, f"{message.sinch_message_id}: {err}", messages.ERROR)  # type: ignore[attr-defined]
            else:
                done += 1
        if done:
            self.message_user(request, f"Marked {done} message(s) read.", messages.SUCCESS)  # type: ignore[attr-defined]


__all__ = ["ContactActionsMixin", "InboundActionsMixin"]
