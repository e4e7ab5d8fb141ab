"""Erasure in Vibes: end every list, then the documented nullification, per company.

Vibes has no DELETE for persons. It documents "nullification": Update Person by
``person_key`` with the number, carrier, every custom field and the external id set to
null. Each target of the erasure request (one per company key) is found by its person key,
or by the number when Vibes never gave the CRM a key there; every active subscription is
ended, then the person is nullified. Every step is harmless to repeat, so a retry after a
failure in the second company simply does the first again. Runs on a sending thread: no
database access, only the ``Plan``.
"""

from __future__ import annotations

from vibes_integration.client import VibesClient
from vibes_integration.errors import NotFound
from vibes_integration.sync.calls import call
from vibes_integration.sync.payloads import JSONDict
from vibes_integration.sync.planning import Plan
from vibes_integration.sync.reports import SendReport


def custom_fields_cleared(fields: object) -> JSONDict:
    """Each of ``fields`` (a Vibes ``custom_fields`` object) set to null."""
    return dict.fromkeys(fields if isinstance(fields, dict) else {}, None)


def nullification_body(person: JSONDict) -> JSONDict:
    """Everything Vibes holds that names the person, set to null."""
    return {
        "external_person_id": None,
        "mobile_phone": {"mdn": None, "carrier_code": None},
        "custom_fields": custom_fields_cleared(person.get("custom_fields")),
    }


def _list_id(subscription: JSONDict) -> str:
    listed = subscription.get("subscription_list") or {}
    return str(listed.get("id") or "") if isinstance(listed, dict) else ""


def send_nullify(client: VibesClient, plan: Plan, outcome: SendReport) -> None:
    """Nullify every target; a failure raises (the sending layer classifies it)."""
    for target in plan.erasure_targets:
        company = client.for_company(str(target.get("company_key") or client.company_key))
        person_key = str(target.get("person_key") or "")
        if person_key:
            try:
                person = call(outcome, "get_person", company.get_person, person_key)
            except NotFound:
                # A key Vibes gave us and no longer knows: nothing left to erase there.
                continue
        else:
            person = call(outcome, "find_person", company.find_person_by_mdn, target.get("mdn"))
            if not person or not person.get("person_key"):
                continue  # Vibes holds no one with this number in that company.
            person_key = str(person["person_key"])
        active = call(
            outcome,
            "list_subscriptions",
            lambda key=person_key, c=company: c.list_subscriptions(key, active_only=True),
        )
        ending = {_list_id(item) for item in active if not item.get("opt_out_date")}
        for list_id in sorted(ending - {""}):
            call(outcome, "unsubscribe", company.unsubscribe, person_key, list_id)
        call(
            outcome, "nullify_person", company.update_person, person_key, nullification_body(person)
        )
