"""The sandbox HTTP server: Vibes' API under ``/companies/``, the control API and the phone
page under ``/_sandbox/``, on a background thread (tests) or in the foreground (the command).

It keeps a log of every Vibes API call it answered (method, path, raw query, headers, body,
status, answer) so that tests can assert exactly what prefcenter sent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from vibes_integration.sandbox import api, clock
from vibes_integration.sandbox.control_api import handle_control
from vibes_integration.sandbox.core import Sandbox
from vibes_integration.sandbox.ratelimit import SlidingWindowLimiter
from vibes_integration.sandbox.wire import ApiRequest, ApiResponse

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_LOGGED_CALLS = 200_000
# How long a reset or seed waits for Vibes API calls still being answered (a call slowed
# down by ``api_delay_ms`` whose client already gave up) before starting clean.
QUIESCE_SECONDS = 10.0


class InFlight:
    """Counts the API calls being answered, so that a reset can wait for them.

    Without it, a call held back by ``api_delay_ms`` after its client timed out would be
    applied, and logged, after the next ``seed``: a change nobody made in the new state.
    """

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def call(self):
        with self._idle:
            self._count += 1
        try:
            yield
        finally:
            with self._idle:
                self._count -= 1
                if not self._count:
                    self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no API call is being answered; False if some still are at timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._count, timeout=timeout)


class CallLog:
    """Every Vibes API call answered, in order, with a stable increasing ``id``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._calls: list[dict[str, Any]] = []

    def add(self, request: ApiRequest, response: ApiResponse) -> None:
        body: Any = request.raw_body.decode("utf-8", "replace") if request.raw_body else None
        if body is not None:
            with contextlib.suppress(json.JSONDecodeError):
                body = json.loads(body)
        with self._lock:
            entry = {
                "id": next(self._ids),
                "at": clock.iso(clock.now()),
                "method": request.method,
                "path": request.path,
                "query": request.raw_query,
                "params": {key: values[-1] for key, values in request.query.items()},
                "headers": dict(request.headers),
                "body": body,
                "status": response.status,
                "response": response.body,
            }
            self._calls.append(entry)
            if len(self._calls) > MAX_LOGGED_CALLS:
                del self._calls[: len(self._calls) - MAX_LOGGED_CALLS]

    def since(self, since_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if since_id is None:
                return list(self._calls)
            return [entry for entry in self._calls if entry["id"] > since_id]

    def clear(self) -> None:
        with self._lock:
            self._calls = []


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send(
                ApiResponse(400, {"errors": [{"message": "Bad Content-Length", "code": 400}]})
            )
            self.close_connection = True
            return
        if length > MAX_BODY_BYTES:
            self._send(ApiResponse(413, {"errors": [{"message": "Body too large", "code": 413}]}))
            self.close_connection = True
            return
        raw_body = self.rfile.read(length) if length else b""
        request = ApiRequest(
            method=self.command,
            path=parts.path,
            raw_query=parts.query,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={key: value for key, value in self.headers.items()},
            body=None,
            raw_body=raw_body,
        )
        owner: SandboxServer = self.server.owner
        try:
            if parts.path == "/_sandbox" or parts.path.startswith("/_sandbox/"):
                response = handle_control(owner, request)
            else:
                with owner.in_flight.call():
                    response = api.handle(owner.sandbox, owner.limiter, request)
                    owner.calls.add(request, response)
        except Exception:
            logger.exception("The sandbox failed to answer %s %s", self.command, parts.path)
            response = ApiResponse(
                500, {"errors": [{"message": "Internal sandbox error", "code": 500}]}
            )
        self._send(response)

    def _send(self, response: ApiResponse) -> None:
        if response.body is None:
            payload = b""
        elif isinstance(response.body, bytes):
            payload = response.body
        elif isinstance(response.body, str) and response.content_type != "application/json":
            payload = response.body.encode("utf-8")
        else:
            payload = json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        if payload:
            content_type = response.content_type
            if content_type.startswith("text/") and "charset" not in content_type:
                content_type = f"{content_type}; charset=utf-8"
            self.send_header("Content-Type", content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    owner: SandboxServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (e.g. after its read timeout) is routine, not an error."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            logger.debug("client %s went away: %s", client_address, exc)
            return
        logger.exception("The sandbox failed on a request from %s", client_address)


class SandboxServer:
    """A running stand-in for Vibes: ``start()``, then point a client at ``url``."""

    def __init__(
        self,
        config: dict[str, Any] | str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        state_path: str | Path | None = None,
    ) -> None:
        self.sandbox = Sandbox(config, state_path=state_path)
        self.limiter = SlidingWindowLimiter()
        self.calls = CallLog()
        self.in_flight = InFlight()
        self.host = host
        self.port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def config(self) -> dict[str, Any]:
        return self.sandbox.config

    def bind(self) -> None:
        self._httpd = _HTTPServer((self.host, self.port), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self.sandbox.delivery.start()

    def start(self) -> SandboxServer:
        """Serve on a background thread; returns once the socket accepts connections."""
        self.bind()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="vibes-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` is called from another thread."""
        self.bind()
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.sandbox.close()

    def reset(self) -> None:
        """Empty records, logs and faults; keep the config.

        API calls still being answered finish first, so none lands in the clean state.
        """
        self._quiesce()
        self.sandbox.reset()
        self.calls.clear()
        self.limiter.reset()

    def seed(self, config: dict[str, Any] | str | Path) -> None:
        """Start again from ``config``, once the API calls being answered have finished."""
        self._quiesce()
        self.sandbox.seed(config)
        self.calls.clear()
        self.limiter.reset()

    def _quiesce(self) -> None:
        if not self.in_flight.wait_idle(QUIESCE_SECONDS):
            logger.warning(
                "Some Vibes API calls were still being answered after %.0f s; resetting anyway.",
                QUIESCE_SECONDS,
            )

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
