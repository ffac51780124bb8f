"""The HTTP request handler: read the request, apply faults, route, log, answer."""

from __future__ import annotations

import hmac
import json
import logging
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import control, routing
from .faults import Fault
from .responses import Response, error

if TYPE_CHECKING:
    from .server import SandboxServer

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024
CONTROL_PREFIX = "/_sandbox"


class BodyError(Exception):
    def __init__(self, status: int, details: str) -> None:
        super().__init__(details)
        self.status = status
        self.details = details


def loggable_headers(headers: Any) -> dict[str, str]:
    """The request headers for the log, with the credentials replaced by their scheme and ``***``.

    The log is served to anyone by ``GET /_sandbox/requests``: a bearer token
    recorded there would be a token handed out. Whether the token was right is
    kept as ``token_matched`` on the entry instead.
    """
    logged = {}
    for name, value in headers.items():
        if name.lower() in ("authorization", "proxy-authorization"):
            scheme = str(value).strip().partition(" ")[0]
            value = f"{scheme} ***" if scheme else "***"
        logged[name] = value
    return logged


def token_matched(sandbox: SandboxServer, path: str, authorization: str | None) -> bool:
    """Whether the request carried ``Bearer <the token registered for the bot its path names>``."""
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) < 4 or not authorization:
        return False
    scheme, _, token = authorization.strip().partition(" ")
    bot_state = sandbox.state.get(unquote(segments[3]))
    if bot_state is None or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), bot_state.bot.token.encode())


def loggable_body(raw: bytes) -> Any:
    """The request body for the log: parsed JSON, else text, None when empty."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return raw.decode("utf-8", errors="replace")


def fault_response(fault: Fault, path: str) -> Response:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if 300 <= fault.status < 400:
        headers["Location"] = fault.location or path
    return error(fault.status, f"Sandbox fault injection: answering {fault.status}", headers=headers)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real hosts, so client sessions reuse connections
    server_version = "SinchWhatsAppSandbox/1"
    timeout = 60  # seconds an idle keep-alive connection is kept
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK stalls the
    # second write by ~40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    @property
    def sandbox(self) -> SandboxServer:
        return self.server.sandbox  # type: ignore[attr-defined]

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                total += size
                if total > MAX_BODY_BYTES:
                    raise BodyError(413, "body: larger than the sandbox accepts")
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BodyError(400, "Content-Length: not a number") from None
        if length > MAX_BODY_BYTES:
            raise BodyError(413, "body: larger than the sandbox accepts")
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        arrived = time.time()  # the request line and headers are in: the moment the request reached us
        split = urlsplit(self.path)
        path, method = split.path, self.command
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            raw = self._read_body()
        except (BodyError, ValueError) as err:
            self.close_connection = True
            status, details = (
                (err.status, err.details) if isinstance(err, BodyError) else (400, "malformed chunked body")
            )
            self._send(error(status, details))
            return
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self._send(control.dispatch(self.sandbox, method, path[len(CONTROL_PREFIX) :].strip("/"), query, raw))
            return
        delay, fault = self.sandbox.faults.take(path)
        if delay:
            time.sleep(delay)
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": split.query,
            "headers": loggable_headers(self.headers),
            "token_matched": token_matched(self.sandbox, path, self.headers.get("Authorization")),
            "body": loggable_body(raw),
            "time": arrived,
            "fault": fault.kind if fault else ("slow" if delay else None),
        }
        if fault is not None and fault.kind == "drop":
            entry.update(status=None, response=None, bot_id=None)
            self.sandbox.state.log_request(entry)
            self.close_connection = True  # nothing is written; the server closes the socket
            return
        bot_id = None
        if fault is not None:
            response = fault_response(fault, path)
        else:
            try:
                response, bot_id = routing.dispatch(self.sandbox, method, path, query, self.headers, raw)
            except Exception as err:  # answer like a server, and keep serving
                logger.exception("sandbox endpoint failed")
                response = error(500, f"Sandbox error: {type(err).__name__}: {err}")
        entry.update(status=response.status, response=response.body, bot_id=bot_id)
        # Logged before answering, so a client that got its answer finds its request in the log.
        self.sandbox.state.log_request(entry)
        self._send(response)

    def _send(self, response: Response) -> None:
        body = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        try:
            self.send_response(response.status)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
