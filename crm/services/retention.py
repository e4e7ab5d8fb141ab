"""The one change the consent ledger allows: forgetting where a consent came from.

A ledger line is never changed or removed, with one exception made by law rather than by
the product: the client address and user agent it recorded are personal data kept only as
long as ``PREFCENTER_LEDGER_NETWORK_RETENTION_DAYS`` says (docs/access.md). The facts of
the line (who, which list, what, when, the disclosure, the cause) stay forever.
"""

from __future__ import annotations

import datetime

from django.db import models, transaction
from django.db.models import Q

from crm.models import ConsentEvent


def consent_events_forget_network(
    *, after_id: int, before: datetime.datetime, limit: int
) -> tuple[int, int | None]:
    """Blank the address and user agent of the lines after ``after_id`` recorded before
    ``before``, at most ``limit`` of them, in id order.

    Ids grow with the time a line was recorded, so the batch is the next ``limit`` lines
    cut at the first one that is not old enough: each call reads a bounded range of the
    primary key, however large the ledger. Returns how many lines were changed and the
    last id done (``None`` when no line after ``after_id`` is old enough yet).
    """
    # The ledger's own queryset refuses every update; this is the sanctioned bypass.
    ledger = models.QuerySet(model=ConsentEvent)
    ids = []
    for pk, recorded_at in (
        ledger.filter(pk__gt=after_id).order_by("pk").values_list("pk", "recorded_at")[:limit]
    ):
        if recorded_at >= before:
            break
        ids.append(pk)
    if not ids:
        return 0, None
    with transaction.atomic():
        changed = (
            ledger.filter(pk__in=ids)
            .filter(Q(ip_address__isnull=False) | ~Q(user_agent=""))
            .update(ip_address=None, user_agent="")
        )
    return changed, ids[-1]
