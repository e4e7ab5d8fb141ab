"""Real HTTP to a running site (``live_server``), including a database that is unavailable.

The outages are real: on SQLite another connection holds the database's write lock (or
the database file cannot be opened); on PostgreSQL another connection holds an
ACCESS EXCLUSIVE lock on the callback table (or the server is unreachable).
"""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from django.db import connection

from tests.fixtures.callbacks import callback_body, process_callbacks
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

TABLE = "vibes_callbacks_callbackevent"


def _url(live_server, path: str = "/vibes/callbacks/") -> str:
    return f"{live_server.url}{path}"


def _deliver(live_server, body: dict, *, method: str = "POST", **kwargs) -> requests.Response:
    return requests.request(
        method,
        _url(live_server, kwargs.pop("path", "/vibes/callbacks/")),
        data=json.dumps(body).encode(),
        headers={"Content-Type": kwargs.pop("content_type", "application/json"), **kwargs},
        timeout=10,
    )


@contextmanager
def _settings_dict(**changes) -> Iterator[None]:
    """Change how NEW database connections are made (each request opens its own)."""
    settings_dict = connection.settings_dict
    saved = {key: settings_dict.get(key) for key in changes}
    saved_options = dict(settings_dict.get("OPTIONS", {}))
    options = changes.pop("OPTIONS", None)
    settings_dict.update(changes)
    if options is not None:
        settings_dict["OPTIONS"] = {**saved_options, **options}
    try:
        yield
    finally:
        settings_dict.update(saved)
        settings_dict["OPTIONS"] = saved_options


@contextmanager
def database_locked() -> Iterator[None]:
    """Another connection holds the lock every insert into the callback log needs."""
    if connection.vendor == "sqlite":
        locker = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            with _settings_dict(OPTIONS={"timeout": 0.3}):
                yield
        finally:
            locker.execute("ROLLBACK")
            locker.close()
    else:
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        locker = psycopg.connect(**params)
        try:
            locker.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
            with _settings_dict(OPTIONS={"options": "-c lock_timeout=300"}):
                yield
        finally:
            locker.rollback()
            locker.close()


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def database_unreachable(tmp_path) -> Iterator[None]:
    if connection.vendor == "sqlite":
        with _settings_dict(NAME=str(tmp_path / "no-such-directory" / "db.sqlite3")):
            yield
    else:
        with _settings_dict(HOST="127.0.0.1", PORT=str(_unused_port())):
            yield


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
    assert process_callbacks() == 3
    assert set(CallbackEvent.objects.values_list("status", flat=True)) == {CallbackStatus.PROCESSED}


def test_an_unreachable_database_answers_503(live_server, tmp_path):
    body = callback_body("person_added", event_id="new")

    with database_unreachable(tmp_path):
        response = _deliver(live_server, body)

    assert response.status_code == 503
    assert _deliver(live_server, body).status_code == 200
    assert CallbackEvent.objects.filter(event_id=body["event_id"]).count() == 1
