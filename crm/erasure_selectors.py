"""Reads of erasure requests for staff: what is open, what nears its deadline, what is done.

The law gives a month (GDPR) or 45 days (CCPA) to answer; ``PREFCENTER_ERASURE_DEADLINE_DAYS``
(30 by default) sets the deadline of each request when it is received. A request counts as
"near its deadline" in the last quarter of that time, so staff hear of it while there is
still time to fix what holds it (usually a failing nullification in Vibes).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from crm.erasure_hashing import email_hash, mdn_hash
from crm.models import ErasureRequest
from prefcenter.conf import setting

RECENT_DONE = 10


@dataclass(frozen=True)
class ErasureOverview:
    open_count: int
    near_deadline: list[ErasureRequest]
    overdue: list[ErasureRequest]
    recent_done: list[ErasureRequest]


def warning_margin() -> datetime.timedelta:
    return datetime.timedelta(days=setting("PREFCENTER_ERASURE_DEADLINE_DAYS")) / 4


def erasure_overview(*, now: datetime.datetime | None = None) -> ErasureOverview:
    now = now or timezone.now()
    unfinished = ErasureRequest.objects.filter(
        Q(crm_finished_at__isnull=True) | Q(vibes_finished_at__isnull=True)
    ).order_by("deadline_at")
    return ErasureOverview(
        open_count=unfinished.count(),
        near_deadline=list(
            unfinished.filter(deadline_at__gt=now, deadline_at__lte=now + warning_margin())[:50]
        ),
        overdue=list(unfinished.filter(deadline_at__lte=now)[:50]),
        recent_done=list(
            ErasureRequest.objects.filter(
                crm_finished_at__isnull=False, vibes_finished_at__isnull=False
            ).order_by("-vibes_finished_at")[:RECENT_DONE]
        ),
    )


def erasure_suppression_find(*, mdn: object = None, email: object = None) -> ErasureRequest | None:
    """The erasure request whose hashed number or email matches, if either was erased.

    This is how a number or address typed again (an import, a form, the API) is recognised
    as belonging to an erased person: by its keyed hash, never by the value, which the
    CRM no longer holds.
    """
    query = Q(pk__in=[])
    if hashed := mdn_hash(mdn):
        query |= Q(mdn_hash=hashed)
    if hashed := email_hash(email):
        query |= Q(email_hash=hashed)
    return ErasureRequest.objects.filter(query).order_by("-received_at").first()
