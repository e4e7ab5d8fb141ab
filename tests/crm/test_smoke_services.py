from crm import services
from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import ConsentEvent
from tests.fixtures.builders import make_person


def test_web_opt_in_then_confirm_subscribes_and_records_consent(person, subscription_list):
    [request] = services.opt_in_request(
        person=person,
        mdn="(201) 555-0123",
        subscription_lists=[subscription_list],
        source=Source.PREFERENCE_CENTER,
    )
    assert str(request.mdn) == "+12015550123"
    subscription = person.subscriptions.get()
    assert subscription.state == SubscriptionState.PENDING

    services.opt_in_request_update(
        opt_in_request=request, status=OptInStatus.CONFIRMED, source=Source.VIBES, person_key="pk-1"
    )
    person.refresh_from_db()
    assert str(person.mdn) == "+12015550123"
    assert person.person_key == "pk-1"
    assert person.subscriptions.get().state == SubscriptionState.SUBSCRIBED
    actions = list(
        ConsentEvent.objects.filter(person=person).order_by("id").values_list("action", flat=True)
    )
    assert actions == [ConsentAction.OPT_IN_REQUESTED, ConsentAction.OPTED_IN]
    first = ConsentEvent.objects.order_by("id").first()
    assert first.disclosure_text == subscription_list.disclosure


def test_person_update_without_change_sends_nothing(db):
    person = make_person(first_name="A")
    change = services.person_update(person=person, source=Source.STAFF, first_name="A")
    assert change.changed_fields == frozenset()
