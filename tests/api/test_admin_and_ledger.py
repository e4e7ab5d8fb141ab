"""Staff manage clients and keys in the admin; clients read and export the ledger."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import tracemalloc

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from crm import services
from crm.choices import ConsentAction, Source
from prefcenter.api.models import ApiClient, ApiKey
from prefcenter.conf import setting
from tests.api.conftest import authorized, make_api_key
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_browser() -> Client:
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-1234567")
    browser = Client()
    browser.force_login(staff)
    return browser


def test_issuing_a_key_shows_it_once_and_revoking_refuses_it(staff_browser):
    make_api_key(name="Warehouse", scopes=["consent:read"])
    client = ApiClient.objects.get(name="Warehouse")
    response = staff_browser.post(
        "/admin/prefcenter_api/apiclient/",
        {"action": "issue_key", "_selected_action": [client.pk]},
    )
    assert response.status_code == 200
    [key] = re.findall(r"pck_[0-9a-f]{8}_[A-Za-z0-9_-]+", response.content.decode())
    assert authorized(key).get("/api/v1/consent-events/").status_code == 200
    change_page = staff_browser.get(f"/admin/prefcenter_api/apiclient/{client.pk}/change/")
    assert key not in change_page.content.decode()
    assert ApiKey.objects.get(prefix=key[4:12]).prefix in change_page.content.decode()

    staff_browser.post(
        "/admin/prefcenter_api/apikey/",
        {"action": "revoke_keys", "_selected_action": [ApiKey.objects.get(prefix=key[4:12]).pk]},
    )
    assert authorized(key).get("/api/v1/consent-events/").status_code == 401


def test_revoking_a_clients_keys_from_the_client_list(staff_browser):
    key = make_api_key(name="Support desk")
    client = ApiClient.objects.get(name="Support desk")
    staff_browser.post(
        "/admin/prefcenter_api/apiclient/",
        {"action": "revoke_client_keys", "_selected_action": [client.pk]},
    )
    assert authorized(key).get("/api/v1/lists/").status_code == 401


def test_an_unknown_scope_or_rate_is_refused_by_the_model():
    client = ApiClient(name="x", scopes=["persons:read", "everything"], rate="fast")
    with pytest.raises(Exception) as error:
        client.full_clean()
    assert "everything" in str(error.value) and "rate" in str(error.value)


def test_a_bad_rate_setting_names_itself(settings):
    settings.PREFCENTER_API_RATE = "lots"
    with pytest.raises(ImproperlyConfigured, match="PREFCENTER_API_RATE"):
        setting("PREFCENTER_API_RATE")
    settings.PREFCENTER_API_IDEMPOTENCY_TTL = "0"
    with pytest.raises(ImproperlyConfigured, match="PREFCENTER_API_IDEMPOTENCY_TTL"):
        setting("PREFCENTER_API_IDEMPOTENCY_TTL")


@pytest.fixture
def ledger(db):
    deals = make_list(list_id="4001", name="Deals")
    news = make_list(list_id="4002", name="News")
    ada, bob = make_person(external_person_id="ada"), make_person(external_person_id="bob")
    base = timezone.now() - datetime.timedelta(days=10)
    for day, (person, subscription_list, action) in enumerate(
        [
            (ada, deals, ConsentAction.OPTED_IN),
            (ada, news, ConsentAction.OPTED_IN),
            (bob, deals, ConsentAction.OPTED_IN),
            (ada, deals, ConsentAction.OPTED_OUT),
        ]
    ):
        services.consent_record(
            person=person,
            subscription_list=subscription_list,
            action=action,
            source=Source.IMPORT,
            consent=services.ConsentContext(
                occurred_at=base + datetime.timedelta(days=day),
                user_agent='=HYPERLINK("http://x")',
            ),
        )
    return {"ada": ada, "bob": bob, "base": base}


def test_the_ledger_filters_by_person_list_action_and_time(api, ledger):
    def ids(query: str) -> list[tuple[str, str, str]]:
        rows = api.get(f"/api/v1/consent-events/?{query}").json()["results"]
        return [(r["external_person_id"], r["list_id"], r["action"]) for r in rows]

    assert ids(f"person={ledger['ada'].pk}") == [
        ("ada", "4001", "opted_in"),
        ("ada", "4002", "opted_in"),
        ("ada", "4001", "opted_out"),
    ]
    assert ids("external_person_id=bob") == [("bob", "4001", "opted_in")]
    assert ids("list=4001&action=opted_out") == [("ada", "4001", "opted_out")]
    since = (ledger["base"] + datetime.timedelta(days=1)).isoformat()
    until = (ledger["base"] + datetime.timedelta(days=3)).isoformat()
    response = api.get("/api/v1/consent-events/", {"since": since, "until": until})
    assert [r["list_id"] for r in response.json()["results"]] == ["4002", "4001"]


def test_the_export_streams_ndjson_and_csv(api, ledger):
    response = api.get("/api/v1/consent-events/export.ndjson?list=4001")
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [(r["external_person_id"], r["action"]) for r in rows] == [
        ("ada", "opted_in"),
        ("bob", "opted_in"),
        ("ada", "opted_out"),
    ]
    response = api.get("/api/v1/consent-events/export.csv", HTTP_ACCEPT="text/csv")
    assert response.streaming
    assert 'filename="consent-' in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(table) == 4
    # A spreadsheet would run the user agent as a formula; the export defuses it.
    assert table[0]["user_agent"].startswith("'=")


def test_the_export_checks_its_filters_before_streaming(api, ledger):
    response = api.get("/api/v1/consent-events/export.csv?since=soon")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def _export_peak(api, fmt: str) -> tuple[int, int]:
    """(rows, peak bytes allocated while the export streamed)."""
    response = api.get(f"/api/v1/consent-events/export.{fmt}")
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        rows = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return rows, peak


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_the_export_memory_does_not_grow_with_the_ledger(api, monkeypatch, fmt):
    monkeypatch.setattr("prefcenter.api.consent.EXPORT_CHUNK", 50)
    subscription_list = make_list(list_id="4100")
    person = make_person()

    def record(count: int) -> None:
        for _ in range(count):
            services.consent_record(
                person=person,
                subscription_list=subscription_list,
                action=ConsentAction.OPTED_IN,
                source=Source.IMPORT,
                consent=services.ConsentContext(user_agent="x" * 500),
            )

    record(200)
    small_rows, small_peak = _export_peak(api, fmt)
    record(1800)
    large_rows, large_peak = _export_peak(api, fmt)
    assert large_rows - small_rows == 1800
    # Ten times the rows; a list of them would need about ten times the memory.
    assert large_peak < 2 * small_peak, (small_peak, large_peak)
