"""The calls that name a person in Vibes: Update Person, Add Person, DELETE subscription.

Vibes always knows a person by ``person_key``, and by the CRM's external id only once
the CRM has given it to Vibes: someone who joined by keyword or on a Vibes landing page
has none there, and every call by an external id Vibes does not know answers 404. So a
person is named by external id when Vibes has confirmed it holds it
(``Person.external_id_in_vibes``), by person key otherwise; with neither, Vibes is asked
(by external id, then by number) before a person is created or a leave counts as done.
Update Person by key carries the CRM's external id, which is how Vibes learns it.

Answers are read as Vibes documents them: any 2xx of Update or Add Person is success,
whatever its body (ours echoed, the stored person, or none). The number conflicts only
through a 409, or through reading the person after the CRM's number changed. The key of
a person Vibes just created comes from Add Person's body when there is one, otherwise
from a read by external id (or by number).

Runs on a sending thread: no database access, only the ``Plan`` and the client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from crm.phone import mask_mdn
from vibes_integration.client import VibesClient
from vibes_integration.errors import NotFound
from vibes_integration.sync.calls import call
from vibes_integration.sync.payloads import vibes_mdn, vibes_person_key
from vibes_integration.sync.planning import Plan
from vibes_integration.sync.reports import Result, SendReport


def send_person(client: VibesClient, plan: Plan, outcome: SendReport) -> None:
    """Update the person by the identifier Vibes knows; add them when Vibes has none."""
    if plan.external_id_in_vibes and _update(
        outcome, client.update_person_by_external_id, plan.external_person_id, plan
    ):
        outcome.external_id_confirmed = plan.external_person_id
        _check_number(client, plan, outcome)
        return
    if plan.person_key and _update(outcome, client.update_person, plan.person_key, plan):
        # The body carried the CRM's external id: Vibes holds it from now on.
        outcome.external_id_confirmed = plan.external_person_id
        _check_number(client, plan, outcome)
        return
    if not plan.external_id_in_vibes:
        remote = read(
            outcome, "get_person", client.get_person_by_external_id, plan.external_person_id
        )
        person_key = vibes_person_key(remote)
        if person_key:
            # Added before (an answer that was lost): update, never add twice.
            outcome.person_key = person_key
            outcome.external_id_confirmed = plan.external_person_id
            call(outcome, "update_person", client.update_person, person_key, plan.update_payload)
            _check_number(client, plan, outcome)
            return
    added = call(outcome, "add_person", client.add_person, plan.add_payload)
    outcome.person_created = added.created
    outcome.external_id_confirmed = plan.external_person_id
    outcome.person_key = vibes_person_key(added.person)
    if not outcome.person_key:
        _learn_key(client, plan, outcome)


def send_unsubscribe(client: VibesClient, plan: Plan, outcome: SendReport) -> None:
    """DELETE the subscription by an identifier Vibes knows; a 404 then means done.

    A person named by neither a confirmed external id nor a key is looked up first: a
    404 by an external id Vibes may not know proves nothing. A 404 by an external id Vibes
    held is checked too (by key, or by reading the person), since Vibes' record may have
    lost it since.
    """
    if plan.external_id_in_vibes:
        if call(
            outcome,
            "unsubscribe",
            client.unsubscribe_by_external_id,
            plan.external_person_id,
            plan.list_id,
        ):
            return
        # 404: not subscribed, or Vibes no longer holds the id. The key settles it.
        if not plan.person_key:
            remote = read(
                outcome, "get_person", client.get_person_by_external_id, plan.external_person_id
            )
            if remote is not None:
                outcome.person_key = vibes_person_key(remote)
                return  # Vibes holds the id: its 404 meant "not subscribed"
    person_key = plan.person_key or _find_key(
        client, plan, outcome, by_external_id=not plan.external_id_in_vibes
    )
    if outcome.result != Result.DONE:
        return
    if person_key:
        call(outcome, "unsubscribe", client.unsubscribe, person_key, plan.list_id)
        return
    if plan.vibes_person_id:
        outcome.result = Result.RETRY
        outcome.error = _(
            "Vibes knows this person only by its old person id %(id)s: the leave waits "
            "until a callback or vibes_reconcile gives the CRM their person key."
        ) % {"id": plan.vibes_person_id}
        return
    outcome.error = _(
        "Vibes knows no person by this external id or number: nothing to take off the list."
    )


def read(
    outcome: SendReport, action: str, function: Callable[..., Any], *args: Any
) -> Mapping[str, Any] | None:
    """A person read from Vibes, or None when Vibes does not know that identifier."""
    try:
        found = call(outcome, action, function, *args)
    except NotFound:
        return None
    return found or None


def _update(outcome: SendReport, function: Callable[..., Any], identifier: str, plan: Plan) -> bool:
    """Update Person; True on any 2xx (its body is not read), False on 404."""
    try:
        call(outcome, "update_person", function, identifier, plan.update_payload)
    except NotFound:
        return False
    return True


def _find_key(
    client: VibesClient, plan: Plan, outcome: SendReport, *, by_external_id: bool = True
) -> str | None:
    """The person key of a person the CRM cannot name yet: by external id, then number."""
    remote = None
    if by_external_id:
        remote = read(
            outcome, "get_person", client.get_person_by_external_id, plan.external_person_id
        )
    if remote is not None:
        outcome.external_id_confirmed = plan.external_person_id
    elif plan.crm_mdn:
        remote = read(outcome, "find_person", client.find_person_by_mdn, plan.crm_mdn)
        # A number is a weak identity: a record that names another CRM id is not theirs.
        other = (remote or {}).get("external_person_id")
        if other and other != plan.external_person_id:
            outcome.result = Result.FAILED
            outcome.error = _(
                "Vibes holds this person's number on a record with another external id "
                "(%(other)s): nothing was sent; staff must check who is subscribed."
            ) % {"other": other}
            return None
    outcome.person_key = vibes_person_key(remote)
    return outcome.person_key


def _learn_key(client: VibesClient, plan: Plan, outcome: SendReport) -> None:
    """Read the key Vibes gave (Add Person may answer 201 with no body)."""
    remote = read(outcome, "get_person", client.get_person_by_external_id, plan.external_person_id)
    if remote is None and plan.crm_mdn:
        remote = read(outcome, "find_person", client.find_person_by_mdn, plan.crm_mdn)
    outcome.person_key = vibes_person_key(remote)


def _check_number(client: VibesClient, plan: Plan, outcome: SendReport) -> None:
    """After the CRM's number changed, read which number Vibes holds: Update Person never
    carries a new number, so a different one there is a conflict staff must see."""
    if not (plan.check_mdn and plan.crm_mdn):
        return
    person_key = outcome.person_key or plan.person_key
    if person_key:
        remote = read(outcome, "get_person", client.get_person, person_key)
    else:
        remote = read(
            outcome, "get_person", client.get_person_by_external_id, plan.external_person_id
        )
    if remote is None:
        return
    outcome.person_key = outcome.person_key or vibes_person_key(remote)
    held = vibes_mdn(remote)
    if held != plan.crm_mdn:
        outcome.result = Result.CONFLICT
        outcome.error = _(
            "Vibes holds %(vibes)s for this person but the CRM holds %(crm)s. Vibes cannot "
            "change a number: the CRM's number must join through the web opt-in."
        ) % {"vibes": mask_mdn(held) or _("no number"), "crm": mask_mdn(plan.crm_mdn)}
