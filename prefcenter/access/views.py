"""The subscriber's own export, asked for from the preference page with the link's token."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from crm.models import Person
from prefcenter.access.models import AccessRequestChannel
from prefcenter.access.responses import export_response
from prefcenter.access.services import access_request_receive
from prefcenter.preferences.views import _private, linked_person


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@linked_person
def subscriber_export(request: HttpRequest, token: str, *, person: Person) -> HttpResponse:
    """POST: record the request and stream the zip. GET: back to the page's section (a
    download is never started by following a link)."""
    page = reverse("preferences:page", args=[token]) + "#my-data"
    if request.method != "POST":
        return _private(HttpResponseRedirect(page, status=303))
    export_format = request.POST.get("format", "zip")
    if export_format not in {"zip", "json"}:
        return _private(HttpResponseRedirect(page, status=303))
    access_request = access_request_receive(person=person, channel=AccessRequestChannel.SUBSCRIBER)
    response = export_response(
        person=person, access_request=access_request, export_format=export_format
    )
    return _private(response)
