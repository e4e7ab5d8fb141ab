"""One declared setting: its name, default, parser, help text and the part that owns it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Who owns a setting; the docs' tables and the system checks are grouped by it.
OWNERS = (
    "django",
    "project",
    "access",
    "privacy",
    "admin",
    "vibes",
    "callbacks",
    "sync",
    "preferences",
    "api",
    "webhooks",
)

Reader = Callable[[str], Any]


@dataclass(frozen=True)
class Setting:
    """A setting, read as a Django setting, else an environment variable, else ``default``.

    ``default`` is written as in the environment (a string), or is a function of the reader
    in use when it depends on other settings (such as DEBUG, on in development only); then
    ``shown_default`` says it in words for the docs. ``shown_default`` may also add a note
    to a plain default.
    """

    name: str
    default: str | Callable[[Reader], Any]
    parse: Callable[[Any], Any]
    help: str
    owner: str
    shown_default: str = ""

    def __post_init__(self) -> None:
        if self.owner not in OWNERS:
            raise ValueError(f"{self.name}: unknown owner {self.owner!r}")
        if callable(self.default) and not self.shown_default:
            raise ValueError(f"{self.name}: a computed default needs shown_default")
