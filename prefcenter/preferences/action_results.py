"""What a preference page action answers: done or not, the message, the form to show again.

Written by every action module (``page_actions``, ``number_change``, ``erase_action``) and
read by the page view.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms


@dataclass
class ActionResult:
    ok: bool
    message: str = ""
    form_name: str = ""
    form: forms.Form | None = None
    error: str = ""
    status: int = 200
    #: The subscriber has not confirmed yet: show the confirmation step, change nothing.
    confirm_stop_all: bool = False
    #: "Delete my data" was pressed but not confirmed yet: show its confirmation step.
    confirm_erase: bool = False
    #: Where to go on success, when the page itself no longer exists (erasure).
    redirect_to: str = ""
