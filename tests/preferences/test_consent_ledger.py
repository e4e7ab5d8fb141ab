"""The ledger proves the consent on its own: what was shown, and one line per opt-in that
names every Vibes event that confirmed it."""

import datetime
import re

import pytest
from django.utils import timezone

from crm.choices import ConsentAction
from crm.models import ConsentEvent, OptInRequest, SubscriptionList
from prefcenter.preferences.selectors import disclosure_digest, join_button_label, list_disclosure
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.callbacks import callback_body, deliver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]

CONFIRMED = "evt-ack-changed-confirmed-0001"


@pytest.fixture
def dina_asked(client):
    """Dina joins Deals on the preference page with her number (the callbacks' fixture)."""
    deals = make_list(
        list_id="1001",
        name="Deals & offers",
        acquisition_campaign_id="AC1001",
        shown_in_preference_center=True,
        disclosure="Up to 4 texts a month. Msg & data rates may apply. Reply STOP to cancel.",
    )
    person = make_person(external_person_id="crm-dina-04", first_name="Dina")
    from prefcenter.preferences.tokens import preference_path

    page = client.get(preference_path(person)).content.decode()
    button = re.search(
        r'<button type="submit" class="button button--primary">([^<]+)</button>\s*'
        r"</div>\s*</form>\s*</section>",
        page,
    )
    response = client.post(
        preference_path(person),
        {
            "action": "opt_in",
            "optin-mdn": "(201) 555-0144",
            "optin-lists": ["1001"],
            "disclosure_1001": disclosure_digest(list_disclosure(deals)),
        },
    )
    assert response.status_code == 303
    return person, deals, button.group(1) if button else ""


def _at(seconds: int) -> str:
    """A moment after the subscriber asked (the ledger orders lines by when they happened)."""
    moment = timezone.now() + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _confirmed() -> dict:
    body = callback_body("ack_participant_changed_confirmed", event_date=_at(70))
    body["participant"]["participation_date"] = _at(5)
    body["participant"]["expire_date"] = _at(86400)
    return body


def _subscription_added(person_key: str) -> dict:
    body = callback_body("subscription_added", event_id="evt-sub-added-dina")
    body["subscription"]["person"] = {"person_key": person_key, "external_id": "crm-dina-04"}
    body["subscription"]["opt_in_date"] = _at(65)
    body["event_date"] = _at(72)
    return body


def test_the_stored_disclosure_names_the_button_that_was_pressed(dina_asked):
    person, deals, pressed = dina_asked
    assert pressed == join_button_label()
    [asked] = ConsentEvent.objects.filter(person=person, action=ConsentAction.OPT_IN_REQUESTED)
    assert f"“{pressed}”" in asked.disclosure_text
    assert deals.disclosure in asked.disclosure_text


@pytest.mark.parametrize("confirmed_first", [True, False])
def test_one_y_is_one_opted_in_line_with_every_event_that_reported_it(
    client, dina_asked, confirmed_first
):
    person, deals, pressed = dina_asked
    bodies = [_confirmed(), _subscription_added("PK-DINA-04")]
    if not confirmed_first:
        bodies.reverse()
    for body in bodies:
        deliver(client, body)
    assert OptInRequest.objects.get().status == "confirmed"
    [opted_in] = ConsentEvent.objects.filter(person=person, action=ConsentAction.OPTED_IN)
    assert sorted(opted_in.vibes_event_ids) == sorted([CONFIRMED, "evt-sub-added-dina"])
    # The opt-in keeps what the subscriber was shown when they asked.
    assert f"“{pressed}”" in opted_in.disclosure_text
    # A replay of either event adds nothing.
    deliver(client, bodies[0] | {"delivery_attempt": "2"})
    assert ConsentEvent.objects.filter(action=ConsentAction.OPTED_IN).count() == 1
    assert SubscriptionList.objects.get(pk=deals.pk).list_id == "1001"


@pytest.mark.parametrize("confirmed_first", [True, False])
def test_a_y_that_vibes_dates_before_the_request_is_still_one_line(
    client, dina_asked, confirmed_first
):
    """Vibes dates to the whole second: a Y within the request's second is dated before
    the request's own line, which then sorts as the newest; the two reports of that Y
    are still one opted-in line, which keeps the request's disclosure."""
    person, _, pressed = dina_asked
    [asked] = ConsentEvent.objects.filter(person=person, action=ConsentAction.OPT_IN_REQUESTED)
    second = asked.occurred_at.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    confirmed = _confirmed() | {"event_date": second}
    added = _subscription_added("PK-DINA-04") | {"event_date": second}
    added["subscription"] = dict(added["subscription"], opt_in_date=second)
    bodies = [confirmed, added] if confirmed_first else [added, confirmed]
    for body in bodies:
        deliver(client, body)
    [opted_in] = ConsentEvent.objects.filter(person=person, action=ConsentAction.OPTED_IN)
    assert sorted(opted_in.vibes_event_ids) == sorted([CONFIRMED, "evt-sub-added-dina"])
    assert f"“{pressed}”" in opted_in.disclosure_text


def test_an_opt_in_after_an_opt_out_is_a_new_line(client, dina_asked):
    person, _, _ = dina_asked
    deliver(client, _confirmed())
    stop = callback_body("subscription_removed_stop", event_id="evt-stop-dina")
    stop["subscription"]["person"] = {"person_key": "PK-DINA-04", "external_id": "crm-dina-04"}
    stop["subscription"]["opt_out_date"] = _at(3600)
    stop["event_date"] = _at(3601)
    deliver(client, stop)
    again = _subscription_added("PK-DINA-04") | {
        "event_id": "evt-sub-added-again",
        "event_date": _at(7200),
    }
    again["subscription"] = dict(again["subscription"], opt_in_date=_at(7190))
    deliver(client, again)
    lines = ConsentEvent.objects.filter(person=person, action=ConsentAction.OPTED_IN)
    assert sorted(line.vibes_event_ids[0] for line in lines) == [
        CONFIRMED,
        "evt-sub-added-again",
    ]
