"""``POST /messages`` (whatsapp-message.md) and ``POST /events`` (whatsapp-callback.md, mark as read)."""

from __future__ import annotations

import time

from ..ids import new_message_id
from ..lifecycle import delivery_plan, delivery_steps
from ..message_validation import validate_send
from ..responses import Call, Response
from ..validation import ValidationError, get_str, require_object
from ..wire import accepted_response


def send_message(call: Call) -> Response:
    """Validate, answer 201 with one queued status per recipient, then send the delivery reports."""
    with call.state.lock:
        group_ids = set(call.bot_state.groups)
    request = validate_send(call.json(), group_ids)
    statuses, chains = [], []
    with call.state.lock:
        for recipient in request.recipients:
            message_id = new_message_id()
            plan = delivery_plan(call.bot_state, recipient)
            call.bot_state.outbound[message_id] = {
                "message_id": message_id,
                "bot_id": call.bot_state.bot.bot_id,
                "recipient": recipient.display,
                "message": request.message,
                "callback": request.callback,
                "created": time.time(),
                "states": [],
            }
            statuses.append((message_id, recipient.display))
            chains.append(delivery_steps(call.state, call.bot_state, message_id, recipient, plan, request.callback))
        call.state.counters["messages"] += 1
        call.state.counters["recipients"] += len(request.recipients)
    for steps in chains:
        # The first report comes one step after the 201, as Sinch's come after its answer.
        call.sandbox.sender.submit(steps, delay=call.sandbox.step_delay)
    return Response(201, accepted_response(statuses))


def mark_read(call: Call) -> Response:
    """``{"type": "read", "message_id": ...}``; the id must be an inbound message of this bot."""
    body = require_object(call.json(), "body")
    if body.get("type") != "read":
        raise ValidationError("type", f"must be 'read' (got {body.get('type')!r})")
    message_id = get_str(body, "message_id", "")
    with call.state.lock:
        inbound = call.bot_state.inbound.get(message_id or "")
        if inbound is None:
            raise ValidationError("message_id", f"{message_id!r} is not the id of an inbound message of this bot")
        inbound["read"] = True
    return Response(201)


ROUTES = [
    ("POST", "messages", send_message),
    ("POST", "events", mark_read),
]
