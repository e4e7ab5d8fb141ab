"""``GET /healthz``: tells a load balancer whether this process can reach its database.

``GET /healthz/workers``: tells monitoring whether work waits with no worker to do it.
"""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from prefcenter.workers.status import workers_status

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The class only: the message of a failed connection can carry the database URL.
        logger.warning("Health check: the database is unreachable (%s).", type(exc).__name__)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@never_cache
@require_safe
def healthz_workers(request: HttpRequest) -> JsonResponse:
    """503 when work waits and no task worker has been seen lately; the figures in the body.

    For monitoring, not for the load balancer: a stopped worker does not make this web
    process unfit to serve, but callbacks and the sync stop until a worker runs again.
    """
    try:
        status = workers_status()
    except DatabaseError as exc:
        logger.warning("Worker check: the database is unreachable (%s).", type(exc).__name__)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    body = {**status.as_dict(), "database": "ok"}
    if not status.healthy:
        logger.warning(
            "Worker check: %d items wait and no task worker was seen in the last %.0f s.",
            status.backlog.total,
            status.stale_after.total_seconds(),
        )
    return JsonResponse(body, status=200 if status.healthy else 503)
