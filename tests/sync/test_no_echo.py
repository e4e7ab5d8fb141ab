"""What Vibes tells us through callbacks changes the CRM and is never sent back."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from crm import services
from crm.choices import OptInStatus, Source, SubscriptionState
from tests.fixtures.builders import make_person
from tests.fixtures.callbacks import deliver
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db

MDN = "+12015550181"
CALLBACK_TYPES = (
    "ack_participant_added",
    "ack_participant_changed",
    "subscription_added",
    "subscription_removed",
    "person_added",
    "person_updated",
)


def test_changes_that_came_from_callbacks_are_not_echoed(
    vibes_sandbox, callback_receiver, deals, client, open_callbacks
):
    client_api = vibes_sandbox.client()
    for callback_type in CALLBACK_TYPES:
        # Vibes requires a list for subscription callbacks and a campaign for acquisition ones.
        filters = {
            "subscription": {"list_id": deals.list_id},
            "ack": {"campaign_id": deals.acquisition_campaign_id},
        }.get(callback_type.split("_")[0], {})
        client_api.register_callback(callback_type, url=callback_receiver.url, **filters)
    person = make_person(first_name="Ada")
    services.opt_in_request(
        person=person, mdn=MDN, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    settle()
    # The subscriber confirms, is renamed in Vibes, then texts STOP.
    vibes_sandbox.control.phone_reply(MDN, "Y")
    client_api.update_person_by_external_id(
        person.external_person_id, {"custom_fields": {"first_name": "Ada from Vibes"}}
    )
    vibes_sandbox.control.phone_reply(MDN, "STOP")
    vibes_sandbox.control.wait_for_deliveries()
    bodies = callback_receiver.bodies()
    delivered = {body["callback_type"] for body in bodies}
    assert {"ack_participant_changed", "subscription_removed", "person_updated"} <= delivered

    operations_before = Operation.objects.count()
    vibes_sandbox.control.clear_calls()
    for body in bodies:
        deliver(client, body)

    person.refresh_from_db()
    assert person.first_name == "Ada from Vibes"
    assert str(person.mdn) == MDN
    assert person.opt_in_requests.get().status == OptInStatus.CONFIRMED
    assert person.subscriptions.get().state == SubscriptionState.UNSUBSCRIBED
    # The CRM changed, and nothing was queued for Vibes: no outbox row, no sync task.
    assert Operation.objects.count() == operations_before
    assert not DBTaskResult.objects.filter(
        task_path__endswith="process_operations", status="READY"
    ).exists()
    settle()
    echoed = [(c["method"], c["path"], c["body"]) for c in vibes_calls(vibes_sandbox)]
    assert echoed == [], (echoed, list(Operation.objects.values("kind", "source", "status")))
