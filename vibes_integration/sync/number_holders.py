"""Persons Vibes holds and the CRM does not, found by the CRM's numbers.

Vibes cannot list its persons, so a person who exists only there (someone who texted a
keyword while every callback was lost, or a second record made for the same number) can
only be found through something the CRM knows: its numbers. When the Vibes person compared
with a CRM person does not hold that person's number (or there is none), the number is
looked up (``GET /mobiledb/persons?mdn=``; where that lookup is not answered, the Search
for subscriber of each CRM list). A holder that is not the compared person is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from crm import services
from crm.choices import Source
from crm.models import Person
from crm.phone import mask_mdn
from vibes_integration.client import VibesClient
from vibes_integration.errors import NotFound, Retryable, VibesError
from vibes_integration.sync.payloads import vibes_mdn, vibes_person_key
from vibes_integration.sync.repairs import A_PERSON_DECIDES, VIBES_IS_RIGHT, Repair


def find_number_holder(
    client: VibesClient,
    person: Person,
    remote_person: dict[str, Any] | None,
    list_ids: Iterable[str] = (),
) -> dict[str, Any] | None:
    """Runs on a sending thread (no database): the Vibes person holding the CRM person's
    number when that is not ``remote_person``, else None."""
    if not person.mdn:
        return None
    number = str(person.mdn)
    if remote_person is not None and vibes_mdn(remote_person) == number:
        return None
    try:
        holder = client.find_person_by_mdn(number)
    except Retryable:
        raise
    except NotFound:
        holder = None
    except VibesError:
        holder = _search_lists(client, number, list_ids)
    if holder is None:
        return None
    if remote_person is not None and vibes_person_key(holder) == vibes_person_key(remote_person):
        return None
    return holder


def _search_lists(client: VibesClient, number: str, list_ids: Iterable[str]) -> dict | None:
    for list_id in list_ids:
        holder = client.search_subscriber(list_id, mdn=number)
        if holder is not None:
            return holder
    return None


def number_holder_repairs(
    person: Person, remote_person: dict[str, Any] | None, holder: dict[str, Any]
):
    """What to say (and do) about ``holder``, a Vibes person with the CRM person's number."""
    key = vibes_person_key(holder) or ""
    external = holder.get("external_person_id") or ""
    shown = {
        "number": mask_mdn(str(person.mdn)),
        "key": key or "-",
        "external": external or _("none"),
    }
    other = Person.objects.filter(person_key=key).exclude(pk=person.pk).first() if key else None
    if other is None and external:
        other = Person.objects.filter(external_person_id=external).exclude(pk=person.pk).first()
    if other is not None:
        shown["other"] = other.external_person_id
        return [
            Repair(
                _(
                    "Vibes holds the number %(number)s as %(other)s's record (key %(key)s), "
                    "not this person's"
                )
                % shown,
                right=A_PERSON_DECIDES,
            )
        ]
    if remote_person is None and key and external in ("", person.external_person_id):
        return [
            Repair(
                _(
                    "Vibes holds the number %(number)s as a person the CRM does not have "
                    "(key %(key)s, external id %(external)s)"
                )
                % shown,
                lambda: services.person_update(person=person, person_key=key, source=Source.VIBES),
                right=VIBES_IS_RIGHT,
                action=_("link this person to that Vibes record by its key"),
            )
        ]
    return [
        Repair(
            _(
                "Vibes holds the number %(number)s as a second person the CRM does not have "
                "(key %(key)s, external id %(external)s)"
            )
            % shown,
            right=A_PERSON_DECIDES,
        )
    ]
