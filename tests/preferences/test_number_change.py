"""The page's mobile-number section: the change-of-number form and "Remove my number"
(the round trip with Vibes is in tests/sync/test_number_change.py and tests/e2e)."""

from __future__ import annotations

import re

import pytest

from crm.choices import ConsentAction, NumberChangeStatus
from crm.models import ConsentEvent, NumberChange, OptInRequest
from prefcenter.preferences.selectors import preference_page_state
from tests.fixtures.builders import make_person

pytestmark = pytest.mark.django_db

NEW = "+12015550188"
BROWSER = "Mozilla/5.0 (iPhone) Safari"


def _post(client, path, data):
    return client.post(path, data, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.20")


def _change_form(client, person, url, **changes):
    page = client.get(url(person)).content.decode()
    data = {"action": "change_number", "number-mdn": "(201) 555-0188", "number-lists": ["deals"]}
    for list_id, digest in re.findall(r'name="disclosure_([^"]+)" value="([^"]+)"', page):
        data[f"disclosure_{list_id}"] = digest
    data.update(changes)
    return data


def test_the_section_preselects_the_lists_the_person_is_on(client, subscriber, url):
    page = client.get(url(subscriber)).content.decode()
    section = page[page.index('id="number"') :]
    assert re.search(r'name="number-lists" value="deals"[^>]*checked', section)
    assert not re.search(r'name="number-lists" value="arrivals"[^>]*checked', section)
    assert "Text my new number to confirm" in section


def test_a_change_asks_the_new_number_and_keeps_the_old_lists(client, subscriber, url):
    response = _post(client, url(subscriber), _change_form(client, subscriber, url))
    assert response.status_code == 303
    change = NumberChange.objects.get(person=subscriber)
    assert change.status == NumberChangeStatus.PENDING and str(change.new_mdn) == NEW
    [request] = OptInRequest.objects.filter(person=subscriber, mdn=NEW)
    assert request.subscription_list.list_id == "deals"
    asked = ConsentEvent.objects.get(action=ConsentAction.OPT_IN_REQUESTED, mdn=NEW)
    assert "Text my new number to confirm" in asked.disclosure_text
    assert asked.user_agent == BROWSER
    page = client.get(url(subscriber)).content.decode()
    assert "If (201) 555-0188 can receive texts, we sent it a text" in page
    assert 'data-testid="number-waiting"' in page
    state = preference_page_state(subscriber)
    assert state.list_state("deals").status == "subscribed"


def test_another_subscribers_number_gets_the_same_words_and_sends_nothing(client, subscriber, url):
    make_person(mdn=NEW, email="bob@example.com")
    response = _post(client, url(subscriber), _change_form(client, subscriber, url))
    assert response.status_code == 303
    page = client.get(url(subscriber)).content.decode()
    assert "If (201) 555-0188 can receive texts, we sent it a text" in page
    assert 'data-testid="number-waiting"' in page
    assert "belongs to another" not in page and "another subscriber" not in page
    assert NumberChange.objects.get().status == NumberChangeStatus.CONFLICT
    assert not OptInRequest.objects.filter(mdn=NEW).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number-mdn": "+1 201-555-0101"}, "That is already your number."),
        ({"number-mdn": ""}, "Enter your new mobile number."),
        ({"number-lists": []}, "Choose at least one list"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_changes_nothing(
    client, subscriber, url, changes, message
):
    response = _post(client, url(subscriber), _change_form(client, subscriber, url, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NumberChange.objects.exists()


def test_remove_asks_first_without_javascript_then_removes(client, subscriber, url):
    first = _post(client, url(subscriber), {"action": "remove_number"})
    assert first.status_code == 200
    page = first.content.decode()
    assert 'data-testid="remove-confirm"' in page and "Deals" in page
    subscriber.refresh_from_db()
    assert subscriber.mdn is not None  # nothing changed yet
    done = _post(client, url(subscriber), {"action": "remove_number", "confirm": "yes"})
    assert done.status_code == 303
    subscriber.refresh_from_db()
    assert subscriber.mdn is None
    assert subscriber.subscriptions.get().state == "unsubscribed"
    page = client.get(url(subscriber)).content.decode()
    assert "is removed" in page and 'id="number"' not in page
