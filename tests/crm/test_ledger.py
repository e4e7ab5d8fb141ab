"""The consent ledger is append-only: nothing in the application changes or removes it."""

import pytest
from django.db.models.deletion import ProtectedError
from django.urls import reverse

from crm import services
from crm.choices import ConsentAction, Source
from crm.models import ConsentEvent, LedgerIsAppendOnly
from tests.crm.admin_posts import change_form_data
from tests.fixtures.builders import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def consent_event(person, subscription_list):
    return services.consent_record(
        person=person,
        subscription_list=subscription_list,
        action=ConsentAction.OPTED_IN,
        source=Source.IMPORT,
        consent=services.ConsentContext(reference="import:1"),
    )


def _unchanged(consent_event):
    fresh = ConsentEvent.objects.get(pk=consent_event.pk)
    return fresh.action == ConsentAction.OPTED_IN and fresh.reference == "import:1"


def test_saving_a_recorded_event_again_is_refused(consent_event):
    consent_event.reference = "edited"
    with pytest.raises(LedgerIsAppendOnly):
        consent_event.save()
    assert _unchanged(consent_event)


def test_deleting_an_event_is_refused(consent_event):
    with pytest.raises(LedgerIsAppendOnly):
        consent_event.delete()
    assert _unchanged(consent_event)


def test_queryset_update_and_delete_are_refused(consent_event):
    with pytest.raises(LedgerIsAppendOnly):
        ConsentEvent.objects.filter(pk=consent_event.pk).update(reference="edited")
    with pytest.raises(LedgerIsAppendOnly):
        ConsentEvent.objects.all().delete()
    with pytest.raises(LedgerIsAppendOnly):
        consent_event.person.consent_events.update(action=ConsentAction.OPTED_OUT)
    with pytest.raises(LedgerIsAppendOnly):
        ConsentEvent.objects.bulk_update([consent_event], ["reference"])
    assert _unchanged(consent_event)


def test_a_person_with_consent_history_cannot_be_deleted(consent_event):
    with pytest.raises(ProtectedError):
        consent_event.person.delete()
    with pytest.raises(ProtectedError):
        consent_event.subscription_list.delete()
    assert _unchanged(consent_event)


def test_the_admin_offers_no_way_to_change_the_ledger(admin_client, consent_event):
    change_url = reverse("admin:crm_consentevent_change", args=[consent_event.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # view only
    assert admin_client.post(change_url, {"reference": "edited"}).status_code == 403
    assert admin_client.get(reverse("admin:crm_consentevent_add")).status_code == 403
    delete_url = reverse("admin:crm_consentevent_delete", args=[consent_event.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = admin_client.post(
        reverse("admin:crm_consentevent_changelist"),
        {"action": "delete_selected", "_selected_action": [consent_event.pk], "post": "yes"},
    )
    assert changelist.status_code in {200, 302}
    assert _unchanged(consent_event)


def test_the_person_page_shows_consent_history_read_only(admin_client, consent_event):
    page = admin_client.get(reverse("admin:crm_person_change", args=[consent_event.person.pk]))
    html = page.content.decode()
    assert "consent history (read-only)" in html.lower()
    assert "import:1" in html
    assert 'name="consent_events-0-reference"' not in html
    assert 'name="consent_events-TOTAL_FORMS"' in html  # the inline is there, without inputs


def test_an_admin_post_cannot_smuggle_a_consent_event_in(admin_client):
    person = make_person()
    url = reverse("admin:crm_person_change", args=[person.pk])
    data = change_form_data(admin_client.get(url))
    data["consent_events-TOTAL_FORMS"] = "1"
    data["consent_events-0-action"] = ConsentAction.OPTED_IN
    data["consent_events-0-reference"] = "forged"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert not ConsentEvent.objects.filter(reference="forged").exists()
