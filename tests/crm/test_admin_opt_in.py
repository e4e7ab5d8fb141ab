"""Staff cannot give consent for a subscriber: a new number and a "subscribed" are asked.

A number entered on a person's page and a subscription set to "subscribed" start Vibes'
web double opt-in (Add Participant through the outbound sync); the number becomes the
person's, and the list theirs, only when the owner replies Y.
"""

import pytest
from django.urls import reverse

from crm import signals
from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import ConsentEvent, OptInRequest, Person, Subscription
from crm.phone import mask_mdn
from crm.services import opt_in_request, person_create, subscription_change
from tests.crm.admin_posts import change_form_data
from tests.fixtures.builders import make_list, make_person
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db

OLD = "+12015550100"
NEW = "+12015550177"


def _change_url(person):
    return reverse("admin:crm_person_change", args=[person.pk])


def _post(admin_client, person, **changes):
    data = change_form_data(admin_client.get(_change_url(person)))
    data.update(changes)
    return admin_client.post(_change_url(person), data)


def _subscription_row_errors(response):
    formset = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.prefix == "subscriptions"
    )
    return formset.forms[0].errors


def _new_subscription_row(subscription_list, state=SubscriptionState.SUBSCRIBED):
    return {
        "subscriptions-TOTAL_FORMS": "1",
        "subscriptions-0-subscription_list": str(subscription_list.pk),
        "subscriptions-0-state": state,
    }


def test_a_new_number_is_asked_to_confirm_each_chosen_list(admin_client, signal_log):
    person = make_person(first_name="Ada", mdn=OLD)
    deals, news = make_list(name="Deals"), make_list(name="News")
    make_list(name="Events")
    signal_log.calls.clear()

    response = _post(
        admin_client,
        person,
        first_name="Augusta",
        mdn="(201) 555-0177",
        opt_in_lists=[str(deals.pk), str(news.pk)],
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert response["Location"] == _change_url(person)
    person.refresh_from_db()
    assert person.first_name == "Augusta"
    assert str(person.mdn) == OLD  # theirs only when Vibes reports the Y
    requests = OptInRequest.objects.filter(person=person).order_by("subscription_list__name")
    assert [(r.subscription_list, str(r.mdn), r.status, r.source) for r in requests] == [
        (deals, NEW, OptInStatus.REQUESTED, Source.STAFF),
        (news, NEW, OptInStatus.REQUESTED, Source.STAFF),
    ]
    assert set(Subscription.objects.filter(person=person).values_list("state", flat=True)) == {
        SubscriptionState.PENDING
    }
    events = ConsentEvent.objects.filter(person=person).order_by("subscription_list__name")
    assert [
        (e.subscription_list, e.action, e.source, e.mdn, e.disclosure_text, e.reference)
        for e in events
    ] == [
        (deals, ConsentAction.OPT_IN_REQUESTED, Source.STAFF, NEW, deals.disclosure, "staff:admin"),
        (news, ConsentAction.OPT_IN_REQUESTED, Source.STAFF, NEW, news.disclosure, "staff:admin"),
    ]
    [changed] = signal_log.of("person_changed")
    assert changed["changed_fields"] == {"first_name"}

    page = admin_client.get(response["Location"]).content.decode()
    assert (
        f"A confirmation text goes to {mask_mdn(NEW)}; the number becomes theirs when they reply Y."
    ) in page
    assert page.count(NEW) >= 2  # the two open opt-in requests on the page


def test_the_sync_is_given_an_add_participant_for_each_list(admin_client):
    person = make_person(mdn=OLD)
    deals, news = make_list(), make_list()
    Operation.objects.all().delete()

    response = _post(admin_client, person, mdn=NEW, opt_in_lists=[str(deals.pk), str(news.pk)])

    assert response.status_code == 302
    operations = Operation.objects.filter(person=person)
    assert sorted(
        (o.kind, o.subscription_list_id, str(o.opt_in_request.mdn), o.status, o.source)
        for o in operations
    ) == sorted(
        (OperationKind.OPT_IN, sl.pk, NEW, OperationStatus.PENDING, Source.STAFF)
        for sl in (deals, news)
    )
    assert {o.opt_in_request for o in operations} == set(OptInRequest.objects.all())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mdn": NEW}, "opt_in_lists"),  # a new number without lists to confirm it for
        ({"mdn": NEW, "opt_in_lists": "no-campaign"}, "opt_in_lists"),
        ({"mdn": "+1 299 555 1234", "opt_in_lists": "deals"}, "mdn"),
        ({"mdn": "(201) 555-0199", "opt_in_lists": "deals"}, "mdn"),  # another person's
        ({"mdn": "", "opt_in_lists": "deals"}, "opt_in_lists"),  # no number to text
    ],
)
def test_a_number_change_that_cannot_be_asked_is_refused_and_nothing_is_written(
    admin_client, signal_log, changes, field
):
    make_person(mdn="+12015550199")
    person = make_person(first_name="Ada", mdn=OLD)
    lists = {"deals": make_list(name="Deals"), "no-campaign": make_list(acquisition_campaign_id="")}
    signal_log.calls.clear()
    operations = Operation.objects.count()
    if "opt_in_lists" in changes:
        changes["opt_in_lists"] = [str(lists[changes["opt_in_lists"]].pk)]

    response = _post(admin_client, person, first_name="Changed", **changes)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    person.refresh_from_db()
    assert (person.first_name, str(person.mdn)) == ("Ada", OLD)
    assert not OptInRequest.objects.exists()
    assert not Subscription.objects.exists()
    assert signal_log.calls == []
    assert Operation.objects.count() == operations


def test_a_list_without_campaign_is_named_in_the_error(admin_client):
    person = make_person(mdn=OLD)
    quiet = make_list(name="Quiet list", acquisition_campaign_id="")
    response = _post(admin_client, person, mdn=NEW, opt_in_lists=[str(quiet.pk)])
    [message] = response.context["adminform"].form.errors["opt_in_lists"]
    assert "Quiet list" in message


def test_a_refusal_at_save_rolls_everything_back_and_keeps_the_input(admin_client):
    """A number another person took between the form's checks and the save (simulated
    by a receiver that gives it away inside the save) is refused by the service: the
    whole save is undone and the page shows the reason next to the number."""
    person = make_person(first_name="Ada", mdn=OLD)
    deals = make_list()

    def take_the_number(sender, person, source, **kwargs):
        if person.first_name == "Changed":
            person_create(external_person_id="meanwhile", mdn=NEW, source=Source.IMPORT)

    signals.person_changed.connect(take_the_number, weak=False, dispatch_uid="test-take")
    try:
        response = _post(
            admin_client, person, first_name="Changed", mdn=NEW, opt_in_lists=[str(deals.pk)]
        )
    finally:
        signals.person_changed.disconnect(dispatch_uid="test-take")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["mdn"] == ["This number belongs to another subscriber."]
    assert form["first_name"].value() == "Changed"  # the input is still there
    person.refresh_from_db()
    assert (person.first_name, str(person.mdn)) == ("Ada", OLD)
    assert not Person.objects.filter(external_person_id="meanwhile").exists()
    assert not OptInRequest.objects.exists()
    assert not Operation.objects.filter(kind=OperationKind.OPT_IN).exists()


def test_lists_chosen_with_the_same_number_ask_that_number(admin_client):
    person = make_person(mdn=OLD)
    deals = make_list(name="Deals")
    response = _post(admin_client, person, opt_in_lists=[str(deals.pk)], _continue="1")
    assert response.status_code == 302
    request = OptInRequest.objects.get()
    assert (str(request.mdn), request.subscription_list) == (OLD, deals)
    page = admin_client.get(response["Location"]).content.decode()
    assert f"A confirmation text goes to {mask_mdn(OLD)} for Deals" in page


def test_clearing_the_number_removes_it_at_once(admin_client):
    person = make_person(mdn=OLD)
    Operation.objects.all().delete()
    assert _post(admin_client, person, mdn="").status_code == 302
    person.refresh_from_db()
    assert person.mdn is None
    operation = Operation.objects.get(person=person)
    assert (operation.kind, operation.remove_mdn) == (OperationKind.PERSON, True)


def test_a_new_person_with_lists_is_asked_to_confirm_them(admin_client):
    deals = make_list(name="Deals")
    add_url = reverse("admin:crm_person_add")
    data = change_form_data(admin_client.get(add_url))
    data.update(
        {"external_person_id": "crm-7", "mdn": "(201) 555-0177", "opt_in_lists": [str(deals.pk)]}
    )
    response = admin_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = Person.objects.get(external_person_id="crm-7")
    assert str(person.mdn) == NEW
    assert person.subscriptions.get().state == SubscriptionState.PENDING
    assert OptInRequest.objects.get(person=person).subscription_list == deals


def test_subscribed_on_a_row_asks_the_confirmed_number(admin_client, signal_log):
    person = make_person(mdn=OLD)
    deals = make_list(name="Deals")
    signal_log.calls.clear()

    response = _post(admin_client, person, **_new_subscription_row(deals))

    assert response.status_code == 302, _subscription_row_errors(response)
    subscription = Subscription.objects.get(person=person)
    assert subscription.state == SubscriptionState.PENDING
    request = OptInRequest.objects.get(person=person)
    assert (str(request.mdn), request.subscription_list, request.source) == (
        OLD,
        deals,
        Source.STAFF,
    )
    actions = list(ConsentEvent.objects.values_list("action", "reference"))
    assert actions == [(ConsentAction.OPT_IN_REQUESTED, "staff:admin")]
    assert not ConsentEvent.objects.filter(action=ConsentAction.OPTED_IN).exists()
    assert Operation.objects.filter(kind=OperationKind.OPT_IN, opt_in_request=request).exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert f"A confirmation text goes to {mask_mdn(OLD)} for Deals" in page


def test_subscribed_on_a_row_without_a_number_asks_for_one(admin_client):
    person = make_person()
    deals = make_list()
    response = _post(admin_client, person, **_new_subscription_row(deals))
    assert response.status_code == 200
    [message] = _subscription_row_errors(response)["state"]
    assert message.startswith("Add a mobile number first")
    assert not Subscription.objects.exists()
    assert not OptInRequest.objects.exists()


def test_subscribed_on_a_row_of_a_list_without_campaign_is_refused(admin_client):
    person = make_person(mdn=OLD)
    quiet = make_list(name="Quiet", acquisition_campaign_id="")
    response = _post(admin_client, person, **_new_subscription_row(quiet))
    assert response.status_code == 200
    assert "Quiet" in _subscription_row_errors(response)["state"][0]
    assert not OptInRequest.objects.exists()


def test_not_subscribed_on_a_pending_row_withdraws_the_opt_in(admin_client):
    person = make_person(mdn=OLD)
    deals = make_list()
    [request] = opt_in_request(
        person=person, mdn=OLD, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    data = {"subscriptions-0-state": SubscriptionState.UNSUBSCRIBED}
    assert _post(admin_client, person, **data).status_code == 302
    request.refresh_from_db()
    assert request.status == OptInStatus.EXPIRED
    assert Subscription.objects.get().state == SubscriptionState.UNSUBSCRIBED


def test_a_subscribed_row_left_as_it_is_changes_nothing(admin_client, signal_log):
    person = make_person(mdn=OLD)
    subscription_change(
        person=person,
        subscription_list=make_list(),
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    signal_log.calls.clear()
    assert _post(admin_client, person).status_code == 302
    assert signal_log.calls == []
    assert not OptInRequest.objects.exists()
