"""Timestamps the way Vibes writes them, and the variants its callbacks are known to use."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

DATE_FORMATS = ("z", "offset", "minutes", "mixed")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """``2017-02-15T15:42:23Z``: Vibes' usual spelling."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Reads the spellings this module writes back into an aware datetime."""
    value = text.strip().replace("Z", "+00:00")
    if len(value) >= 5 and value[-5] in "+-" and value[-3] != ":":
        value = f"{value[:-2]}:{value[-2:]}"
    return datetime.fromisoformat(value)


def later(seconds: float) -> str:
    return iso(now() + timedelta(seconds=seconds))


def respell(text: str, date_format: str, rng: random.Random) -> str:
    """``text`` (a ``...Z`` timestamp) in one of the spellings Vibes' callbacks use.

    ``offset``: ``2017-02-18T15:34:52+0000``; ``minutes``: ``2017-01-15T14:30Z``;
    ``mixed`` picks one of the three at random for each field.
    """
    if date_format == "mixed":
        date_format = rng.choice(("z", "offset", "minutes"))
    if date_format == "offset" and text.endswith("Z"):
        return f"{text[:-1]}+0000"
    if date_format == "minutes" and text.endswith("Z") and len(text) == 20:
        return f"{text[:16]}Z"
    return text
