"""Text from a callback made storable, the same way on SQLite and PostgreSQL.

JSON can spell characters that no database column holds, and an authenticated body may
spell anything. Two kinds are refused:

- U+0000 (``\\u0000`` in JSON): PostgreSQL refuses it in text and in jsonb (SQLite would
  keep it), so a body carrying it could be stored on one database and not on the other;
- a lone surrogate (``\\ud800`` to ``\\udfff`` not part of a pair): not a character at
  all. UTF-8 cannot encode it, so both drivers refuse it in a text column
  (``UnicodeEncodeError``) and PostgreSQL refuses it in jsonb (``DataError``): an event
  carrying one could be neither applied nor even recorded as failed.

NUL carries nothing and is removed (``"981\\u000001"`` is the ZIP code ``98101``). A lone
surrogate stands for a character lost on the sender's side, so it is replaced by U+FFFD
REPLACEMENT CHARACTER, which shows that something was there. Everything that goes from a
callback into a column passes through here once: the id and type the request stores,
the parsed payload (and so every value the handlers write), and the error and traceback
of a failure. The raw body is stored by ``body_text``, which keeps it readable as it arrived.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """``text`` without NUL, and with every lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text.replace("\x00", ""))


def storable(value: Any) -> Any:
    """A parsed JSON value with every string in it (keys included) made storable.

    Raises ``RecursionError`` for a value nested deeper than Python can walk; callers
    treat such a body as unreadable.
    """
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable_text(key): storable(item) for key, item in value.items()}
    return value


def body_text(body: bytes) -> str:
    """The raw body as text for the log, kept verbatim where it can be.

    Bytes that are not UTF-8 are written as ``\\xNN`` and a NUL byte as ``\\x00``, so
    nothing is silently dropped; decoding never yields a surrogate. JSON escapes such
    as ``\\u0000`` are plain ASCII here and stay as they were sent.
    """
    return body.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
