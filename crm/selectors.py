"""Reads of the CRM's data for the preference center, the callbacks, the sync and the admin.

Every lookup here uses an index (unique columns, or the search indexes of migration 0002),
so that it stays fast with a million persons. Nothing here writes: changes go through
``crm.services``.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm.choices import OptInStatus, SubscriptionState
from crm.models import (
    ConsentEvent,
    CustomField,
    OptInRequest,
    Person,
    Subscription,
    SubscriptionList,
)
from crm.phone import try_parse_mdn


def person_find_by_mdn(raw: object) -> Person | None:
    """The person whose confirmed number is ``raw`` in any common format, or None.

    "(201) 555-0123", "201.555.0123", "+1 201 555 0123" and "2015550123" all find the
    person stored as +12015550123. Parsing is lenient (possible, not necessarily valid,
    numbers) because a search must find whatever was stored.
    """
    mdn = try_parse_mdn(raw)
    if mdn is None:
        return None
    return Person.objects.filter(mdn=mdn).first()


def person_get_by_external_id(external_person_id: str) -> Person | None:
    value = str(external_person_id or "").strip()
    if not value:
        return None
    return Person.objects.filter(external_person_id=value).first()


def person_get_by_person_key(person_key: str) -> Person | None:
    value = str(person_key or "").strip()
    if not value:
        return None
    return Person.objects.filter(person_key=value).first()


def person_get_by_vibes_person_id(vibes_person_id: str) -> Person | None:
    """The person Vibes' deprecated numeric id names (never a person key)."""
    value = str(vibes_person_id or "").strip()
    if not value:
        return None
    return Person.objects.filter(vibes_person_id=value).first()


def person_search(term: str, queryset: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """Persons matching what a staff member typed: a number in any common format, an
    external id, a Vibes person key or person id, an email address or the start of a name.

    Every branch is an exact or prefix match on an indexed column; a substring search
    ("contains") would read the whole table.
    """
    queryset = Person.objects.all() if queryset is None else queryset
    term = " ".join(str(term or "").split())
    if not term:
        return queryset
    condition = Q(external_person_id=term) | Q(person_key=term) | Q(vibes_person_id=term)
    mdn = try_parse_mdn(term)
    if mdn is not None:
        condition |= Q(mdn=mdn)
    if "@" in term:
        condition |= Q(email__iexact=term)
    else:
        words = term.split(" ")
        if len(words) == 1:
            condition |= Q(first_name__istartswith=term) | Q(last_name__istartswith=term)
        else:
            first, rest = words[0], " ".join(words[1:])
            condition |= Q(first_name__istartswith=first, last_name__istartswith=rest)
            condition |= Q(last_name__istartswith=term)
    return queryset.filter(condition)


def preference_lists() -> QuerySet[SubscriptionList]:
    """The lists a subscriber sees in the preference center, in display order."""
    return SubscriptionList.objects.filter(shown_in_preference_center=True).order_by(
        "order", "name"
    )


def all_subscription_lists() -> QuerySet[SubscriptionList]:
    return SubscriptionList.objects.order_by("order", "name")


def custom_field_definitions() -> dict[str, CustomField]:
    """Every custom field by key (for validation and for the sync's payloads)."""
    return {custom_field.key: custom_field for custom_field in CustomField.objects.all()}


def subscriber_custom_fields() -> QuerySet[CustomField]:
    """The custom fields a subscriber sees in the preference center, in display order."""
    return CustomField.objects.filter(visible_to_subscribers=True).order_by("order", "key")


def person_subscriptions(person: Person) -> QuerySet[Subscription]:
    return Subscription.objects.filter(person=person).select_related("subscription_list")


def person_subscription_states(person: Person) -> dict[int, str]:
    """``{subscription_list.pk: state}`` for every list the person has a subscription row
    for; a list missing from the dict has never been joined (not subscribed)."""
    return dict(
        Subscription.objects.filter(person=person).values_list("subscription_list_id", "state")
    )


def person_subscribed_list_ids(person: Person) -> set[int]:
    return {
        pk
        for pk, state in person_subscription_states(person).items()
        if state == SubscriptionState.SUBSCRIBED
    }


def person_open_opt_in_requests(person: Person) -> QuerySet[OptInRequest]:
    """Web opt-ins still waiting: requested, or sent and waiting for the subscriber."""
    return OptInRequest.objects.filter(
        person=person, status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING]
    ).select_related("subscription_list")


def person_consent_history(person: Person) -> QuerySet[ConsentEvent]:
    """The person's consent ledger, newest first."""
    return (
        ConsentEvent.objects.filter(person=person)
        .select_related("subscription_list")
        .order_by("-occurred_at", "-id")
    )
