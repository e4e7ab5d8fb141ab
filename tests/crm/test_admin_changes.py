"""What staff save in the admin goes through the services: validated, recorded, announced."""

import pytest
from django.urls import reverse

from crm.choices import ConsentAction, CustomFieldType, Source, SubscriptionState
from crm.models import ConsentEvent, CustomField, Person, Subscription, SubscriptionList
from crm.services import subscription_change
from tests.crm.admin_posts import change_form_data
from tests.fixtures.builders import make_custom_field, make_list, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(db):
    make_custom_field(key="shoe_size", label="Shoe size", field_type=CustomFieldType.NUMBER)
    make_custom_field(key="birthday", label="Birthday", field_type=CustomFieldType.DATE)
    make_custom_field(key="loyal", label="Loyal", field_type=CustomFieldType.BOOLEAN)
    make_custom_field(
        key="interests",
        label="Interests",
        field_type=CustomFieldType.MULTIPLE_CHOICE,
        options=[{"key": "hiking", "label": "Hiking"}, {"key": "paddling", "label": "Paddling"}],
    )


def _change_url(person):
    return reverse("admin:crm_person_change", args=[person.pk])


def test_editing_a_person_goes_through_the_services(admin_client, fields, signal_log):
    person = make_person(first_name="Ada", mdn="+12015550100", custom_fields={"shoe_size": 7})
    signal_log.calls.clear()
    data = change_form_data(admin_client.get(_change_url(person)))
    data.update(
        {
            "first_name": "Augusta",
            "custom__shoe_size": "7.5",
            "custom__birthday": "1815-12-10",
            "custom__loyal": "true",
            "custom__interests": ["hiking", "paddling"],
        }
    )
    response = admin_client.post(_change_url(person), data)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.first_name == "Augusta"
    assert person.custom_fields == {
        "shoe_size": 7.5,
        "birthday": "1815-12-10",
        "loyal": True,
        "interests": ["hiking", "paddling"],
    }
    [call] = signal_log.of("person_changed")
    assert call["source"] == Source.STAFF
    assert call["changed_fields"] == {
        "first_name",
        "custom_fields.shoe_size",
        "custom_fields.birthday",
        "custom_fields.loyal",
        "custom_fields.interests",
    }


def test_clearing_a_custom_field_removes_the_value(admin_client, fields):
    person = make_person(custom_fields={"shoe_size": 7, "loyal": False})
    data = change_form_data(admin_client.get(_change_url(person)))
    data["custom__shoe_size"] = ""
    data["custom__loyal"] = "unknown"
    assert admin_client.post(_change_url(person), data).status_code == 302
    person.refresh_from_db()
    assert person.custom_fields == {}


def test_saving_without_changes_announces_nothing(admin_client, fields, signal_log):
    person = make_person(first_name="Ada", custom_fields={"shoe_size": 7, "birthday": "1990-01-02"})
    signal_log.calls.clear()
    data = change_form_data(admin_client.get(_change_url(person)))
    assert admin_client.post(_change_url(person), data).status_code == 302
    assert signal_log.calls == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"custom__shoe_size": "big"}, "custom__shoe_size"),
        ({"custom__birthday": "someday"}, "custom__birthday"),
        ({"custom__interests": ["golf"]}, "custom__interests"),
        ({"email": "not-an-email"}, "email"),
        ({"mdn": "+1 299 555 1234"}, "mdn"),
        ({"mdn": "(201) 555-0199"}, "mdn"),  # another person's number
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_saved(
    admin_client, fields, signal_log, changes, field
):
    make_person(mdn="+12015550199")
    person = make_person(first_name="Ada", custom_fields={"shoe_size": 7})
    signal_log.calls.clear()
    data = change_form_data(admin_client.get(_change_url(person)))
    data.update({"first_name": "Changed", **changes})
    response = admin_client.post(_change_url(person), data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.first_name == "Ada"
    assert person.custom_fields == {"shoe_size": 7}
    assert signal_log.calls == []


def test_a_required_custom_field_must_be_filled(admin_client, fields):
    make_custom_field(key="zip", label="ZIP", required=True)
    person = make_person()
    data = change_form_data(admin_client.get(_change_url(person)))
    response = admin_client.post(_change_url(person), data)
    assert "custom__zip" in response.context["adminform"].form.errors


def test_adding_a_person_with_a_subscription_asks_the_number_to_confirm(
    admin_client, fields, signal_log
):
    deals = make_list(name="Deals")
    add_url = reverse("admin:crm_person_add")
    data = change_form_data(admin_client.get(add_url))
    data.update(
        {
            "external_person_id": "crm-42",
            "first_name": "Grace",
            "mdn": "(201) 555-0142",
            "custom__shoe_size": "9",
            "subscriptions-TOTAL_FORMS": "1",
            "subscriptions-0-subscription_list": str(deals.pk),
            "subscriptions-0-state": SubscriptionState.SUBSCRIBED,
        }
    )
    response = admin_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = Person.objects.get(external_person_id="crm-42")
    # A number given with a new person is an import of a number the brand knows...
    assert str(person.mdn) == "+12015550142"
    assert person.custom_fields == {"shoe_size": 9}
    # ...but only its owner can subscribe it: the subscription waits for their Y.
    assert person.subscriptions.get().state == SubscriptionState.PENDING
    event = ConsentEvent.objects.get(person=person)
    assert (event.action, event.source, event.reference) == (
        ConsentAction.OPT_IN_REQUESTED,
        Source.STAFF,
        "staff:admin",
    )
    assert [c["created"] for c in signal_log.of("person_changed")] == [True]
    assert signal_log.of("opt_in_requested")[0]["source"] == Source.STAFF
    assert response["Location"] == _change_url(person)


def test_unsubscribing_on_the_person_page_is_recorded(admin_client, signal_log):
    person = make_person(mdn="+12015550100")
    deals = make_list()
    subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    signal_log.calls.clear()
    data = change_form_data(admin_client.get(_change_url(person)))
    data["subscriptions-0-state"] = SubscriptionState.UNSUBSCRIBED
    data["subscriptions-0-opt_out_reason"] = "user_opt_out"
    assert admin_client.post(_change_url(person), data).status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.state == SubscriptionState.UNSUBSCRIBED
    assert subscription.opt_out_reason == "user_opt_out"
    event = ConsentEvent.objects.latest("id")
    assert (event.action, event.source) == (ConsentAction.OPTED_OUT, Source.STAFF)
    assert signal_log.of("subscription_changed")[0]["source"] == Source.STAFF


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subscriptions-0-state": SubscriptionState.PENDING}, "state"),
        ({"subscriptions-0-opt_out_reason": "user_opt_out"}, "opt_out_reason"),
        ({"subscriptions-0-subscription_list": "other"}, "subscription_list"),
    ],
)
def test_subscription_changes_staff_cannot_make(admin_client, changes, field):
    person = make_person(mdn="+12015550100")
    deals, other = make_list(), make_list()
    subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    data = change_form_data(admin_client.get(_change_url(person)))
    data.update({k: str(other.pk) if v == "other" else v for k, v in changes.items()})
    response = admin_client.post(_change_url(person), data)
    assert response.status_code == 200
    formset = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.prefix == "subscriptions"
    )
    assert field in formset.forms[0].errors
    assert Subscription.objects.get().state == SubscriptionState.SUBSCRIBED


def test_persons_cannot_be_deleted_from_the_admin(admin_client):
    person = make_person()
    url = reverse("admin:crm_person_delete", args=[person.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()


def test_stop_all_texts_action(admin_client, signal_log):
    person = make_person(mdn="+12015550100")
    for subscription_list in (make_list(), make_list()):
        subscription_change(
            person=person,
            subscription_list=subscription_list,
            state=SubscriptionState.SUBSCRIBED,
            source=Source.VIBES,
        )
    signal_log.calls.clear()
    response = admin_client.post(
        reverse("admin:crm_person_changelist"),
        {"action": "stop_all_texts", "_selected_action": [person.pk], "post": "yes"},
        follow=True,
    )
    assert "2 subscriptions ended." in response.content.decode()
    assert set(Subscription.objects.values_list("state", flat=True)) == {
        SubscriptionState.UNSUBSCRIBED
    }
    assert {c["source"] for c in signal_log.of("subscription_changed")} == {Source.STAFF}
    assert set(
        ConsentEvent.objects.filter(action=ConsentAction.OPTED_OUT).values_list(
            "reference", flat=True
        )
    ) == {"staff:admin"}


def test_revoke_links_action(admin_client):
    person = make_person()
    old = person.link_secret
    admin_client.post(
        reverse("admin:crm_person_changelist"),
        {"action": "revoke_preference_links", "_selected_action": [person.pk], "post": "yes"},
    )
    person.refresh_from_db()
    assert person.link_secret != old


def test_person_admin_offers_room_for_the_vibes_sync_status(admin_client):
    from crm.admin import PersonAdmin

    person = make_person()
    html = admin_client.get(_change_url(person)).content.decode()
    assert "Vibes sync" in html
    installed = vars(PersonAdmin)["vibes_sync_renderer"]  # the sync app's, if installed
    PersonAdmin.vibes_sync_renderer = lambda shown: f"in sync: {shown.external_person_id}"
    try:
        html = admin_client.get(_change_url(person)).content.decode()
    finally:
        PersonAdmin.vibes_sync_renderer = installed
    assert f"in sync: {person.external_person_id}" in html


def test_subscription_list_admin_saves_through_the_catalogue_service(admin_client):
    add_url = reverse("admin:crm_subscriptionlist_add")
    data = change_form_data(admin_client.get(add_url))
    data.update({"list_id": "3001", "name": "Trail days", "order": "4"})
    assert admin_client.post(add_url, data).status_code == 302
    created = SubscriptionList.objects.get(list_id="3001")
    change_url = reverse("admin:crm_subscriptionlist_change", args=[created.pk])
    data = change_form_data(admin_client.get(change_url))
    data["name"] = "Trail days & hikes"
    assert admin_client.post(change_url, data).status_code == 302
    created.refresh_from_db()
    assert created.name == "Trail days & hikes"
    assert created.list_id == "3001"


def test_custom_field_admin_checks_options(admin_client):
    add_url = reverse("admin:crm_customfield_add")
    data = change_form_data(admin_client.get(add_url))
    data.update(
        {"key": "color", "label": "Color", "field_type": CustomFieldType.CHOICE, "options": "[]"}
    )
    response = admin_client.post(add_url, data)
    assert response.status_code == 200
    assert "options" in response.context["adminform"].form.errors
    data["options"] = '[{"key": "red", "label": "Red"}]'
    assert admin_client.post(add_url, data).status_code == 302
    assert CustomField.objects.get(key="color").option_keys == ["red"]
