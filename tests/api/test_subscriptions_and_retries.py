"""Opt-in requests, leaving, links and safe retries through the API."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import ConsentEvent, OptInRequest
from prefcenter.api.models import ApiClient, IdempotencyRecord
from prefcenter.preferences.tokens import resolve_token
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db

MDN = "+12015550177"
DISCLOSURE = "Msg&data rates may apply. Reply STOP to cancel."


def opt_in_body(**overrides) -> dict:
    return {
        "list_id": "3001",
        "mdn": MDN,
        "disclosure_text": DISCLOSURE,
        "channel": "web",
        "ip_address": "203.0.113.9",
        "user_agent": "Checkout/2.0",
        **overrides,
    }


@pytest.fixture
def deals(db):
    return make_list(list_id="3001", name="Deals", acquisition_campaign_id="AC3001")


def test_joining_is_an_opt_in_request_with_its_consent_recorded(api, deals):
    person = make_person()
    response = api.post(
        f"/api/v1/persons/{person.pk}/opt-in-requests/", opt_in_body(), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == OptInStatus.REQUESTED
    assert response["Location"] == f"/api/v1/opt-in-requests/{body['id']}/"
    assert person.subscriptions.get().state == SubscriptionState.PENDING
    event = ConsentEvent.objects.get()
    client = ApiClient.objects.get()
    assert event.action == ConsentAction.OPT_IN_REQUESTED
    assert event.source == Source.API
    assert event.disclosure_text == DISCLOSURE
    assert (event.ip_address, event.user_agent) == ("203.0.113.9", "Checkout/2.0")
    assert event.reference.startswith(f"api-client:{client.pk} channel:web request:")
    status = api.get(response["Location"]).json()
    assert status["status"] == OptInStatus.REQUESTED and status["mdn"] == MDN


def test_an_opt_in_without_the_disclosure_or_address_is_refused(api, deals):
    person = make_person()
    body = opt_in_body()
    del body["disclosure_text"]
    body["ip_address"] = "not an address"
    response = api.post(f"/api/v1/persons/{person.pk}/opt-in-requests/", body, format="json")
    assert response.status_code == 400
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"#/disclosure_text", "#/ip_address"}
    assert not OptInRequest.objects.exists()


def test_the_same_key_and_body_replays_the_first_answer(api, deals):
    person = make_person()
    url = f"/api/v1/persons/{person.pk}/opt-in-requests/"
    first = api.post(url, opt_in_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(url, opt_in_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert ConsentEvent.objects.count() == 1
    other = api.post(url, opt_in_body(channel="app"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    assert other.json()["type"] == "urn:prefcenter:problem:idempotency-key-reused"


def test_keys_are_per_client_and_expire(api, deals, settings):
    from tests.api.conftest import authorized, make_api_key

    person = make_person()
    url = f"/api/v1/persons/{person.pk}/preference-link/"
    api.post(url, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    other = authorized(make_api_key())
    assert other.post(url, format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert IdempotencyRecord.objects.count() == 2
    import datetime

    from django.utils import timezone

    IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(days=2))
    again = api.post(url, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again


def test_an_error_is_not_kept_and_its_retry_runs_again(api, deals):
    person = make_person()
    url = f"/api/v1/persons/{person.pk}/opt-in-requests/"
    bad = api.post(url, opt_in_body(mdn="12"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = api.post(url, opt_in_body(mdn="12"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert good.status_code == 400


def test_a_bad_idempotency_key_is_a_problem(api, deals):
    person = make_person()
    response = api.post(
        f"/api/v1/persons/{person.pk}/preference-link/",
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 300,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "header:Idempotency-Key"


def test_leaving_a_list_records_the_client(api, deals):
    person = make_person()
    api.post(f"/api/v1/persons/{person.pk}/opt-in-requests/", opt_in_body(), format="json")
    response = api.post(f"/api/v1/persons/{person.pk}/subscriptions/3001/leave/", format="json")
    assert response.status_code == 200
    assert response.json()["state"] == SubscriptionState.UNSUBSCRIBED
    assert OptInRequest.objects.get().status == OptInStatus.EXPIRED
    missing = api.post(f"/api/v1/persons/{person.pk}/subscriptions/nope/leave/", format="json")
    assert missing.status_code == 404


def test_a_minted_link_opens_the_persons_page(api):
    person = make_person()
    response = api.post(f"/api/v1/persons/{person.pk}/preference-link/", format="json")
    assert response.status_code == 201
    token = response.json()["url"].rstrip("/").rsplit("/", 1)[-1]
    assert resolve_token(token) == person


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once():
    """Two requests with one key at the same moment: one runs, the other replays it."""
    from tests.api.conftest import authorized, make_api_key

    make_list(list_id="3001", name="Deals", acquisition_campaign_id="AC3001")
    person = make_person()
    key = make_api_key()
    url = f"/api/v1/persons/{person.pk}/opt-in-requests/"
    answers, barrier = [], threading.Barrier(2)

    def post() -> None:
        try:
            barrier.wait()
            response = authorized(key).post(
                url, opt_in_body(), format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert OptInRequest.objects.count() == 1
    assert ConsentEvent.objects.count() == 1
