"""The whole promise over real HTTP: a key made in the admin, then curl-like calls that
create a person, change a custom field (Vibes gets Update Person), ask for a list with a
disclosure (Vibes texts the number) and read the ledger."""

from __future__ import annotations

import re
import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from crm.choices import CustomFieldType
from prefcenter.api.models import ApiKey
from tests.fixtures.builders import make_custom_field, make_list
from tests.fixtures.tasks import run_pending_tasks
from tests.sync.conftest import vibes_calls
from vibes_integration.sync.choices import ACTIVE_STATUSES
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)

MDN = "+12015550188"
DISCLOSURE = "Northwind deals: up to 4 msgs/mo. Msg&data rates may apply. Reply STOP to cancel."


def settle(timeout: float = 60.0) -> None:
    """Run the task worker in this process until the outbox is empty (committed rows: the
    live server's requests are real transactions)."""
    deadline = time.monotonic() + timeout
    while True:
        run_pending_tasks()
        if not Operation.objects.filter(status__in=ACTIVE_STATUSES).exists():
            return
        assert time.monotonic() < deadline, "the outbox did not settle"
        time.sleep(0.05)


def key_made_in_the_admin() -> str:
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-12345678")
    browser = Client()
    browser.force_login(staff)
    response = browser.post(
        "/admin/prefcenter_api/apiclient/add/",
        {
            "name": "Checkout",
            "description": "The web shop's checkout",
            "scopes": ["persons:read", "persons:write", "subscriptions:write", "consent:read"],
            "rate": "",
            "is_active": "on",
            "keys-TOTAL_FORMS": "0",
            "keys-INITIAL_FORMS": "0",
            "keys-MIN_NUM_FORMS": "0",
            "keys-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    [key] = re.findall(r"pck_[0-9a-f]{8}_[A-Za-z0-9_-]+", response.content.decode())
    assert ApiKey.objects.get().prefix in key
    return key


def test_with_a_key_from_the_admin_a_client_runs_the_whole_loop(live_server, vibes_sandbox):
    make_custom_field(key="shoe_size", label="Shoe size", field_type=CustomFieldType.NUMBER)
    make_list(list_id="1001", name="Deals & offers", acquisition_campaign_id="AC1001")
    key = key_made_in_the_admin()
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {key}"
    api = f"{live_server.url}/api/v1"

    created = http.put(f"{api}/persons/external/shop-42/", json={"first_name": "Ada"}, timeout=10)
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]
    settle()
    vibes_sandbox.control.clear_calls()

    changed = http.patch(
        f"{api}/persons/external/shop-42/", json={"custom_fields": {"shoe_size": 38}}, timeout=10
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["custom_fields"] == {"shoe_size": 38}
    settle()
    [update] = vibes_calls(vibes_sandbox, method="PUT", path_part="/persons/")
    assert 200 <= update["status"] < 300  # Vibes documents 201 (no body) and 200 (echo)
    assert update["body"]["custom_fields"]["shoe_size"] == 38

    asked = http.post(
        f"{api}/persons/{person_id}/opt-in-requests/",
        json={
            "list_id": "1001",
            "mdn": MDN,
            "disclosure_text": DISCLOSURE,
            "channel": "web",
            "ip_address": "198.51.100.7",
            "user_agent": "Mozilla/5.0 (iPhone)",
        },
        headers={"Idempotency-Key": "checkout-order-981"},
        timeout=10,
    )
    assert asked.status_code == 201, asked.text
    settle()
    texts = [m for m in vibes_sandbox.control.phone_messages(MDN) if m["direction"] == "out"]
    assert texts, "the sandbox texted nothing to the number"
    status = http.get(f"{live_server.url}{asked.headers['Location']}", timeout=10).json()
    assert status["status"] == "pending"

    ledger = http.get(f"{api}/consent-events/", params={"person": person_id}, timeout=10)
    assert ledger.status_code == 200
    [event] = ledger.json()["results"]
    assert event["action"] == "opt_in_requested"
    assert event["source"] == "api"
    assert event["disclosure_text"] == DISCLOSURE
    assert event["ip_address"] == "198.51.100.7"
    assert event["reference"].startswith("api-client:")

    export = http.get(f"{api}/consent-events/export.csv", timeout=10)
    assert export.headers["Content-Type"].startswith("text/csv")
    lines = export.text.strip().splitlines()
    assert lines[0].startswith("id,person_id,external_person_id,list_id,action")
    assert "shop-42" in lines[1] and "opt_in_requested" in lines[1]
