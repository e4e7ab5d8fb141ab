"""Real HTTP to a running site (``live_server``), including a database that is unavailable.

The outages are real: on SQLite another connection holds the database's write lock (or
the database file cannot be opened); on PostgreSQL another connection holds an
ACCESS EXCLUSIVE lock on the callback table (or the server is unreachable).
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.callbacks.receivers import DRF, PLAIN
from tests.fixtures.callbacks import (
    callback_body,
    database_locked,
    database_unreachable,
    process_callbacks,
)
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

MOUNT = {"path": PLAIN}


@pytest.fixture(autouse=True, params=[PLAIN, DRF], ids=["plain", "drf"])
def mount(request):
    """Every test against both views: the plain one and the REST framework one."""
    MOUNT["path"] = request.param
    yield
    MOUNT["path"] = PLAIN


def _url(live_server, path: str = PLAIN) -> str:
    return f"{live_server.url}{MOUNT['path']}{path.removeprefix(PLAIN)}"


def _deliver(live_server, body: dict, *, method: str = "POST", **kwargs) -> requests.Response:
    return requests.request(
        method,
        _url(live_server, kwargs.pop("path", "/vibes/callbacks/")),
        data=json.dumps(body).encode(),
        headers={"Content-Type": kwargs.pop("content_type", "application/json"), **kwargs},
        timeout=10,
    )


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("content_type", ["application/json", "text/json"])
def test_real_http_deliveries_with_every_method_and_content_type(live_server, method, content_type):
    body = callback_body("subscription_added", event_id="new")

    response = _deliver(live_server, body, method=method, content_type=content_type)

    assert response.status_code == 200
    assert response.json() == {"status": "stored"}
    event = CallbackEvent.objects.get(event_id=body["event_id"])
    assert event.method == method
    assert event.headers["Content-Type"] == content_type
    assert event.headers["User-Agent"].startswith("python-requests/")
    assert json.loads(event.body) == body


def test_basic_credentials_in_the_url_as_vibes_sends_them(live_server, settings):
    settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "pa:ss w/ord")]
    body = callback_body("person_added", event_id="new")
    url = _url(live_server).replace("http://", "http://vibes:pa%3Ass%20w%2Ford@")

    ok = requests.post(url, json=body, timeout=10)
    refused = requests.post(_url(live_server), json=callback_body("person_added"), timeout=10)

    assert ok.status_code == 200
    assert refused.status_code == 401
    assert CallbackEvent.objects.get().authenticated_as == "basic:vibes"
    assert "Authorization" not in CallbackEvent.objects.get().headers


def test_a_locked_database_answers_503_and_the_retried_deliveries_land(live_server):
    bodies = [callback_body("subscription_added", event_id="new") for _ in range(3)]

    with database_locked():
        refused = [_deliver(live_server, body) for body in bodies]

    assert [r.status_code for r in refused] == [503, 503, 503]
    assert all(r.headers["Retry-After"] == "30" for r in refused)
    assert not CallbackEvent.objects.exists()

    retried = [_deliver(live_server, dict(body, delivery_attempt="2")) for body in bodies]
    assert [r.status_code for r in retried] == [200, 200, 200]
    assert set(CallbackEvent.objects.values_list("event_id", flat=True)) == {
        body["event_id"] for body in bodies
    }
    process_callbacks()
    assert set(CallbackEvent.objects.values_list("status", flat=True)) == {CallbackStatus.PROCESSED}


def test_an_unreachable_database_answers_503(live_server, tmp_path):
    body = callback_body("person_added", event_id="new")

    with database_unreachable(tmp_path):
        response = _deliver(live_server, body)

    assert response.status_code == 503
    assert _deliver(live_server, body).status_code == 200
    assert CallbackEvent.objects.filter(event_id=body["event_id"]).count() == 1
