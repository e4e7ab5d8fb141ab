"""Requests per API client, counted in the cache (shared by every worker when ``CACHE_URL``
names a shared cache). A client's own rate wins over ``PREFCENTER_API_RATE``."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from prefcenter.api.models import ApiClient
from prefcenter.conf import setting


class ClientRateThrottle(SimpleRateThrottle):
    scope = "api-client"
    rate = None

    def get_rate(self) -> str | None:
        return setting("PREFCENTER_API_RATE")

    def allow_request(self, request, view) -> bool:
        client = request.user
        if isinstance(client, ApiClient) and client.rate:
            self.rate = client.rate.replace(" ", "")
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        client = request.user
        if not isinstance(client, ApiClient):
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}
