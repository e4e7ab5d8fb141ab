"""The erasure story end to end: a demo subscriber presses "Delete my data" in Chromium,
confirms, the worker runs, and then Vibes (the sandbox) holds them nulled and unsubscribed,
the database holds none of their personal data, the ledger still proves their consent, and
the sync dashboard shows the request done."""

from __future__ import annotations

import collections

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from crm.choices import ConsentAction
from crm.demo.loader import load_demo
from crm.erasure_hashing import email_hash, mdn_hash
from crm.models import ConsentEvent, ErasureRequest, Person
from prefcenter.preferences.tokens import preference_path
from tests.fixtures.browser import save_screenshot
from tests.privacy.db_search import database_search, number_formats
from tests.sync.conftest import settle

pytestmark = pytest.mark.browser


def _demo_subscriber() -> Person:
    """A demo person with a number, an email, a name no other demo person has, and
    an opt-in in their history."""
    persons = list(Person.objects.exclude(mdn=None).exclude(email=""))
    names = collections.Counter(person.full_name for person in Person.objects.all())
    for person in persons:
        opted_in = ConsentEvent.objects.filter(person=person, action=ConsentAction.OPTED_IN)
        if names[person.full_name] == 1 and opted_in.exists():
            return person
    raise AssertionError("the demo has no subscriber to erase")


@pytest.fixture
def demo_subscriber(transactional_db, vibes_sandbox, settings):
    settings.VIBES_SYNC_BACKOFF_BASE = 0.01
    settings.VIBES_SYNC_BACKOFF_MAX = 0.05
    load_demo(persons=8)
    settle()
    person = _demo_subscriber()
    person.refresh_from_db()
    assert person.person_key, "the demo subscriber reached Vibes"
    # They also joined by keyword, so Vibes has a subscription to end.
    vibes_sandbox.control.phone_reply(str(person.mdn), "DEALS")
    return person


def _sandbox_person(sandbox, person_key: str) -> dict:
    [found] = [p for p in sandbox.control.persons() if p["person_key"] == person_key]
    return found


def test_a_demo_subscriber_erases_their_data(
    demo_subscriber, vibes_sandbox, browser_page, live_server
):
    person = demo_subscriber
    person_key, mdn, email, name = (
        person.person_key,
        str(person.mdn),
        person.email,
        person.full_name,
    )
    assert any(
        s["person_key"] == person_key and not s.get("opt_out_date")
        for s in vibes_sandbox.control.subscriptions()
    )
    needles = [*number_formats(mdn), email, name]
    before = {table for table, _column, _needle in database_search(needles)}
    assert {"crm_person", "crm_consentevent"} <= before, "the search finds what is there"
    ledger_before = collections.Counter(
        ConsentEvent.objects.filter(person=person).values_list("action", flat=True)
    )

    page = browser_page
    page.goto(f"{live_server.url}{preference_path(person)}")
    page.get_by_role("button", name="Delete my data").click()
    confirm = page.locator("#erase")
    expect(confirm.get_by_role("heading", name="Delete your data?")).to_be_visible()
    save_screenshot(page, "privacy-delete-my-data-confirmation")
    assert not ErasureRequest.objects.exists(), "the first press only asks"
    confirm.get_by_role("button", name="Yes, delete my data").click()
    expect(page.get_by_role("heading", name="Your data was deleted")).to_be_visible()
    save_screenshot(page, "privacy-delete-my-data-done")

    settle()  # the worker

    vibes_person = _sandbox_person(vibes_sandbox, person_key)
    assert vibes_person["mdn"] is None and vibes_person["external_person_id"] is None
    assert vibes_person["carrier_code"] is None
    assert all(value is None for value in (vibes_person.get("custom_fields") or {}).values())
    assert not any(
        s["person_key"] == person_key and not s.get("opt_out_date")
        for s in vibes_sandbox.control.subscriptions()
    )

    assert database_search(needles) == []
    request = ErasureRequest.objects.get(person_id=person.pk)
    assert (request.mdn_hash, request.email_hash) == (mdn_hash(mdn), email_hash(email))

    ledger_after = collections.Counter(
        ConsentEvent.objects.filter(person_id=person.pk).values_list("action", flat=True)
    )
    assert ledger_after[ConsentAction.OPTED_IN] == ledger_before[ConsentAction.OPTED_IN] > 0
    assert ledger_after[ConsentAction.OPTED_OUT] > ledger_before[ConsentAction.OPTED_OUT]
    assert ConsentEvent.objects.filter(
        person_id=person.pk, reference=f"erasure:{request.pk}", action=ConsentAction.OPTED_OUT
    ).exists()

    staff = get_user_model().objects.create_superuser("dpo", "dpo@example.com", "pw-123456789")
    admin = Client()
    admin.force_login(staff)
    dashboard = admin.get(reverse("admin:vibes_sync_dashboard"))
    assert dashboard.status_code == 200
    assert f'data-erasure-state="{request.pk}">done<' in dashboard.content.decode()
