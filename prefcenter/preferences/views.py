"""The subscriber-facing pages: the preference page behind a signed link, and the
"send me my link" form.

Pages that carry a token are never cached and never indexed; the link-request form answers
the same way whether or not it knows the address, and sends its email from a task so that
even its timing says nothing about who is a subscriber.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from crm.models import Person
from prefcenter.conf import setting
from prefcenter.preferences import tasks
from prefcenter.preferences.client import client_ip
from prefcenter.preferences.erase_action import erase_my_data
from prefcenter.preferences.forms import DetailsForm, LinkRequestForm, OptInForm
from prefcenter.preferences.number_change import section_context
from prefcenter.preferences.page_actions import ACTIONS, stop_all_preview
from prefcenter.preferences.ratelimits import LimitReached, hit_link_request_limits
from prefcenter.preferences.selectors import preference_page_state
from prefcenter.preferences.tokens import ExpiredLink, InvalidLink, resolve_token

# "no-referrer" would keep the token in; but browsers then send "Origin: null" with every
# form post, which Django's CSRF protection rightly refuses. "same-origin" sends the
# address only to this site itself, so the token still never reaches anyone else.
REFERRER_POLICY = "same-origin"

PAGE_ACTIONS = {**ACTIONS, "erase": erase_my_data}


def _private(response: HttpResponse) -> HttpResponse:
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = REFERRER_POLICY
    return response


def _invalid_link(request: HttpRequest, *, expired: bool) -> HttpResponse:
    response = render(
        request,
        "preferences/invalid_link.html",
        {
            "expired": expired,
            "form": LinkRequestForm(),
            "max_age_days": _days(setting("PREFCENTER_LINK_MAX_AGE")),
        },
        status=410 if expired else 404,
    )
    return _private(response)


def linked_person(
    view: Callable[..., HttpResponse],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """Call ``view`` with the person its signed link names (as ``person``); an expired or
    invalid link gets the page that says so, with the form for a new link, instead."""

    @functools.wraps(view)
    def with_person(request: HttpRequest, token: str) -> HttpResponse:
        try:
            person = resolve_token(token)
        except ExpiredLink:
            return _invalid_link(request, expired=True)
        except InvalidLink:
            return _invalid_link(request, expired=False)
        return view(request, token, person=person)

    return with_person


def _days(seconds: int) -> int:
    return max(1, seconds // 86400)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@linked_person
def preference_page(request: HttpRequest, token: str, *, person: Person) -> HttpResponse:
    state = preference_page_state(person)
    join = request.GET.get("join", "")
    page_forms = {
        "details": DetailsForm(person=person, custom_fields=state.custom_fields),
        "optin": OptInForm(state=state, preselected=[join] if join else []),
    }
    page_error = ""
    status = 200
    # "Stop all texts" is a step of its own first: ?stop=confirm (the button without
    # JavaScript), or a stop_all POST that was not confirmed.
    confirm_stop_all = request.method != "POST" and request.GET.get("stop") == "confirm"
    confirm_erase = request.method != "POST" and request.GET.get("erase") == "confirm"
    if request.method == "POST":
        handler = PAGE_ACTIONS.get(request.POST.get("action", ""))
        if handler is None:
            page_error = _("That button did not work. Please try again.")
            status = 400
        else:
            result = handler(request, state)
            if result.ok:
                messages.success(request, result.message)
                return _private(
                    HttpResponseRedirect(result.redirect_to or request.path, status=303)
                )
            if result.form is not None:
                page_forms[result.form_name] = result.form
            page_error = result.error
            status = result.status
            confirm_stop_all = result.confirm_stop_all
            confirm_erase = result.confirm_erase
    context = {
        "state": state,
        "person": person,
        "token": token,
        "details_form": page_forms["details"],
        "optin_form": page_forms["optin"],
        "page_error": page_error,
        "max_age_days": _days(setting("PREFCENTER_LINK_MAX_AGE")),
        "confirm_stop_all": confirm_stop_all and state.has_active_lists,
        "stop_all_preview": stop_all_preview(state) if state.has_active_lists else None,
        **section_context(request, state, page_forms.get("number")),
        "confirm_erase": confirm_erase,
    }
    return _private(render(request, "preferences/page.html", context, status=status))


@never_cache
@require_safe
def list_status(request: HttpRequest, token: str) -> HttpResponse:
    """Where each list stands, for the page's script to update a waiting list in place.

    Under the same signed token as the page and telling no more than the page does; the
    page works the same without it (a reload shows the same).
    """
    try:
        person = resolve_token(token)
    except ExpiredLink:
        return _private(JsonResponse({"error": "expired"}, status=410))
    except InvalidLink:
        return _private(JsonResponse({"error": "invalid"}, status=404))
    state = preference_page_state(person)
    poll_until = state.poll_until
    return _private(
        JsonResponse(
            {
                "poll_until": poll_until.isoformat() if poll_until else None,
                "lists": [
                    {
                        "id": item.subscription_list.list_id,
                        "name": item.subscription_list.name,
                        "status": item.status,
                        "badge": item.badge_label,
                        "badge_kind": item.badge_kind,
                        "note": item.status_note,
                    }
                    for item in state.lists
                ],
            }
        )
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def link_request(request: HttpRequest) -> HttpResponse:
    form = LinkRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            hit_link_request_limits(ip_address=client_ip(request), email=email)
        except LimitReached as exc:
            form.add_error(None, exc.message)
            status = 429
        else:
            tasks.email_links_for_address.enqueue(email)
            return _private(HttpResponseRedirect(reverse("preferences:link_sent"), status=303))
    return _private(render(request, "preferences/link_request.html", {"form": form}, status=status))


@require_safe
def link_sent(request: HttpRequest) -> HttpResponse:
    return _private(
        render(
            request,
            "preferences/link_sent.html",
            {"max_age_days": _days(setting("PREFCENTER_LINK_MAX_AGE"))},
        )
    )


@require_safe
def erased(request: HttpRequest) -> HttpResponse:
    """Where "Delete my data" ends: the page it came from no longer exists."""
    return _private(render(request, "preferences/erased.html"))
