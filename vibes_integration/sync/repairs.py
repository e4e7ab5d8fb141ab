"""A repair: one difference between the CRM and Vibes, which side is right, and its fix.

Written by ``drift`` (and ``number_holders`` for another Vibes person holding the number);
applied or reported by ``reconcile``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _lazy

VIBES_IS_RIGHT = _lazy("Vibes is right")
CRM_IS_RIGHT = _lazy("the CRM is right")
A_PERSON_DECIDES = _lazy("a person must decide")


@dataclass(frozen=True)
class Repair:
    """One difference: what differs, which side is right, and what repairing it does.
    ``apply`` is None when it is only reported (a person must decide)."""

    description: str
    apply: Callable[[], Any] | None = None
    right: str = ""
    action: str = ""
