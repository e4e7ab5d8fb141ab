"""An authenticated body is always kept: stored and answered 2xx whatever its bytes,
nesting or size, then settled by processing with a reason staff can read."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from prefcenter.conf import setting
from tests.fixtures.callbacks import callback_body, post_callback, process_callbacks
from tests.project.conftest import manage
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.callbacks.storable import body_text, storable, storable_text

pytestmark = pytest.mark.usefixtures("open_callbacks")


def _post_and_process(client, raw: bytes, **kwargs) -> CallbackEvent:
    response = post_callback(client, raw, **kwargs)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "stored"}
    [event] = CallbackEvent.objects.all()
    assert process_callbacks() >= 1
    event.refresh_from_db()
    return event


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000, b"[" * 5_000 + b"]" * 5_000, b'{"a":' * 50_000],
    ids=["100000-open-brackets", "5000-balanced-brackets", "50000-open-objects"],
)
def test_deeply_nested_json_is_stored_and_settled_invalid(client, raw):
    event = _post_and_process(client, raw)

    assert event.body == raw.decode()
    assert event.event_id.startswith("sha256:")
    assert event.status == CallbackStatus.INVALID
    assert "nested too deeply" in event.error


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["event_id", "callback_type"])
def test_a_lone_surrogate_in_the_id_or_type_is_stored_replaced(client, field):
    body = callback_body("subscription_added", event_id="evt-surrogate")
    body[field] = body[field][:4] + "\udc00" + body[field][4:]
    raw = json.dumps(body).encode()

    event = _post_and_process(client, raw)

    assert getattr(event, field) == body[field].replace("\udc00", "\ufffd")
    assert event.body == raw.decode()
    # The type is no longer one we know; the id still identifies the event.
    expected = CallbackStatus.IGNORED if field == "callback_type" else CallbackStatus.PROCESSED
    assert event.status == expected


@pytest.mark.django_db
def test_a_repeat_of_a_body_with_a_surrogate_id_is_a_duplicate(client):
    raw = json.dumps(callback_body("subscription_added", event_id="evt-\ud800")).encode()

    assert post_callback(client, raw).json() == {"status": "stored"}
    assert post_callback(client, raw).json() == {"status": "duplicate"}

    assert CallbackEvent.objects.get().deliveries == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "event_id", "attempt"),
    [
        ({"event_id": 12345, "delivery_attempt": 2}, "12345", 2),
        ({"event_id": 1.0e3, "delivery_attempt": 2**40}, "1000", None),
        ({"event_id": -7, "delivery_attempt": -1}, "-7", None),
        ({"event_id": True, "delivery_attempt": "3.5"}, None, None),
        ({"event_id": "x" * 5000, "delivery_attempt": 1e308}, None, None),
    ],
    ids=["integers", "float-and-huge", "negative", "boolean-and-text", "long-and-overflowing"],
)
def test_numbers_and_odd_values_as_ids_are_stored(client, changes, event_id, attempt):
    raw = json.dumps(callback_body("subscription_added", **changes)).encode()

    event = _post_and_process(client, raw)

    if event_id is None:
        assert event.event_id.startswith("sha256:")
    else:
        assert event.event_id == event_id
    assert event.delivery_attempt == attempt
    assert event.status in {CallbackStatus.PROCESSED, CallbackStatus.INVALID}


@pytest.mark.django_db
def test_nul_bytes_and_bytes_that_are_not_utf8_are_stored_readably(client):
    raw = b'{"event_id": "evt-\x00", "x": "\xed\xa0\x80 \xff"}'

    event = _post_and_process(client, raw)

    assert event.body == '{"event_id": "evt-\\x00", "x": "\\xed\\xa0\\x80 \\xff"}'
    assert event.status == CallbackStatus.INVALID


@pytest.mark.django_db
def test_a_body_over_the_limit_keeps_its_first_bytes_even_mid_character(client, settings):
    settings.VIBES_CALLBACK_MAX_BODY_BYTES = 10
    raw = '{"a": "ééééé"}'.encode()  # the 10th byte is half of an é

    response = post_callback(client, raw, method="put", content_type="text/json")

    assert response.status_code == 200
    event = CallbackEvent.objects.get()
    assert event.body == body_text(raw[:10])
    assert event.truncated_from_bytes == len(raw)
    assert event.method == "PUT"


@pytest.mark.django_db
def test_the_same_large_body_delivered_twice_is_a_duplicate(client, settings):
    settings.VIBES_CALLBACK_MAX_BODY_BYTES = 512
    raw = json.dumps(callback_body("person_added", padding="y" * 1000)).encode()

    assert post_callback(client, raw).json() == {"status": "stored"}
    assert post_callback(client, raw).json() == {"status": "duplicate"}
    assert CallbackEvent.objects.get().deliveries == 2


def test_the_size_limit_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("VIBES_CALLBACK_MAX_BODY_BYTES", "4096")
    assert setting("VIBES_CALLBACK_MAX_BODY_BYTES") == 4096
    monkeypatch.setenv("VIBES_CALLBACK_MAX_BODY_BYTES", "a lot")
    with pytest.raises(ImproperlyConfigured, match="VIBES_CALLBACK_MAX_BODY_BYTES"):
        setting("VIBES_CALLBACK_MAX_BODY_BYTES")

    result = manage(
        "shell",
        "-c",
        "from prefcenter.conf import setting; print(setting('VIBES_CALLBACK_MAX_BODY_BYTES'))",
        VIBES_CALLBACK_MAX_BODY_BYTES="4096",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "4096"


def test_storable_text_removes_nul_and_replaces_lone_surrogates_only():
    assert storable_text("981\x0001") == "98101"
    assert storable_text("a\udc00b\ud800") == "a\ufffdb\ufffd"
    assert storable_text("😀 é") == "😀 é"  # a pair decoded from JSON is one character
    assert storable({"k\udc00": ["\x00", {"n": 1, "t": "\ud83d"}]}) == {
        "k\ufffd": ["", {"n": 1, "t": "\ufffd"}]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_numbers_json_has_not_are_settled_invalid(client, constant):
    raw = b'{"event_id": "evt-nan", "callback_type": "subscription_added", "x": %s}' % (
        constant.encode()
    )

    event = _post_and_process(client, raw)

    assert event.event_id == "evt-nan"
    assert event.status == CallbackStatus.INVALID
    assert f"{constant} is not a JSON value" in event.error


@pytest.mark.django_db
def test_staff_see_that_a_body_was_truncated_and_why_it_is_invalid(client, admin_client, settings):
    settings.VIBES_CALLBACK_MAX_BODY_BYTES = 1000
    raw = json.dumps(callback_body("person_added", padding="z" * 3000)).encode()
    event = _post_and_process(client, raw)

    page = admin_client.get(f"/admin/vibes_callbacks/callbackevent/{event.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Body truncated from (bytes)" in html
    assert str(len(raw)) in html
    assert "only its start is kept" in html
