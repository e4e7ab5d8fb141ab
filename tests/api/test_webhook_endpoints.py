"""Webhook endpoints through the API: registered, changed, rotated, paused, resumed and
deleted with a key holding the ``webhooks`` scope, and their deliveries read back."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from prefcenter.webhooks import services, signing
from prefcenter.webhooks.choices import DeliveryState, EventType
from prefcenter.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.api.conftest import authorized, make_api_key
from tests.fixtures.builders import make_person
from tests.webhooks.conftest import deliver_until, webhook_requests

BASE = "/api/v1/webhook-endpoints/"
OPTED_OUT = EventType.SUBSCRIPTION_OPTED_OUT.value


def _create(api, **fields):
    body = {"url": "https://crm.example.com/hooks", "event_types": [OPTED_OUT], **fields}
    return api.post(BASE, body, format="json")


@pytest.mark.django_db
def test_a_key_without_the_webhooks_scope_is_refused(api):
    other = authorized(make_api_key(scopes=["persons:read", "persons:write"]))
    assert other.get(BASE).status_code == 403
    assert _create(other).status_code == 403
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_create_shows_the_secret_once_and_reads_never_show_it(api):
    response = _create(api, description="Brand CRM")

    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert response["Location"] == f"{BASE}{endpoint.pk}/"
    assert body["event_types"] == [OPTED_OUT] and body["paused"] is False
    read = api.get(response["Location"]).json()
    listed = api.get(BASE).json()["results"]
    assert "secret" not in read and read["description"] == "Brand CRM"
    assert [row["id"] for row in listed] == [endpoint.pk] and "secret" not in listed[0]
    assert endpoint.secret not in json.dumps(listed)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"url": "ftp://crm.example.com/hooks"}, "#/url"),
        ({"url": "not a url"}, "#/url"),
        ({"event_types": ["person.deleted"]}, "#/event_types/0"),
        ({"event_types": []}, "#/event_types"),
    ],
)
def test_bad_values_are_problems_with_a_pointer_and_register_nothing(api, fields, pointer):
    response = _create(api, **fields)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert pointer in [error["pointer"] for error in response.json()["errors"]]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_plain_http_is_refused_in_production(api, settings):
    settings.PRODUCTION = True
    response = _create(api, url="http://crm.example.com/hooks")

    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/url"
    assert "https://" in response.json()["errors"][0]["detail"]
    assert _create(api).status_code == 201


@pytest.mark.django_db
def test_a_retried_create_answers_the_first_answer_and_another_body_is_422(api):
    first = api.post(
        BASE,
        {"url": "https://crm.example.com/a", "event_types": [OPTED_OUT]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="reg-1",
    )
    again = api.post(
        BASE,
        {"url": "https://crm.example.com/a", "event_types": [OPTED_OUT]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="reg-1",
    )
    other = api.post(
        BASE,
        {"url": "https://crm.example.com/b", "event_types": [OPTED_OUT]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="reg-1",
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 422
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.django_db
def test_patch_changes_only_the_fields_given(api):
    endpoint_id = _create(api, description="old").json()["id"]

    response = api.patch(
        f"{BASE}{endpoint_id}/",
        {"event_types": [EventType.PERSON_CHANGED, OPTED_OUT]},
        format="json",
    )

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == [EventType.PERSON_CHANGED, OPTED_OUT]
    assert endpoint.description == "old" and endpoint.url == "https://crm.example.com/hooks"
    bad = api.patch(f"{BASE}{endpoint_id}/", {"url": "ftp://x.example.com/"}, format="json")
    assert bad.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.url == "https://crm.example.com/hooks"


@pytest.mark.django_db
def test_rotate_shows_the_new_secret_once_and_the_old_one_signs_for_the_grace_period(api):
    created = _create(api).json()

    response = api.post(f"{BASE}{created['id']}/rotate-secret/")

    assert response.status_code == 200
    rotated = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert rotated["secret"] == endpoint.secret != created["secret"]
    assert rotated["previous_secret_signs_until"] is not None
    assert endpoint.signing_secrets() == [rotated["secret"], created["secret"]]
    assert "secret" not in api.get(f"{BASE}{created['id']}/").json()


@pytest.mark.django_db
def test_pause_holds_deliveries_and_resume_makes_them_due(api):
    endpoint_id = _create(api, event_types=[EventType.PERSON_CHANGED]).json()["id"]

    paused = api.post(f"{BASE}{endpoint_id}/pause/", {"reason": "maintenance"}, format="json")
    make_person(external_person_id="crm-1")
    delivery = WebhookDelivery.objects.get()
    delivery.next_attempt_at = timezone.now() + timezone.timedelta(hours=1)
    delivery.save()
    resumed = api.post(f"{BASE}{endpoint_id}/resume/")

    assert paused.status_code == 200
    assert paused.json()["paused"] is True and paused.json()["paused_reason"] == "maintenance"
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.next_attempt_at <= timezone.now()


@pytest.mark.django_db
def test_delete_removes_the_endpoint(api):
    endpoint_id = _create(api).json()["id"]

    assert api.delete(f"{BASE}{endpoint_id}/").status_code == 204
    assert api.get(f"{BASE}{endpoint_id}/").status_code == 404
    assert api.delete(f"{BASE}{endpoint_id}/").status_code == 404
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_registered_through_the_api_gets_signed_events_and_shows_the_attempts(
    callback_receiver, settings
):
    settings.WEBHOOK_RETRY_JITTER = 0
    api = authorized(make_api_key(scopes=["webhooks"]))
    created = _create(api, url=callback_receiver.url, event_types=[EventType.PERSON_CHANGED])
    secret = created.json()["secret"]

    make_person(external_person_id="crm-9")
    deliver_until(lambda: WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).exists())

    [request] = webhook_requests(callback_receiver)
    headers = request["headers"]
    expected = signing.signature(
        secret=secret,
        message_id=headers["webhook-id"],
        timestamp=int(headers["webhook-timestamp"]),
        body=request["raw"],
    )
    assert expected in headers["webhook-signature"].split(" ")
    page = api.get(f"{BASE}{created.json()['id']}/deliveries/").json()
    [delivery] = page["results"]
    assert delivery["message_id"] == headers["webhook-id"]
    assert delivery["event_type"] == EventType.PERSON_CHANGED
    assert delivery["state"] == DeliveryState.SUCCEEDED
    assert [(a["number"], a["status_code"], a["outcome"]) for a in delivery["attempt_log"]] == [
        (1, 200, "succeeded")
    ]
    assert services.event_publish(event_type=EventType.ERASURE_DONE, data={}) is None
