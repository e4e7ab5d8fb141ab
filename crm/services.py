"""The only functions that change the CRM's data.

Each service is keyword-only, validates its input before writing anything, runs in one
transaction, and sends a ``crm.signals`` signal inside that transaction so that the work
it causes (the sync to Vibes) is written atomically with the change. Bad input raises a
``ValidationError`` whose keys name the offending fields; nothing is half-written.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import signals
from crm.choices import ConsentAction, OptInStatus, OptOutReason, Source, SubscriptionState
from crm.custom_fields import clean_custom_field_values
from crm.models import (
    EXTERNAL_PERSON_ID_MAX_LENGTH,
    ConsentEvent,
    CustomField,
    OptInRequest,
    Person,
    Subscription,
    SubscriptionList,
    new_link_secret,
)
from crm.phone import parse_mdn


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marks an argument that was not given, as opposed to one given as empty or None."""


@dataclass(frozen=True)
class ConsentContext:
    """How a consent was given: what the law asks us to be able to show later."""

    occurred_at: datetime.datetime | None = None
    ip_address: str | None = None
    user_agent: str = ""
    disclosure_text: str | None = None
    reference: str = ""


@dataclass(frozen=True)
class PersonChange:
    person: Person
    created: bool
    changed_fields: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class SubscriptionChange:
    subscription: Subscription
    changed: bool
    stale: bool = False
    consent_event: ConsentEvent | None = None


_CONSENT_ACTION_FOR_STATE = {
    SubscriptionState.PENDING: ConsentAction.OPT_IN_REQUESTED,
    SubscriptionState.SUBSCRIBED: ConsentAction.OPTED_IN,
    SubscriptionState.UNSUBSCRIBED: ConsentAction.OPTED_OUT,
}


def _check_source(source: Any) -> Source:
    try:
        return Source(source)
    except ValueError as exc:
        raise ValidationError(
            {"source": _("%(value)s is not a known source.") % {"value": source}}
        ) from exc


def _clean_external_person_id(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationError({"external_person_id": _("An external person id is required.")})
    if len(text) > EXTERNAL_PERSON_ID_MAX_LENGTH:
        raise ValidationError(
            {
                "external_person_id": _("Use at most %(n)d characters.")
                % {"n": EXTERNAL_PERSON_ID_MAX_LENGTH}
            }
        )
    return text


def _clean_mdn(value: Any, field_name: str = "mdn") -> str | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return parse_mdn(value)
    except ValidationError as exc:
        raise ValidationError({field_name: exc.messages}) from exc


def _clean_email(value: Any) -> str:
    text = str(value or "").strip()
    if text:
        try:
            validate_email(text)
        except ValidationError as exc:
            raise ValidationError({"email": _("Enter a valid email address.")}) from exc
    return text


def _clean_name(value: Any, field_name: str) -> str:
    text = str(value or "").strip()
    if len(text) > 150:
        raise ValidationError({field_name: _("Use at most 150 characters.")})
    return text


def _custom_field_definitions() -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.all()}


def _check_unique(person: Person | None, **lookups: Any) -> None:
    for name, value in lookups.items():
        if value is None:
            continue
        clash = Person.objects.filter(**{name: value})
        if person is not None and person.pk:
            clash = clash.exclude(pk=person.pk)
        if clash.exists():
            raise ValidationError(
                {
                    name: _("Another person already has this %(field)s.")
                    % {"field": Person._meta.get_field(name).verbose_name}
                },
                code="unique",
            )


def _save_person(person: Person, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            person.save(**kwargs)
    except IntegrityError as exc:
        raise ValidationError(
            _("Another person already has this external id, Vibes person key or number."),
            code="unique",
        ) from exc


@transaction.atomic
def person_create(
    *,
    external_person_id: str,
    source: Source,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    mdn: str | None = None,
    carrier_code: str = "",
    person_key: str | None = None,
    custom_fields: Mapping[str, Any] | None = None,
) -> Person:
    source = _check_source(source)
    person = Person(
        external_person_id=_clean_external_person_id(external_person_id),
        first_name=_clean_name(first_name, "first_name"),
        last_name=_clean_name(last_name, "last_name"),
        email=_clean_email(email),
        mdn=_clean_mdn(mdn),
        carrier_code=str(carrier_code or "")[:16],
        person_key=(str(person_key).strip() or None) if person_key else None,
    )
    values = clean_custom_field_values(_custom_field_definitions(), custom_fields or {})
    person.custom_fields = {k: v for k, v in values.items() if v is not None}
    _check_unique(
        None,
        external_person_id=person.external_person_id,
        person_key=person.person_key,
        mdn=person.mdn,
    )
    _save_person(person)
    signals.person_changed.send(
        sender=Person,
        person=person,
        created=True,
        changed_fields=frozenset(_changed_names(person, created=True)),
        source=source,
        previous_mdn=None,
    )
    return person


def _changed_names(person: Person, *, created: bool) -> set[str]:
    names = {
        "external_person_id",
        "first_name",
        "last_name",
        "email",
        "mdn",
        "carrier_code",
        "person_key",
    }
    changed = {n for n in names if getattr(person, n)}
    changed.update(f"custom_fields.{key}" for key in person.custom_fields)
    return changed


@transaction.atomic
def person_update(
    *,
    person: Person,
    source: Source,
    external_person_id: str = UNSET,
    first_name: str = UNSET,
    last_name: str = UNSET,
    email: str = UNSET,
    mdn: str | None = UNSET,
    carrier_code: str = UNSET,
    person_key: str | None = UNSET,
    custom_fields: Mapping[str, Any] = UNSET,
) -> PersonChange:
    """Change the given fields of ``person``; ``custom_fields`` merges (None clears a key).

    Only the fields whose value really changes are written and announced, so an update
    that changes nothing sends no signal and causes no call to Vibes.
    """
    source = _check_source(source)
    person = Person.objects.select_for_update().get(pk=person.pk)
    new: dict[str, Any] = {}
    if external_person_id is not UNSET:
        new["external_person_id"] = _clean_external_person_id(external_person_id)
    if first_name is not UNSET:
        new["first_name"] = _clean_name(first_name, "first_name")
    if last_name is not UNSET:
        new["last_name"] = _clean_name(last_name, "last_name")
    if email is not UNSET:
        new["email"] = _clean_email(email)
    if mdn is not UNSET:
        new["mdn"] = _clean_mdn(mdn)
    if carrier_code is not UNSET:
        new["carrier_code"] = str(carrier_code or "")[:16]
    if person_key is not UNSET:
        new["person_key"] = (str(person_key).strip() or None) if person_key else None

    changed: set[str] = set()
    previous_mdn = str(person.mdn) if person.mdn else None
    for name, value in new.items():
        current = getattr(person, name)
        if name == "mdn":
            current = str(current) if current else None
        if current != value:
            changed.add(name)
    if custom_fields is not UNSET:
        values = clean_custom_field_values(_custom_field_definitions(), custom_fields)
        merged = dict(person.custom_fields)
        for key, value in values.items():
            if value is None:
                if key in merged:
                    merged.pop(key)
                    changed.add(f"custom_fields.{key}")
            elif merged.get(key) != value:
                merged[key] = value
                changed.add(f"custom_fields.{key}")
        person.custom_fields = merged
    if not changed:
        return PersonChange(person=person, created=False)

    _check_unique(
        person, **{n: new[n] for n in ("external_person_id", "person_key", "mdn") if n in changed}
    )
    for name in changed:
        if not name.startswith("custom_fields."):
            setattr(person, name, new[name])
    _save_person(person)
    signals.person_changed.send(
        sender=Person,
        person=person,
        created=False,
        changed_fields=frozenset(changed),
        source=source,
        previous_mdn=previous_mdn,
    )
    return PersonChange(person=person, created=False, changed_fields=frozenset(changed))


@transaction.atomic
def person_set_custom_fields(
    *, person: Person, values: Mapping[str, Any], source: Source
) -> PersonChange:
    return person_update(person=person, source=source, custom_fields=values)


@transaction.atomic
def person_rotate_link_secret(*, person: Person) -> Person:
    """Revokes every preference-center link issued for ``person`` so far."""
    Person.objects.filter(pk=person.pk).update(link_secret=new_link_secret())
    person.refresh_from_db(fields=["link_secret"])
    return person


def _record_consent(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    action: ConsentAction,
    source: Source,
    consent: ConsentContext | None,
    mdn: str | None = None,
    opt_out_reason: str = "",
) -> ConsentEvent:
    consent = consent or ConsentContext()
    disclosure = consent.disclosure_text
    if disclosure is None:
        disclosure = (
            subscription_list.disclosure if action == ConsentAction.OPT_IN_REQUESTED else ""
        )
    event = ConsentEvent(
        person=person,
        subscription_list=subscription_list,
        action=action,
        source=source,
        occurred_at=consent.occurred_at or timezone.now(),
        mdn=mdn or (str(person.mdn) if person.mdn else ""),
        ip_address=consent.ip_address or None,
        user_agent=(consent.user_agent or "")[:2000],
        disclosure_text=disclosure,
        opt_out_reason=opt_out_reason or "",
        reference=(consent.reference or "")[:200],
    )
    event.full_clean(exclude=["person", "subscription_list"])
    event.save()
    return event


@transaction.atomic
def consent_record(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    action: ConsentAction,
    source: Source,
    consent: ConsentContext | None = None,
    mdn: str | None = None,
    opt_out_reason: str = "",
) -> ConsentEvent:
    """Append one event to the ledger without changing a subscription (imports, notes)."""
    try:
        action = ConsentAction(action)
    except ValueError as exc:
        raise ValidationError({"action": _("Unknown consent action.")}) from exc
    return _record_consent(
        person=person,
        subscription_list=subscription_list,
        action=action,
        source=_check_source(source),
        consent=consent,
        mdn=mdn,
        opt_out_reason=opt_out_reason,
    )


@transaction.atomic
def subscription_change(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    state: SubscriptionState,
    source: Source,
    event_date: datetime.datetime | None = None,
    opt_in_date: datetime.datetime | None = None,
    opt_out_date: datetime.datetime | None = None,
    opt_out_reason: str = "",
    consent: ConsentContext | None = None,
    mdn: str | None = None,
    record_consent: bool = True,
) -> SubscriptionChange:
    """Move ``person``'s subscription to ``subscription_list`` into ``state``.

    ``event_date`` is when the change happened at its origin: an event older than the last
    one applied to this person and list is stale and changes nothing (callbacks arrive out
    of order). A real change of state appends a consent event unless ``record_consent`` is
    False (used when the caller records a more specific one itself).
    """
    source = _check_source(source)
    try:
        state = SubscriptionState(state)
    except ValueError as exc:
        raise ValidationError({"state": _("Unknown subscription state.")}) from exc
    if opt_out_reason and opt_out_reason not in OptOutReason.values:
        raise ValidationError(
            {
                "opt_out_reason": _("%(value)s is not a Vibes opt-out reason.")
                % {"value": opt_out_reason}
            }
        )
    subscription, _created = Subscription.objects.select_for_update().get_or_create(
        person=person,
        subscription_list=subscription_list,
        defaults={"state": SubscriptionState.UNSUBSCRIBED, "source": source},
    )
    if event_date and subscription.event_date and event_date < subscription.event_date:
        return SubscriptionChange(subscription=subscription, changed=False, stale=True)

    previous_state = subscription.state
    now = timezone.now()
    if event_date:
        subscription.event_date = event_date
    changed = previous_state != state
    if state == SubscriptionState.SUBSCRIBED:
        if changed or opt_in_date:
            subscription.opt_in_date = opt_in_date or subscription.opt_in_date or event_date or now
        if changed:
            subscription.opt_out_date = None
            subscription.opt_out_reason = ""
    elif state == SubscriptionState.UNSUBSCRIBED:
        if changed and previous_state == SubscriptionState.SUBSCRIBED:
            subscription.opt_out_date = opt_out_date or event_date or now
            subscription.opt_out_reason = opt_out_reason or ""
        elif opt_out_date:
            subscription.opt_out_date = opt_out_date
            subscription.opt_out_reason = opt_out_reason or subscription.opt_out_reason
    if changed:
        subscription.state = state
        subscription.source = source
    subscription.save()

    consent_event = None
    if changed and record_consent:
        consent_event = _record_consent(
            person=person,
            subscription_list=subscription_list,
            action=_CONSENT_ACTION_FOR_STATE[state],
            source=source,
            consent=consent or ConsentContext(occurred_at=event_date),
            mdn=mdn,
            opt_out_reason=opt_out_reason if state == SubscriptionState.UNSUBSCRIBED else "",
        )
    if changed:
        signals.subscription_changed.send(
            sender=Subscription,
            subscription=subscription,
            previous_state=previous_state,
            consent_event=consent_event,
            source=source,
        )
    return SubscriptionChange(
        subscription=subscription, changed=changed, consent_event=consent_event
    )


@transaction.atomic
def subscription_leave(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    source: Source,
    consent: ConsentContext | None = None,
    opt_out_reason: str = "",
) -> SubscriptionChange:
    """The person leaves the list (also withdraws a pending web opt-in to it)."""
    OptInRequest.objects.filter(
        person=person,
        subscription_list=subscription_list,
        status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING],
    ).update(status=OptInStatus.EXPIRED, message=_("Withdrawn before it was confirmed."))
    return subscription_change(
        person=person,
        subscription_list=subscription_list,
        state=SubscriptionState.UNSUBSCRIBED,
        source=source,
        consent=consent,
        opt_out_reason=opt_out_reason,
    )


@transaction.atomic
def person_stop_all(
    *, person: Person, source: Source, consent: ConsentContext | None = None
) -> list[SubscriptionChange]:
    """ "Stop all texts": leave every list the person is on or waiting to join."""
    changes = []
    active = (
        Subscription.objects.filter(person=person)
        .exclude(state=SubscriptionState.UNSUBSCRIBED)
        .select_related("subscription_list")
    )
    for subscription in active:
        changes.append(
            subscription_leave(
                person=person,
                subscription_list=subscription.subscription_list,
                source=source,
                consent=consent,
            )
        )
    return changes


@transaction.atomic
def opt_in_request(
    *,
    person: Person,
    mdn: str,
    subscription_lists: Iterable[SubscriptionList],
    source: Source,
    consent: ConsentContext | None = None,
) -> list[OptInRequest]:
    """Ask Vibes to sign ``mdn`` up to each list through web double opt-in.

    Each list's subscription shows pending and an opt-in-requested consent event records
    the disclosure shown; the Add Participant calls are made by the sync after commit.
    A list the number is already subscribed to (the person's confirmed number) is skipped.
    """
    source = _check_source(source)
    mdn = _clean_mdn(mdn)
    if mdn is None:
        raise ValidationError({"mdn": _("Enter a mobile number.")})
    lists = list(subscription_lists)
    if not lists:
        raise ValidationError({"subscription_lists": _("Choose at least one list.")})
    missing = [sl.name for sl in lists if not sl.acquisition_campaign_id]
    if missing:
        raise ValidationError(
            {
                "subscription_lists": _("These lists cannot be joined from the web yet: %(names)s.")
                % {"names": ", ".join(missing)}
            }
        )
    owner = Person.objects.filter(mdn=mdn).exclude(pk=person.pk).first()
    if owner is not None:
        raise ValidationError(
            {"mdn": _("This number belongs to another subscriber.")}, code="unique"
        )

    current = {
        s.subscription_list_id: s
        for s in Subscription.objects.filter(person=person, subscription_list__in=lists)
    }
    same_number = person.mdn and str(person.mdn) == mdn
    requests = []
    for subscription_list in lists:
        subscription = current.get(subscription_list.pk)
        if (
            same_number
            and subscription is not None
            and subscription.state == SubscriptionState.SUBSCRIBED
        ):
            continue
        open_request = OptInRequest.objects.filter(
            person=person,
            subscription_list=subscription_list,
            mdn=mdn,
            status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING],
        ).first()
        if open_request is not None:
            requests.append(open_request)
            continue
        # Expire any open request for another number: the newest one is what counts.
        OptInRequest.objects.filter(
            person=person,
            subscription_list=subscription_list,
            status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING],
        ).update(status=OptInStatus.EXPIRED, message=_("Replaced by a newer request."))
        request = OptInRequest.objects.create(
            person=person,
            subscription_list=subscription_list,
            mdn=mdn,
            status=OptInStatus.REQUESTED,
            source=source,
            message=_("We will text %(mdn)s to confirm.") % {"mdn": mdn},
        )
        if subscription is None or subscription.state != SubscriptionState.SUBSCRIBED:
            subscription_change(
                person=person,
                subscription_list=subscription_list,
                state=SubscriptionState.PENDING,
                source=source,
                record_consent=False,
            )
        _record_consent(
            person=person,
            subscription_list=subscription_list,
            action=ConsentAction.OPT_IN_REQUESTED,
            source=source,
            consent=consent,
            mdn=mdn,
        )
        requests.append(request)
    new_requests = [r for r in requests if r.status == OptInStatus.REQUESTED]
    if new_requests:
        signals.opt_in_requested.send(
            sender=OptInRequest, opt_in_requests=new_requests, source=source
        )
    return requests


@transaction.atomic
def opt_in_request_update(
    *,
    opt_in_request: OptInRequest,
    status: OptInStatus,
    source: Source,
    message: str = "",
    error_code: str = "",
    expire_date: datetime.datetime | None = None,
    person_key: str | None = None,
    event_date: datetime.datetime | None = None,
    consent: ConsentContext | None = None,
) -> OptInRequest:
    """Record what became of a web opt-in, and its effect on the subscription.

    CONFIRMED subscribes the person and makes the number theirs; REJECTED, FAILED and
    EXPIRED put a pending subscription back to not subscribed (REJECTED with a consent
    event: the subscriber said no). PENDING only stores Vibes' answer.
    """
    source = _check_source(source)
    try:
        status = OptInStatus(status)
    except ValueError as exc:
        raise ValidationError({"status": _("Unknown opt-in status.")}) from exc
    request = (
        OptInRequest.objects.select_for_update()
        .select_related("person", "subscription_list")
        .get(pk=opt_in_request.pk)
    )
    previous_status = request.status
    final = {OptInStatus.CONFIRMED, OptInStatus.REJECTED, OptInStatus.FAILED, OptInStatus.EXPIRED}
    if previous_status in final and status != previous_status and status != OptInStatus.CONFIRMED:
        # A late PENDING answer must not reopen a request that is already settled.
        return request
    request.status = status
    if message:
        request.message = message[:300]
    if error_code:
        request.error_code = error_code[:64]
    if expire_date:
        request.expire_date = expire_date
    request.save()

    person = request.person
    mdn = str(request.mdn)
    if status == OptInStatus.CONFIRMED:
        updates: dict[str, Any] = {}
        if not person.mdn or str(person.mdn) != mdn:
            owner = Person.objects.filter(mdn=mdn).exclude(pk=person.pk).exists()
            if not owner:
                updates["mdn"] = mdn
        if (
            person_key
            and person.person_key != person_key
            and not Person.objects.filter(person_key=person_key).exclude(pk=person.pk).exists()
        ):
            updates["person_key"] = person_key
        if updates:
            person_update(person=person, source=Source.VIBES, **updates)
        subscription_change(
            person=person,
            subscription_list=request.subscription_list,
            state=SubscriptionState.SUBSCRIBED,
            source=source,
            event_date=event_date,
            consent=consent,
            mdn=mdn,
        )
    elif status in final:
        current = Subscription.objects.filter(
            person=person, subscription_list=request.subscription_list
        ).first()
        if current is not None and current.state == SubscriptionState.PENDING:
            subscription_change(
                person=person,
                subscription_list=request.subscription_list,
                state=SubscriptionState.UNSUBSCRIBED,
                source=source,
                event_date=event_date,
                record_consent=False,
            )
        if status == OptInStatus.REJECTED and previous_status != OptInStatus.REJECTED:
            _record_consent(
                person=person,
                subscription_list=request.subscription_list,
                action=ConsentAction.OPT_IN_REJECTED,
                source=source,
                consent=consent or ConsentContext(occurred_at=event_date),
                mdn=mdn,
            )
    if status != previous_status:
        signals.opt_in_request_changed.send(
            sender=OptInRequest,
            opt_in_request=request,
            previous_status=previous_status,
            source=source,
        )
    return request


@transaction.atomic
def subscription_list_upsert(
    *,
    list_id: str,
    source: Source,
    name: str = UNSET,
    description: str = UNSET,
    disclosure: str = UNSET,
    acquisition_campaign_id: str = UNSET,
    keyword: str = UNSET,
    shown_in_preference_center: bool = UNSET,
    order: int = UNSET,
) -> tuple[SubscriptionList, bool]:
    """Create or update the list with Vibes id ``list_id`` (the catalogue callbacks)."""
    _check_source(source)
    list_id = str(list_id or "").strip()
    if not list_id:
        raise ValidationError({"list_id": _("A Vibes list id is required.")})
    values = {
        k: v
        for k, v in {
            "name": name,
            "description": description,
            "disclosure": disclosure,
            "acquisition_campaign_id": acquisition_campaign_id,
            "keyword": keyword,
            "shown_in_preference_center": shown_in_preference_center,
            "order": order,
        }.items()
        if v is not UNSET
    }
    subscription_list = SubscriptionList.objects.select_for_update().filter(list_id=list_id).first()
    created = subscription_list is None
    if created:
        values.setdefault("name", _("List %(id)s") % {"id": list_id})
        values.setdefault("shown_in_preference_center", False)
        subscription_list = SubscriptionList(list_id=list_id)
    for key, value in values.items():
        setattr(subscription_list, key, value)
    subscription_list.full_clean(validate_unique=False)
    subscription_list.save()
    return subscription_list, created
