"""Which callbacks a message or an inbound event produces, and what the callback store keeps of them."""

from __future__ import annotations

import functools
from typing import Any

from .callbacks import CallbackStep
from .ids import utc_now
from .message_validation import Recipient
from .state import BotState, SandboxState
from .wire import NO_CAPABILITY_DETAILS, NO_OPT_IN_DETAILS, SUCCESS_STATES, delivery_report


def delivery_plan(bot_state: BotState, recipient: Recipient) -> list[tuple[str, str, str | None]]:
    """(status, state, details) for each report one recipient will get. Caller holds the state lock.

    whatsapp-callback.md: ``no_opt_in`` when the recipient has not opted in (and has no open
    24-hour customer care session), ``no_capability`` when the number cannot use WhatsApp.
    """
    digits = recipient.digits
    if digits is not None:
        if bot_state.bot.require_opt_in and not bot_state.may_message(digits):
            return [("failure", "no_opt_in", NO_OPT_IN_DETAILS)]
        if not bot_state.capable(digits):
            return [("failure", "no_capability", NO_CAPABILITY_DETAILS)]
    return [("success", state, None) for state in SUCCESS_STATES]


def delivery_steps(
    state: SandboxState,
    bot_state: BotState,
    message_id: str,
    recipient: Recipient,
    plan: list[tuple[str, str, str | None]],
    callback_url: str | None,
) -> list[CallbackStep]:
    """The delivery report chain of one recipient; the message's ``callback`` overrides the bot's URL."""
    bot = bot_state.bot
    store = functools.partial(_store_status, state, bot_state, message_id)
    return [
        CallbackStep(
            bot_id=bot.bot_id,
            kind="status",
            url=callback_url or bot.callback_url,
            key=bot.callback_key,
            encoding=bot.signature_encoding,
            build=functools.partial(
                delivery_report, message_id, recipient.display, report_state, status=status, details=details
            ),
            on_built=store,
            message_id=message_id,
        )
        for status, report_state, details in plan
    ]


def inbound_step(
    state: SandboxState, bot_state: BotState, message_id: str, sender_digits: str, build: Any
) -> CallbackStep:
    """The callback of one inbound message, stored for ``GET /callbacks/notifications`` when built."""
    bot = bot_state.bot
    return CallbackStep(
        bot_id=bot.bot_id,
        kind="notification",
        url=bot.callback_url,
        key=bot.callback_key,
        encoding=bot.signature_encoding,
        build=build,
        on_built=functools.partial(_store_notification, state, bot_state, sender_digits),
        message_id=message_id,
    )


def _store_status(state: SandboxState, bot_state: BotState, message_id: str, payload: dict[str, Any]) -> None:
    with state.lock:
        bot_state.status_store.setdefault(message_id, []).append(payload)
        record = bot_state.outbound.get(message_id)
        if record is not None:
            record["states"].append(payload["statuses"][0]["state"])


def _store_notification(state: SandboxState, bot_state: BotState, sender_digits: str, payload: dict[str, Any]) -> None:
    with state.lock:
        bot_state.notification_store.append((utc_now(), sender_digits, payload))
