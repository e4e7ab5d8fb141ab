"""The least a callback endpoint can do: insert the raw body and answer.

Measured side by side with the real endpoint in the same server, it is the ceiling the
real endpoint's throughput is compared with. It stores the body with one parametrised
INSERT on the request's connection, in autocommit, without the ORM's save machinery:
nothing a Django view could leave out to store a delivery faster.
"""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bench.models import RawDelivery

_INSERT = f"INSERT INTO {RawDelivery._meta.db_table} (body, received_at) VALUES (%s, %s)"


@csrf_exempt
def ceiling(request: HttpRequest) -> HttpResponse:
    received_at = RawDelivery._meta.get_field("received_at").get_db_prep_save(
        timezone.now(), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [request.body.decode("utf-8", "replace"), received_at])
    return HttpResponse(status=200)
