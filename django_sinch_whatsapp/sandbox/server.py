"""``SandboxServer``: a local stand-in for the Sinch WhatsApp API over real HTTP.

Both regional hosts share one port: ``/us1/...`` is the US host and ``/eu1/...``
the EU host. ``/_sandbox/...`` is the control API (see :mod:`.control`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from .callbacks import CallbackSender
from .conversation import ConversationSandbox
from .faults import Faults
from .handler import SandboxRequestHandler
from .ids import new_message_id
from .lifecycle import inbound_step
from .state import SIGNATURE_ENCODINGS, Bot, SandboxState, region_prefix
from .validation import normalize_msisdn, sender_key
from .wire import inbound_callback

DEFAULT_INBOUND_TEXT = "Hello from the sandbox"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default listen backlog is 5: tests that open 20 connections at once overflowed
    # it (the kernel's TcpExtListenOverflows counter rose by 20 per run of the Conversation token
    # test) and a send now and then lost its answer. Sinch's hosts do not drop connections.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, SandboxRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class SandboxServer:
    """Start with ``start()`` (or ``with SandboxServer() as server:``); every method is thread-safe.

    ``bots`` (dicts of ``register_bot`` arguments) are registered at start and again after ``reset()``.
    Delivery reports follow each other ``step_delay`` seconds apart; failed callbacks are retried
    ``callback_retries`` times after ``callback_retry_delay`` (default ``step_delay``), doubling.
    ``statuses_per_callback`` > 1 batches delivery reports as Sinch does: reports to one URL that
    fall due within ``callback_batch_window`` seconds go out together in one callback (at most that
    many statuses each), so a large send is settled by far fewer callbacks.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        step_delay: float = 0.05,
        *,
        bots: list[dict[str, Any]] | None = None,
        callback_retries: int = 3,
        callback_retry_delay: float | None = None,
        callback_timeout: float = 5.0,
        statuses_per_callback: int = 1,
        callback_batch_window: float = 0.05,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.step_delay = step_delay
        self.initial_bots = [dict(bot) for bot in bots or []]
        self.state = SandboxState()
        self.faults: Faults = Faults()  # annotated: control.py reads it across an import cycle
        self.sender = CallbackSender(
            self._record_callback,
            step_delay=step_delay,
            retries=callback_retries,
            retry_delay=callback_retry_delay,
            timeout=callback_timeout,
            statuses_per_callback=statuses_per_callback,
            batch_window=callback_batch_window,
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        # The Conversation API wire (sandbox/conversation/): its own keys, apps and messages.
        self.conversation = ConversationSandbox(self)
        for bot in self.initial_bots:
            self.register_bot(**bot)

    # lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.requested_port), self)
        self.sender.start()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sinch-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        self.sender.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Start and block until interrupted (the CLI)."""
        self.start()
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104 - not a bind; a URL to reach it
        return f"http://{host}:{self.port}"

    def region_url(self, region: str) -> str:
        """The base URL standing for a regional host: ``region_url("us")`` -> ``base_url + "/us1"``."""
        return f"{self.base_url}/{region_prefix(region)}"

    # bots and their state ---------------------------------------------------------------------------------
    def register_bot(
        self,
        bot_id: str,
        token: str,
        region: str = "us",
        callback_url: str | None = None,
        callback_key: str | None = None,
        signature_encoding: str = "base64",
        require_opt_in: bool = False,
        msisdn: str | None = None,
    ) -> Bot:
        """Provision a bot in one region (re-registering updates its settings and keeps its data)."""
        if not bot_id or not token:
            raise ValueError("bot_id and token are required")
        if signature_encoding not in SIGNATURE_ENCODINGS:
            raise ValueError(f"signature_encoding must be one of {SIGNATURE_ENCODINGS}")
        bot = Bot(
            bot_id=str(bot_id),
            token=str(token),
            region=region_prefix(region),
            callback_url=callback_url or None,
            callback_key=callback_key or None,
            signature_encoding=signature_encoding,
            require_opt_in=bool(require_opt_in),
            msisdn=msisdn,
        )
        self.state.register_bot(bot)
        return bot

    def set_capability(self, bot_id: str, number: str, capable: bool) -> None:
        """What ``/capability`` answers for ``number``; ``False`` also makes sends end in ``no_capability``."""
        digits = normalize_msisdn(number)
        if digits is None:
            raise ValueError(f"{number!r} is not a valid MSISDN")
        with self.state.lock:
            self.state.require(bot_id).capability[digits] = bool(capable)

    def join_group(self, bot_id: str, group_id: str, number: str) -> None:
        """Make ``number`` a member of a legacy group (people join through the invite link)."""
        digits = normalize_msisdn(number)
        if digits is None:
            raise ValueError(f"{number!r} is not a valid MSISDN")
        with self.state.lock:
            members = self.state.require(bot_id).groups[group_id]["members"]
            if digits not in members:
                members.append(digits)

    def inject_inbound(
        self,
        bot_id: str,
        from_number: str,
        text: str | None = None,
        message: dict[str, Any] | None = None,
        contacts_name: str | None = None,
        replying_to: str | dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A WhatsApp user writes to the bot: post a signed inbound callback and return its message id.

        ``message`` is any inbound message object (whatsapp-callback.md); otherwise a text message.
        ``replying_to`` is a message id or a full context object; ``extra`` adds notification fields
        (``forwarded``, ``referral``, ...). Blacklisted senders produce no callback
        (whatsapp-blacklist-callback.md), but the id is still returned.
        """
        message = dict(message) if message is not None else {"type": "text", "body": text or DEFAULT_INBOUND_TEXT}
        message_id = new_message_id()
        with self.state.lock:
            bot_state = self.state.require(bot_id)
            if isinstance(replying_to, str):
                replying_to = {"from": bot_state.bot.msisdn, "message_id": replying_to}
                if replying_to["from"] is None:
                    del replying_to["from"]
            key = sender_key(from_number)
            bot_state.inbound[message_id] = {"from": from_number, "message": message, "read": False}
            bot_state.last_inbound[key] = time.time()  # opens the 24-hour customer care session
            self.state.counters["inbound"] += 1
            if key in bot_state.blacklist:
                return message_id
            build = lambda: inbound_callback(  # noqa: E731 - built when sent, so the timestamp is fresh
                bot_id=bot_id,
                from_number=from_number,
                message_id=message_id,
                message=message,
                contacts_name=contacts_name,
                replying_to=replying_to if isinstance(replying_to, dict) else None,
                extra=extra,
            )
            step = inbound_step(self.state, bot_state, message_id, key, build)
        self.sender.submit([step])
        return message_id

    # observation ----------------------------------------------------------------------------------------
    @property
    def requests_log(self) -> list[dict[str, Any]]:
        """Every Sinch API request (not ``/_sandbox``): method, path, query, headers, body, status, response.

        ``Authorization`` is recorded as ``"Bearer ***"``; ``token_matched`` says whether it was the bot's token.
        ``time`` is when the request arrived (its headers were read), before any fault's delay.
        """
        with self.state.lock:
            return list(self.state.requests_log)

    @property
    def callback_log(self) -> list[dict[str, Any]]:
        """Every callback delivery attempt: url, kind, body, raw_body, headers, status or error, attempt."""
        with self.state.lock:
            return list(self.state.callback_log)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every accepted outbound message (one per recipient) with the states reported so far."""
        with self.state.lock:
            return [
                dict(record, states=list(record["states"]))
                for bs in self.state.bots.values()
                for record in bs.outbound.values()
            ]

    def send_times(self, bot_id: str) -> list[tuple[float, int]]:
        """(arrival time, recipients) of every ``POST .../messages`` that reached this bot, in arrival order.

        Every request counts, whatever it was answered: each one reached "Sinch".
        """
        with self.state.lock:
            entries = list(self.state.requests_log)
        sends = [
            (entry["time"], _recipient_count(entry["body"]))
            for entry in entries
            if entry["method"] == "POST" and _messages_path_bot(entry["path"]) == bot_id
        ]
        return sorted(sends)

    def peak_rate(self, bot_id: str, window: float = 1.0) -> int:
        """The most messages (recipients, not requests) this bot sent within any ``window`` seconds.

        Sliding: every window ``[t, t + window)`` that starts at a request's arrival, which is
        where the busiest window of arrivals always starts.
        """
        return peak_in_window(self.send_times(bot_id), window)

    def repeated_sends(self, bot_id: str) -> dict[str, int]:
        """Recipients this bot sent the same message more than once, with how many times.

        A message is its ``message`` object (the legacy wire carries no id of ours), so
        resending a recorded row is seen here as the same content reaching the same
        number again.
        """
        import json

        with self.state.lock:
            bot_state = self.state.require(bot_id)
            keys = Counter(
                (_digits(record["recipient"]), json.dumps(record["message"], sort_keys=True))
                for record in bot_state.outbound.values()
            )
        repeats: Counter[str] = Counter()
        for (recipient, _message), times in keys.items():
            if times > 1:
                repeats[recipient] += times
        return dict(repeats)

    def count(self, method: str, path_suffix: str) -> int:
        """How many logged requests had this method and a path ending with ``path_suffix``."""
        with self.state.lock:
            return sum(
                1
                for entry in self.state.requests_log
                if entry["method"] == method.upper() and entry["path"].rstrip("/").endswith(path_suffix.rstrip("/"))
            )

    def wait_for_callbacks(self, timeout: float = 5.0) -> bool:
        """Block until every planned callback was delivered or given up; False on timeout."""
        return self.sender.wait_idle(timeout)

    def reset(self) -> None:
        """Forget bots, data, logs, faults and planned callbacks; then re-register the constructor's bots."""
        self.sender.clear()
        self.faults.clear()
        self.state.clear()
        self.conversation.reset()
        for bot in self.initial_bots:
            self.register_bot(**bot)

    def _record_callback(self, entry: dict[str, Any]) -> None:
        self.state.log_callback(entry)


def peak_in_window(points: list[tuple[float, int]], window: float = 1.0) -> int:
    """The largest sum of counts whose times fall within one half-open window ``[t, t + window)``."""
    points = sorted(points)
    peak = total = left = 0
    for moment, count in points:
        total += count
        while points[left][0] <= moment - window:
            total -= points[left][1]
            left += 1
        peak = max(peak, total)
    return peak


def _messages_path_bot(path: str) -> str | None:
    """The bot of ``/<region>/whatsapp/v1/<bot>/messages`` (None for any other path)."""
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) == 5 and segments[1] == "whatsapp" and segments[4] == "messages":
        return unquote(segments[3])
    return None


def _recipient_count(body: Any) -> int:
    to = body.get("to") if isinstance(body, dict) else None
    return len(to) if isinstance(to, list) else 1


def _digits(number: str) -> str:
    return "".join(ch for ch in str(number) if ch.isdigit()) or str(number)
