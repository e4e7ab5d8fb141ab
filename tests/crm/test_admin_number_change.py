"""Staff change a person's confirmed number on the person's page: the same change of
number as the preference page (docs/preferences.md), and the conflict shown to staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import services
from crm.choices import NumberChangeStatus, OptInStatus, Source
from crm.models import NumberChange, OptInRequest
from tests.crm.admin_posts import change_form_data
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db

OLD = "+12015550150"
NEW = "+12015550151"


def _post(admin_client, person, **changes):
    url = reverse("admin:crm_person_change", args=[person.pk])
    data = change_form_data(admin_client.get(url))
    data.update(changes)
    return admin_client.post(url, data, follow=True)


def test_a_new_number_for_a_confirmed_person_is_a_change_of_number(admin_client):
    person = make_person(mdn=OLD)
    deals = make_list(name="Deals", acquisition_campaign_id="AC1")
    _post(admin_client, person, mdn=NEW, opt_in_lists=[str(deals.pk)])
    change = NumberChange.objects.get(person=person)
    assert (change.status, str(change.old_mdn), str(change.new_mdn)) == ("pending", OLD, NEW)
    [request] = OptInRequest.objects.filter(person=person)
    assert request.number_change == change and request.status == OptInStatus.REQUESTED
    person.refresh_from_db()
    assert str(person.mdn) == OLD


def test_staff_see_the_conflicts_of_subscribers_changes(admin_client):
    """A subscriber asked for a number another subscriber holds (the page said only that
    a text was sent): staff find the conflict, with both persons, under Changes of number;
    staff themselves are told at once on the person's page."""
    person = make_person(mdn=OLD, first_name="Ada")
    make_person(mdn=NEW, first_name="Bob", email="bob@example.com")
    deals = make_list(name="Deals", acquisition_campaign_id="AC1")
    services.number_change_request(
        person=person, mdn=NEW, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    listing = admin_client.get(
        reverse("admin:crm_numberchange_changelist"), {"status__exact": "conflict"}
    )
    page = listing.content.decode()
    assert listing.status_code == 200 and "Ada" in page and "Bob" in page
    response = _post(admin_client, person, mdn=NEW, opt_in_lists=[str(deals.pk)])
    errors = response.context["adminform"].form.errors
    assert "already exists" in errors["mdn"][0]
    assert NumberChange.objects.get().status == NumberChangeStatus.CONFLICT
    assert not OptInRequest.objects.exists()
