"""Run the receiver tests against both callback views: the plain one and the REST framework one.

``receiver_client`` builds a ``client`` fixture parametrised over the two mounts; the
DRF one rewrites every ``/vibes/callbacks/`` path the tests use to ``/vibes/callbacks/drf/``,
so each test checks that both views answer, store and refuse alike.
"""

from __future__ import annotations

import pytest
from django.test import Client

PLAIN = "/vibes/callbacks/"
DRF = "/vibes/callbacks/drf/"


class DrfReceiverClient(Client):
    """A test client whose callback requests go to the REST framework view."""

    def generic(self, method, path, *args, **kwargs):
        if path.startswith(PLAIN):
            path = DRF + path[len(PLAIN) :]
        return super().generic(method, path, *args, **kwargs)


def receiver_client():
    """A ``client`` fixture parametrised over both views (ids ``plain`` and ``drf``)."""

    @pytest.fixture(params=["plain", "drf"])
    def client(request):
        return DrfReceiverClient() if request.param == "drf" else Client()

    return client
