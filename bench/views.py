"""The least a callback endpoint can do: insert the raw body and answer.

Measured side by side with the real endpoint in the same server, it is the ceiling the
real endpoint's throughput is compared with.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from bench.models import RawDelivery


@csrf_exempt
def ceiling(request: HttpRequest) -> HttpResponse:
    RawDelivery.objects.create(body=request.body.decode("utf-8", "replace"))
    return HttpResponse(status=200)
