"""The callback credentials, a value made of three settings.

Vibes' callback endpoint accepts the pair ``VIBES_CALLBACK_USERNAME``/``PASSWORD`` and every
pair of ``VIBES_CALLBACK_CREDENTIALS`` (added during a rotation); each is read through the
one accessor, ``prefcenter.conf.setting``.
"""

from __future__ import annotations

from prefcenter.conf import setting


def callback_credentials() -> list[tuple[str, str]]:
    """Every accepted ``(user, password)`` pair, the one of ``VIBES_CALLBACK_USERNAME`` first."""
    username = setting("VIBES_CALLBACK_USERNAME")
    first = [(username, setting("VIBES_CALLBACK_PASSWORD"))] if username else []
    return first + setting("VIBES_CALLBACK_CREDENTIALS")
