"""Vibes' side of a completed change of number (docs/preferences.md, "Changing a number").

The new number confirmed on a Vibes person of its own (Vibes cannot give a person with a
number another one). What is left, in this order, each step harmless to repeat:

1. end every list the old number was on (DELETE by the old person's key; 404 is done,
   the key being one Vibes gave us);
2. remove the old number, unlink the CRM's external id and clear the fields the sync
   wrote on the old person (Update Person by key: ``"mdn": null``,
   ``"external_person_id": null``, each synced custom field null), so that no copy of
   the subscriber's details stays on a record nobody is linked to any more;
3. link the CRM's external id and the person's fields to the new number's person
   (Update Person by key).

The old person is found by the key recorded when the change was asked, or else by the
old number (never by external id, which step 3 moves to the new person).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from vibes_integration.client import VibesClient
from vibes_integration.errors import NotFound
from vibes_integration.sync.nullify import custom_fields_cleared
from vibes_integration.sync.payloads import JSONDict, vibes_person_key
from vibes_integration.sync.planning import Plan
from vibes_integration.sync.reports import Result, SendReport


def send_number_change(
    client: VibesClient, plan: Plan, outcome: SendReport, call: Callable[..., Any]
) -> None:
    old_key = plan.old_person_key
    if not old_key and plan.old_mdn:
        old_key = vibes_person_key(
            call(outcome, "find_person", client.find_person_by_mdn, plan.old_mdn)
        )
    new_key = plan.new_person_key or plan.person_key
    if not new_key and plan.crm_mdn:
        new_key = vibes_person_key(
            call(outcome, "find_person", client.find_person_by_mdn, plan.crm_mdn)
        )
    if old_key and old_key != new_key:
        for list_id in plan.old_list_ids:
            call(outcome, "unsubscribe", client.unsubscribe, old_key, list_id)
        # A 404: the old person is gone, so nothing of the old number is left.
        with contextlib.suppress(NotFound):
            call(
                outcome,
                "update_person",
                client.update_person,
                old_key,
                _old_person_cleared(plan.update_payload),
            )
    if not new_key:
        outcome.result = Result.FAILED
        outcome.error = _(
            "Vibes holds no person for the new number yet; retry when its confirmation has arrived."
        )
        return
    call(outcome, "update_person", client.update_person, new_key, plan.update_payload or {})


def _old_person_cleared(update_payload: JSONDict | None) -> JSONDict:
    """What the old person keeps of the subscriber: nothing the sync wrote there."""
    return {
        "external_person_id": None,
        "mobile_phone": {"mdn": None},
        "custom_fields": custom_fields_cleared((update_payload or {}).get("custom_fields")),
    }
