"""``vibes_reconcile`` finds what Vibes holds that the CRM missed (lost callbacks) and what
Vibes never got, and repairs each without echoing Vibes' own changes back."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from crm import services
from crm.choices import OptInStatus, OptOutReason, Source, SubscriptionState
from tests.fixtures.builders import make_person
from tests.fixtures.callbacks import make_demo_custom_fields
from tests.sync.conftest import settle
from vibes_integration.sync.choices import OperationKind, OperationStatus
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db


def reconcile(*args) -> str:
    out = io.StringIO()
    call_command("vibes_reconcile", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_reconcile_repairs_lost_callbacks_and_reports_the_rest(vibes_sandbox, deals):
    make_demo_custom_fields()
    stopped = make_person(first_name="Stop", mdn="+12015550171", source=Source.IMPORT)
    confirmed = make_person(first_name="Conf")
    renamed = make_person(first_name="Old", custom_fields={"zip_code": "1"})
    unknown = make_person(first_name="Nobody", source=Source.VIBES, person_key="pk-gone")
    calm = make_person(first_name="Calm")
    services.opt_in_request(
        person=confirmed, mdn="+12015550172", subscription_lists=[deals], source=Source.STAFF
    )
    settle()
    # In Vibes: the first texted DEALS then STOP, the second confirmed the opt-in, the
    # third was edited there; none of the callbacks reached us.
    vibes_sandbox.control.phone_reply("+12015550171", "DEALS")
    services.subscription_change(
        person=stopped, subscription_list=deals, state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )  # fmt: skip
    vibes_sandbox.control.phone_reply("+12015550171", "STOP")
    vibes_sandbox.control.phone_reply("+12015550172", "Y")
    client = vibes_sandbox.client()
    client.update_person_by_external_id(
        renamed.external_person_id, {"custom_fields": {"first_name": "New", "zip_code": "2"}}
    )

    preview = reconcile("--dry-run")
    assert "Dry run: nothing was changed." in preview
    assert f"{stopped.external_person_id}: Deals & offers: left in Vibes" in preview
    assert stopped.subscriptions.get().state == SubscriptionState.SUBSCRIBED

    output = reconcile()
    assert f"{stopped.external_person_id}: Deals & offers: left in Vibes" in output
    assert f"{confirmed.external_person_id}: Deals & offers: confirmed in Vibes" in output
    assert f"{renamed.external_person_id}: Fields differ (first_name, zip_code)" in output
    assert f"{unknown.external_person_id}: Vibes does not know this person" in output
    assert calm.external_person_id not in output
    assert "1 in agreement" in output

    stopped_sub = stopped.subscriptions.get()
    assert stopped_sub.state == SubscriptionState.UNSUBSCRIBED
    assert stopped_sub.opt_out_reason in OptOutReason.values  # as Vibes gave it
    assert stopped_sub.opt_out_date is not None
    confirmed.refresh_from_db()
    assert confirmed.subscriptions.get().state == SubscriptionState.SUBSCRIBED
    assert confirmed.opt_in_requests.get().status == OptInStatus.CONFIRMED
    assert str(confirmed.mdn) == "+12015550172"
    renamed.refresh_from_db()
    assert renamed.first_name == "New" and renamed.custom_fields["zip_code"] == "2"
    # Vibes' changes taken into the CRM are not sent back; the unknown person is queued.
    pending = Operation.objects.filter(status=OperationStatus.PENDING)
    assert [(op.kind, op.person_id) for op in pending] == [(OperationKind.PERSON, unknown.pk)]

    settle()
    again = reconcile()
    assert "Compared 5 persons: 5 in agreement, 0 repaired" in again, again
