"""Reads of the CRM's data for the preference center, the callbacks, the sync and the admin.

Every lookup here uses an index (unique columns, or the search indexes of the migrations
0002 and ``person_partial_search_indexes``), so that it stays fast with a million persons.
Nothing here writes: changes go through ``crm.services``.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from crm.choices import NumberChangeStatus
from crm.models import (
    CustomField,
    NumberChange,
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


#: Typed characters that may separate the digits of a number ("555-0123", "(201) 555 0123").
_NUMBER_PUNCTUATION = str.maketrans("", "", " -.()/+")

#: The fewest digits that search the end of numbers: fewer would match a large share of
#: every table.
NUMBER_SUFFIX_MIN_DIGITS = 4

#: The shortest term searched anywhere inside names and emails. PostgreSQL's trigram
#: indexes (migration ``person_partial_search_indexes``) answer a pattern of three or more
#: characters; a shorter one would read the whole table, so it only matches the start of a
#: name or email.
PART_MIN_LENGTH = 3


#: Newest first, for search results: an expression rather than the column, so that the
#: database finds the matches through the search indexes and sorts them, instead of reading
#: the primary key backwards in the hope of meeting a page of matches early.
PERSON_SEARCH_ORDERING = (F("id") + 0).desc()


def number_suffix(term: str) -> str | None:
    """The digits of ``term`` when it is the end of a number ("0123", "555-0123"), else None."""
    digits = term.translate(_NUMBER_PUNCTUATION)
    if len(digits) >= NUMBER_SUFFIX_MIN_DIGITS and digits.isascii() and digits.isdigit():
        return digits
    return None


def _text_part(column: str, value: str) -> Q:
    """``value`` anywhere in ``column`` when long enough for the trigram index, else at its
    start (the prefix indexes of migration 0002)."""
    lookup = "icontains" if len(value) >= PART_MIN_LENGTH else "istartswith"
    return Q(**{f"{column}__{lookup}": value})


def person_search(term: str, queryset: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """Persons matching what a staff member typed: a number in any common format or its last
    four or more digits, an external id, a Vibes person key, or any part of an email or name.

    Every branch uses an index: exact matches on unique columns, and on PostgreSQL trigram
    indexes for the parts of numbers, names and emails (migration
    ``person_partial_search_indexes``). SQLite has no such index: there a part is found by
    reading the table (docs/crm.md says what that costs).
    """
    queryset = Person.objects.all() if queryset is None else queryset
    term = " ".join(str(term or "").split())
    if not term:
        return queryset
    condition = Q(external_person_id=term) | Q(person_key=term) | Q(vibes_person_id=term)
    mdn = try_parse_mdn(term)
    if mdn is not None:
        condition |= Q(mdn=mdn)
    suffix = number_suffix(term)
    if suffix is not None:
        condition |= Q(mdn__endswith=suffix)
    condition |= _text_part("email", term)
    if "@" not in term:
        words = term.split(" ")
        condition |= _text_part("first_name", term) | _text_part("last_name", term)
        if len(words) > 1:
            first, rest = words[0], " ".join(words[1:])
            condition |= _text_part("first_name", first) & _text_part("last_name", rest)
    return queryset.filter(condition)


def all_subscription_lists() -> QuerySet[SubscriptionList]:
    return SubscriptionList.objects.order_by("order", "name")


def custom_field_definitions() -> dict[str, CustomField]:
    """Every custom field by key (for validation and for the sync's payloads)."""
    return {custom_field.key: custom_field for custom_field in CustomField.objects.all()}


def person_subscriptions(person: Person) -> QuerySet[Subscription]:
    return Subscription.objects.filter(person=person).select_related("subscription_list")


def number_change_of_vibes_person(person_key: str | None, mdn: str | None) -> NumberChange | None:
    """The change of number a Vibes person's event belongs to, if any: the person that
    held the old number of a completed change (its lists and number are being ended), or
    the new number of a change still waiting for its Y. Callbacks about either must not
    make a person of their own (docs/preferences.md, "Changing a number")."""
    if person_key:
        retired = (
            NumberChange.objects.filter(
                status=NumberChangeStatus.COMPLETED, old_person_key=person_key
            )
            .exclude(person__person_key=person_key)
            .select_related("person")
            .first()
        )
        if retired is not None:
            return retired
        if Person.objects.filter(person_key=person_key).exists():
            return None
    mdn = try_parse_mdn(mdn) if mdn else None
    if not mdn:
        return None
    return (
        NumberChange.objects.filter(status=NumberChangeStatus.PENDING, new_mdn=mdn)
        .select_related("person")
        .first()
    )
