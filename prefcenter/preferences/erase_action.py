"""The preference page's "Delete my data": erasure asked by the subscriber.

Like "Stop all texts" it is a step of its own first (``?erase=confirm`` without
JavaScript, or a POST that was not confirmed); only the confirmation's button erases.
Erasing rotates the person's link secret, so this page's own address stops working: the
subscriber is sent to a page that says what happened.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.choices import Source
from crm.services.erasure import erasure_request
from prefcenter.preferences.action_results import ActionResult
from prefcenter.preferences.selectors import PageState


def erase_my_data(request: HttpRequest, state: PageState) -> ActionResult:
    if request.POST.get("confirm") != "yes":
        return ActionResult(ok=False, confirm_erase=True)
    erasure_request(person=state.person, source=Source.PREFERENCE_CENTER, requested_by="subscriber")
    return ActionResult(
        ok=True,
        message=_("Your data was deleted."),
        redirect_to=reverse("preferences:erased"),
    )
