"""``vibes_reconcile`` finds persons Vibes holds and the CRM does not, by the CRM's numbers,
and says for each difference which side is right and what ``--repair`` does."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from crm import services
from crm.choices import Source, SubscriptionState
from tests.fixtures.builders import make_person
from tests.sync.conftest import settle

pytestmark = pytest.mark.django_db

KEYWORD_JOINER = "+12065550161"
SECOND_RECORD = "+12065550162"


def reconcile(*args) -> str:
    out = io.StringIO()
    call_command("vibes_reconcile", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_keyword_joiner_holding_the_crm_number_is_found_and_linked(vibes_sandbox, deals):
    # The CRM knows the number under a key Vibes never had; in Vibes the number texted DEALS.
    person = make_person(mdn=KEYWORD_JOINER, person_key="k-never-in-vibes", source=Source.VIBES)
    vibes_sandbox.control.phone_reply(KEYWORD_JOINER, "DEALS")
    holder = vibes_sandbox.client().find_person_by_mdn(KEYWORD_JOINER)

    preview = reconcile("--dry-run")

    line = next(line for line in preview.splitlines() if line.startswith(person.external_person_id))
    assert "Vibes holds the number" in line and "a person the CRM does not have" in line
    assert "[Vibes is right; --repair would link this person to that Vibes record" in line
    person.refresh_from_db()
    assert person.person_key == "k-never-in-vibes"

    reconcile("--repair")
    person.refresh_from_db()
    assert person.person_key == holder["person_key"]
    # Now compared with that record: its DEALS subscription is taken in.
    reconcile()
    assert person.subscriptions.get().state == SubscriptionState.SUBSCRIBED
    settle()
    assert "1 in agreement" in reconcile("--dry-run")


def test_a_second_vibes_record_of_the_number_is_reported_not_merged(vibes_sandbox, deals):
    person = make_person(first_name="Two")
    settle()  # Vibes now knows the person by external id, without a number.
    vibes_sandbox.control.phone_reply(SECOND_RECORD, "DEALS")  # a second record for it
    services.person_update(person=person, mdn=SECOND_RECORD, source=Source.VIBES)

    output = reconcile()

    lines = [line for line in output.splitlines() if line.startswith(person.external_person_id)]
    assert any(
        "as a second person the CRM does not have" in line
        and "[a person must decide; --repair changes nothing]" in line
        for line in lines
    ), output
    # The CRM's number is not thrown away because the record compared lacks it.
    person.refresh_from_db()
    assert str(person.mdn) == SECOND_RECORD


def test_where_the_number_lookup_is_not_answered_the_list_subscriber_search_finds_them(
    vibes_sandbox, deals
):
    from vibes_integration.sync.number_holders import find_number_holder

    person = make_person(mdn=KEYWORD_JOINER, person_key="k-never-in-vibes", source=Source.VIBES)
    vibes_sandbox.control.phone_reply(KEYWORD_JOINER, "DEALS")
    client = vibes_sandbox.client()
    expected = client.find_person_by_mdn(KEYWORD_JOINER)["person_key"]
    vibes_sandbox.control.set_faults(fail_next=[400])

    holder = find_number_holder(client, person, None, ("1002", "1001"))

    assert holder["person_key"] == expected
    searched = [c["path"] for c in vibes_sandbox.control.calls() if "subscribers" in c["path"]]
    assert len(searched) == 2  # list 1002 answered 404, list 1001 found them
