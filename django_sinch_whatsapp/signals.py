"""Signals fired by django-sinch-whatsapp.

Receivers get ``sender`` (the model class) and keyword arguments as listed.
They run inside the processing transaction: raise to roll back and have the
callback recorded as failed (and retried by Sinch).
"""

from __future__ import annotations

from django.dispatch import Signal

#: An outbound message's current state moved forward.
#: kwargs: ``message`` (OutboundMessage), ``event`` (StatusUpdate), ``previous_state`` (str).
message_status_changed = Signal()

#: A delivery report was stored (also those that did not move the state).
#: kwargs: ``status_event`` (StatusEvent), ``event`` (StatusUpdate), ``message`` (OutboundMessage or None).
status_received = Signal()

#: A new inbound message was stored (never twice for one Sinch message id).
#: kwargs: ``message`` (InboundMessage), ``event`` (InboundNotification), ``message_type`` (str).
inbound_message_received = Signal()

#: Sinch sent an ``error`` notification (whatsapp-callback.md, "Error notification").
#: kwargs: ``message`` (InboundMessage, type "error"), ``event`` (InboundNotification), ``details`` (str).
error_notification_received = Signal()

#: Processing a stored callback raised. kwargs: ``callback_event`` (CallbackEvent), ``exception``.
callback_processing_failed = Signal()

#: A contact's WhatsApp capability was recorded: the standalone API's answer to ``check_capability``, or the
#: Conversation API's ``capability_notification`` callback settling a pending lookup (never for the lookup
#: being asked). kwargs: ``contact`` (Contact), ``capability`` (str, a ``Capability`` value),
#: ``event`` (CapabilityNotification, or None when Sinch answered in the same call).
capability_recorded = Signal()

#: A contact's opt-in state was recorded: Sinch accepted ``services.opt_in``/``opt_out``, or a Conversation
#: API ``opt_in_notification``/``opt_out_notification`` changed it or refused a registration.
#: kwargs: ``contact`` (Contact), ``opt_in_state`` (str, an ``OptInState`` value),
#: ``event`` (ConsentNotification, or None for a service call Sinch accepted).
opt_in_recorded = Signal()
