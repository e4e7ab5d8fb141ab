"""What the control API reads from a request: its JSON body, form fields, numbers, whole numbers.

The control API, the phone page and the triggers all read numbers the way people type them;
each answers a ``ControlError`` (status and message) when a value cannot be read.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from vibes_integration.sandbox.mdn import InvalidMdn, parse_api_mdn
from vibes_integration.sandbox.wire import ApiRequest

if TYPE_CHECKING:
    from vibes_integration.sandbox.core import Sandbox


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def json_body(request: ApiRequest) -> dict[str, Any]:
    if not request.raw_body:
        return {}
    try:
        body = json.loads(request.raw_body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def control_mdn(sandbox: Sandbox, raw: Any) -> str:
    """A number as people type it on the control API: E.164, or national digits."""
    text = str(raw or "").strip()
    try:
        if text.startswith("+"):
            return parse_api_mdn(text, version=2)
        digits = "".join(character for character in text if character.isdigit())
        return parse_api_mdn(digits, version=1, region=sandbox.config["default_region"])
    except InvalidMdn as exc:
        raise ControlError(400, f"{text!r} is not a valid mobile number") from exc


def int_param(request: ApiRequest, name: str) -> int | None:
    value = request.param(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ControlError(400, f"{name} must be a whole number") from exc


def form_fields(request: ApiRequest) -> dict[str, str]:
    """The fields of an HTML form post (last value wins)."""
    parsed = parse_qs(request.raw_body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}
