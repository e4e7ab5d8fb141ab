"""The only writer of access requests."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from crm.models import Person
from prefcenter.access.models import AccessRequest


def access_request_receive(
    *, person: Person, channel: str, requested_by: str = ""
) -> AccessRequest:
    """Record that ``person``'s data was asked for (the deadline runs from now)."""
    return AccessRequest.objects.create(
        person=person, channel=channel, requested_by=requested_by[:150]
    )


def access_request_complete(*, access_request: AccessRequest) -> None:
    """An export was delivered to its end: count it, and stamp the first one."""
    now = timezone.now()
    AccessRequest.objects.filter(pk=access_request.pk).update(downloads=F("downloads") + 1)
    AccessRequest.objects.filter(pk=access_request.pk, completed_at__isnull=True).update(
        completed_at=now
    )
    access_request.refresh_from_db(fields=["downloads", "completed_at"])
