"""The callback endpoint: what it stores and what it answers (Django test client)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.callbacks.receivers import receiver_client
from tests.fixtures.callbacks import callback_body, post_callback, process_callbacks
from vibes_integration.callbacks.drf_views import CallbackReceiveView
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]

client = receiver_client()


@pytest.mark.parametrize("method", ["post", "put"])
@pytest.mark.parametrize("content_type", ["application/json", "text/json"])
def test_post_and_put_with_either_content_type_are_stored(client, method, content_type):
    body = callback_body("subscription_added", event_id="new")

    response = post_callback(client, body, method=method, content_type=content_type)

    assert response.status_code == 200
    assert response.json() == {"status": "stored"}
    event = CallbackEvent.objects.get(event_id=body["event_id"])
    assert event.callback_type == "subscription_added"
    assert event.status == CallbackStatus.RECEIVED
    assert event.method == method.upper()
    assert event.headers["Content-Type"] == content_type
    assert json.loads(event.body) == body
    assert event.remote_addr == "127.0.0.1"
    assert event.delivery_attempt == 1
    assert event.authenticated_as == "open"
    assert event.received_at is not None


def _statements(queries) -> list[str]:
    kept = []
    for query in queries:
        sql = query["sql"].lstrip().upper()
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")):
            continue
        kept.append(query["sql"])
    return kept


def test_the_request_makes_one_insert_and_schedules_processing_once_per_window(client):
    first, second, third = (callback_body("person_added", event_id="new") for _ in range(3))

    with CaptureQueriesContext(connection) as queries:
        assert post_callback(client, first).status_code == 200
    statements = _statements(queries)
    assert len(statements) == 2
    assert statements[0].startswith('INSERT INTO "vibes_callbacks_callbackevent"')
    assert statements[1].startswith('INSERT INTO "django_tasks_database_dbtaskresult"')

    with CaptureQueriesContext(connection) as queries:
        assert post_callback(client, second).status_code == 200
    statements = _statements(queries)
    assert len(statements) == 1
    assert statements[0].startswith('INSERT INTO "vibes_callbacks_callbackevent"')

    [drain] = DBTaskResult.objects.all()
    assert drain.task_path == "vibes_integration.callbacks.tasks.process_received_callback_events"
    assert process_callbacks() == 1  # one run processes both
    assert set(CallbackEvent.objects.values_list("status", flat=True)) == {"processed"}
    tail = DBTaskResult.objects.get(status="READY")
    assert tail.args_kwargs["kwargs"] == {"tail": True}
    assert tail.run_after > timezone.now()

    # The run started: the next event schedules a new one.
    assert post_callback(client, third).status_code == 200
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    assert process_callbacks() == 1
    assert CallbackEvent.objects.get(event_id=third["event_id"]).status == "processed"


def test_head_answers_200_and_get_is_not_allowed(client):
    assert client.head("/vibes/callbacks/").status_code == 200
    response = client.get("/vibes/callbacks/")
    assert response.status_code == 405
    assert response["Allow"] == "POST, PUT, HEAD"
    assert not CallbackEvent.objects.exists()


def test_a_duplicate_event_id_is_answered_2xx_and_stored_once(client):
    body = callback_body("subscription_removed_stop", event_id="new")
    assert post_callback(client, body).status_code == 200

    again = dict(body, delivery_attempt="2")
    response = post_callback(client, again)

    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    event = CallbackEvent.objects.get()
    assert event.deliveries == 2
    assert event.delivery_attempt == 1


def test_a_body_without_event_id_is_keyed_by_its_hash(client):
    body = callback_body("subscription_added")
    del body["event_id"]
    raw = json.dumps(body)

    assert post_callback(client, raw).status_code == 200
    assert post_callback(client, raw).json() == {"status": "duplicate"}

    event = CallbackEvent.objects.get()
    assert event.event_id.startswith("sha256:")
    assert len(event.event_id) == len("sha256:") + 64


@pytest.mark.parametrize(
    "raw",
    [b"this is not json", b"[1, 2, 3]", b'{"truncated": ', "caf\u00e9 \x00".encode(), b"\xff\xfe"],
    ids=["text", "array", "truncated", "nul", "not-utf8"],
)
def test_a_body_that_is_not_a_callback_is_stored_and_answered_2xx(client, raw):
    response = post_callback(client, raw)

    assert response.status_code == 200
    event = CallbackEvent.objects.get()
    assert event.callback_type == ""
    assert event.body
    assert process_callbacks() == 1
    event.refresh_from_db()
    assert event.status == CallbackStatus.INVALID
    assert event.error


def test_an_unknown_type_is_stored_answered_2xx_and_ignored(client):
    body = callback_body("wallet_item_install", event_id="new")

    assert post_callback(client, body).status_code == 200
    assert process_callbacks() == 1

    event = CallbackEvent.objects.get()
    assert event.callback_type == "wallet_item_install"
    assert event.status == CallbackStatus.IGNORED
    assert "wallet_item_install" in event.notes[0]


@pytest.mark.parametrize("method", ["post", "put"])
def test_a_body_over_the_limit_is_kept_truncated_answered_2xx_and_settled_invalid(
    client, settings, method
):
    settings.VIBES_CALLBACK_MAX_BODY_BYTES = 1024
    body = callback_body("person_added", event_id="new")
    body["padding"] = "x" * 2000
    raw = json.dumps(body).encode()

    response = post_callback(client, raw, method=method)

    assert response.status_code == 200
    event = CallbackEvent.objects.get()
    assert event.body == raw[:1024].decode()
    assert event.truncated_from_bytes == len(raw)
    assert event.body_truncated
    assert process_callbacks() == 1
    event.refresh_from_db()
    assert event.status == CallbackStatus.INVALID
    assert f"The body was {len(raw)} bytes" in event.error
    assert "VIBES_CALLBACK_MAX_BODY_BYTES" in event.error


def test_a_body_at_the_limit_is_stored(client, settings):
    body = callback_body("person_added", event_id="new")
    raw = json.dumps(body).encode()
    settings.VIBES_CALLBACK_MAX_BODY_BYTES = len(raw)

    assert post_callback(client, raw).status_code == 200
    stored = CallbackEvent.objects.get()
    assert stored.body == raw.decode()
    assert stored.truncated_from_bytes is None


def test_the_authorization_header_is_never_stored(client, settings):
    settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "s3cret-pass")]
    from base64 import b64encode

    auth = "Basic " + b64encode(b"vibes:s3cret-pass").decode()
    body = callback_body("person_added", event_id="new")

    assert post_callback(client, body, HTTP_AUTHORIZATION=auth).status_code == 200

    event = CallbackEvent.objects.get()
    assert "s3cret" not in json.dumps(event.headers)
    assert event.authenticated_as == "basic:vibes"


def test_nul_characters_in_the_id_and_type_are_stored_without_them(client):
    raw = b'{"event_id": "evt-\\u0000-nul", "callback_type": "person_\\u0000added"}'

    assert post_callback(client, raw).status_code == 200

    event = CallbackEvent.objects.get()
    assert event.event_id == "evt--nul"
    assert event.callback_type == "person_added"
    assert event.body == raw.decode()


def test_columns_the_request_leaves_out_hold_the_model_defaults(client):
    body = callback_body("subscription_added", event_id="new")

    assert post_callback(client, body).status_code == 200

    stored = CallbackEvent.objects.get()
    fresh = CallbackEvent()
    given = {"id", "event_id", "callback_type", "body", "headers", "method", "remote_addr"}
    given |= {"authenticated_as", "delivery_attempt", "received_at"}
    for field in CallbackEvent._meta.concrete_fields:
        if field.name not in given:
            assert getattr(stored, field.attname) == getattr(fresh, field.attname), field.name
    assert stored.notes == []
    assert stored.status == CallbackStatus.RECEIVED
    assert stored.deliveries == 1


def test_the_drf_mount_is_served_by_the_rest_framework_view():
    assert resolve("/vibes/callbacks/drf/").func.view_class is CallbackReceiveView
    assert resolve("/vibes/callbacks/drf/some-token-0123456789/").kwargs == {
        "token": "some-token-0123456789"
    }
    assert not hasattr(resolve("/vibes/callbacks/").func, "view_class")
