"""The one accessor for prefcenter's settings: ``setting("VIBES_RATE_LIMIT")``.

Every setting is declared once in ``prefcenter.settings_registry`` (name, default, parser,
help, owner). A value is looked up at call time, never at import, so that
``override_settings`` works: first the Django setting of that name, then the environment
variable of that name, then the declared default. ``None`` as a Django setting and an empty
environment variable count as not set. A value that cannot be parsed raises
``ImproperlyConfigured`` naming the setting, where the value came from and what to write.

``settings.py`` itself reads Django's own settings (DEBUG, DATABASE_URL...) with
``environment_setting``: the same parsers and errors, without the Django-setting step that
does not exist yet while settings are being built; and it calls ``check_environment`` so that
a bad environment variable stops every process at start.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import empty

from prefcenter.settings_registry import SETTINGS
from prefcenter.settings_registry.entry import Reader, Setting

DJANGO_SETTING = "the Django setting"
ENVIRONMENT = "the environment variable"
DEFAULT = "the default"

# Parsed values of strings (environment variables and declared defaults), so that a value
# read on every request is parsed once per process.
_parsed: dict[tuple[str, str], Any] = {}


def _declared(name: str) -> Setting:
    try:
        return SETTINGS[name]
    except KeyError:
        raise KeyError(f"{name} is not declared in prefcenter.settings_registry") from None


def _parse(spec: Setting, raw: Any, origin: str) -> Any:
    key = (spec.name, raw) if isinstance(raw, str) else None
    if key is not None and key in _parsed:
        return _parsed[key]
    try:
        value = spec.parse(raw)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"{spec.name}={raw!r} ({origin}) is not valid: {exc}. {spec.name}: {spec.help}"
        ) from exc
    if key is not None:
        _parsed[key] = value
    return value


def _from_environment(spec: Setting, read: Reader) -> tuple[Any, str]:
    raw = os.environ.get(spec.name, "")
    if raw != "":
        return raw, ENVIRONMENT
    default = spec.default(read) if callable(spec.default) else spec.default
    return default, DEFAULT


def _django_setting(name: str) -> Any:
    """The Django setting ``name``, or None when there is none (or no Django settings).

    Read from the settings object behind ``django.conf.settings`` when it is set up (what
    ``override_settings`` swaps): asking the lazy wrapper for a missing name costs a raised
    exception each time, and some settings are read on every callback request.
    """
    wrapped = settings._wrapped
    if wrapped is not empty:
        return getattr(wrapped, name, None)
    try:
        return getattr(settings, name, None)
    except ImproperlyConfigured:  # no Django settings at all (a script)
        return None


def setting(name: str) -> Any:
    """The parsed value of ``name``: the Django setting, else the environment, else default."""
    spec = _declared(name)
    value = _django_setting(name)
    if value is not None:
        return _parse(spec, value, DJANGO_SETTING)
    return _parse(spec, *_from_environment(spec, setting))


def environment_setting(name: str) -> Any:
    """The parsed value of ``name`` from the environment, else the default (settings.py)."""
    spec = _declared(name)
    return _parse(spec, *_from_environment(spec, environment_setting))


def check_environment() -> None:
    """Parse every declared environment variable that is set, so that a bad one stops the
    process at start (settings.py calls this) rather than in a request hours later."""
    for name in SETTINGS:
        if os.environ.get(name, "") != "":
            environment_setting(name)


def problems() -> dict[str, str]:
    """Every declared setting (but Django's own, checked by settings.py) whose current
    value cannot be parsed, with the error (used by the system check)."""
    found = {}
    for name, spec in SETTINGS.items():
        if spec.owner == "django":
            continue
        try:
            setting(name)
        except ImproperlyConfigured as exc:
            found[name] = str(exc)
    return found
