"""The REST framework face of the callback endpoint's authentication and body parsing.

The decision itself stays in :mod:`vibes_integration.callbacks.authentication` (address
allowlist, path tokens, Basic credentials); this module only adapts it to the REST
framework's hooks, so that both views refuse exactly the same requests. The parser keeps
the body as bytes, bounded like the plain view's read, and never rejects one: a body that
is not JSON must still be stored and answered 2xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.request import Request

from prefcenter.conf import setting
from vibes_integration.callbacks.authentication import Verdict, authenticate

READ_CHUNK_BYTES = 64 * 1024
AUTHENTICATED_METHODS = frozenset({"POST", "PUT"})


class CallbackRefused(APIException):
    """Raised by the authentication class; the view answers it as the plain view does."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.status_code = verdict.status
        self.verdict = verdict


class VibesCallbackAuthentication(BaseAuthentication):
    """Vibes' Basic credentials, path token and source address, as the plain view checks them.

    Only POST and PUT are authenticated: a HEAD probe is answered 200 and another method
    405 without looking at credentials, as the plain view does.
    """

    def authenticate(self, request: Request) -> tuple[None, Verdict] | None:
        if request.method not in AUTHENTICATED_METHODS:
            return None
        token = (request.parser_context or {}).get("kwargs", {}).get("token")
        verdict = authenticate(request._request, token)
        if not verdict.allowed:
            raise CallbackRefused(verdict)
        return None, verdict

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="Vibes callbacks", charset="UTF-8"'


@dataclass(frozen=True)
class RawBody:
    """The body as received (its start when larger than the limit) and the size it had."""

    content: bytes
    truncated_from_bytes: int | None = None


class RawBodyParser(BaseParser):
    """Any content type → :class:`RawBody`; never raises, whatever the bytes are."""

    media_type = "*/*"

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> RawBody:
        return read_bounded(stream, setting("VIBES_CALLBACK_MAX_BODY_BYTES"))


def read_bounded(stream: IO[bytes], max_bytes: int) -> RawBody:
    """Read until the end, keeping at most ``max_bytes`` (memory stays bounded)."""
    kept = bytearray()
    size = 0
    while chunk := stream.read(READ_CHUNK_BYTES if size > max_bytes else max_bytes + 1 - size):
        size += len(chunk)
        if len(kept) <= max_bytes:
            kept += chunk[: max_bytes + 1 - len(kept)]
    if size <= max_bytes:
        return RawBody(bytes(kept))
    return RawBody(bytes(kept[:max_bytes]), size)


class IgnoreAcceptNegotiation(BaseContentNegotiation):
    """Vibes' Accept header is whatever its HTTP client sends; never answer it 406."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser:
        return parsers[0]

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None):
        return renderers[0], renderers[0].media_type
