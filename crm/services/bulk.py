"""Many subscription changes at once, each with its consent line: a handful of statements
for a whole batch of callbacks instead of a handful per change.

Every change ends exactly as ``subscription_change(record_consent=False)`` followed by
``consent_record`` would leave it (the same ``state_apply`` sets the fields, the same
builder makes and validates the ledger line), and the same signals are sent with the same
``source``. Only the writes are grouped: one SELECT of the subscriptions, one INSERT of
the new ones, one UPDATE of the others (``rows_update``), one INSERT of the ledger lines.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import signals
from crm.choices import ConsentAction, Source, SubscriptionState
from crm.models import ConsentEvent, Person, Subscription, SubscriptionList
from crm.services.consent import (
    _consent_event,
    reported_opt_in,
    settle_reported_opt_in,
    standing_lines,
)
from crm.services.rows import rows_update
from crm.services.subscriptions import SubscriptionChange, state_apply
from crm.services.validation import (
    ConsentContext,
    check_opt_out_reason,
    check_reason_only_on_opt_out,
    check_source,
    clean_aware,
    clean_consent,
)

_ACTION_FOR_STATE = {
    SubscriptionState.SUBSCRIBED: ConsentAction.OPTED_IN,
    SubscriptionState.UNSUBSCRIBED: ConsentAction.OPTED_OUT,
}
_WRITTEN_FIELDS = [
    "state",
    "opt_in_date",
    "opt_out_date",
    "opt_out_reason",
    "source",
    "event_date",
    "updated_at",
]


@dataclass(frozen=True)
class SubscriptionReport:
    """A subscription's state as reported at ``event_date`` (a callback), and the consent
    fact it reports: an opt-in when ``state`` is subscribed, an opt-out otherwise."""

    person: Person
    subscription_list: SubscriptionList
    state: SubscriptionState
    event_date: datetime.datetime
    consent: ConsentContext
    opt_in_date: datetime.datetime | None = None
    opt_out_date: datetime.datetime | None = None
    opt_out_reason: str = ""


def subscriptions_report_many(
    *, reports: Sequence[SubscriptionReport], source: Source
) -> list[SubscriptionChange]:
    """Apply reports about distinct (person, list) pairs; answers one change per report.

    A report older than its subscription's last event is stale: it is answered with
    ``stale=True`` and writes nothing, not even its ledger line (the caller applies it
    the ordinary way, which records the line). Everything is validated before the first
    write; the writes run in the caller's transaction, so a failure leaves nothing of
    them once the caller rolls back (callback processing wraps this in a savepoint).
    """
    source = check_source(source)
    reports = [_cleaned(report) for report in reports]
    pairs = {(report.person.pk, report.subscription_list.pk) for report in reports}
    if len(pairs) != len(reports):
        raise ValueError("Each (person, list) may be reported once per call.")
    existing = _locked_subscriptions(pairs)
    standing = standing_lines(
        {
            (report.person.pk, report.subscription_list.pk)
            for report in reports
            if report.state == SubscriptionState.SUBSCRIBED
        }
    )
    now = timezone.now()
    results: list[SubscriptionChange] = []
    applied: list[tuple[SubscriptionChange, str, ConsentEvent | None]] = []
    for report in reports:
        key = (report.person.pk, report.subscription_list.pk)
        subscription = existing.get(key) or Subscription(
            person=report.person,
            subscription_list=report.subscription_list,
            state=SubscriptionState.UNSUBSCRIBED,
            source=source,
        )
        if subscription.event_date and report.event_date < subscription.event_date:
            results.append(SubscriptionChange(subscription=subscription, changed=False, stale=True))
            continue
        change, previous_state, line = _applied(
            report, subscription, source, now, standing.get(key)
        )
        results.append(change)
        applied.append((change, previous_state, line))
    if applied:
        with transaction.atomic(savepoint=False):
            _write(applied)
            _announce(applied, source)
    return results


def _applied(
    report: SubscriptionReport,
    subscription: Subscription,
    source: Source,
    now: datetime.datetime,
    standing: ConsentEvent | None,
) -> tuple[SubscriptionChange, str, ConsentEvent | None]:
    """Apply one (not stale) report to its subscription, unsaved: answers the change, the
    state before, and the ledger line to write (None when ``standing``, the line of an
    opt-in Vibes reported before, now names this event too)."""
    previous_state = subscription.state
    changed = state_apply(
        subscription,
        state=report.state,
        source=source,
        event_date=report.event_date,
        opt_in_date=report.opt_in_date,
        opt_out_date=report.opt_out_date,
        opt_out_reason=report.opt_out_reason,
    )
    subscription.updated_at = now
    line = _consent_event(
        person=report.person,
        subscription_list=report.subscription_list,
        action=_ACTION_FOR_STATE[report.state],
        source=source,
        consent=report.consent,
        mdn=None,
        opt_out_reason=report.opt_out_reason
        if report.state == SubscriptionState.UNSUBSCRIBED
        else "",
    )
    if reported_opt_in(line) and settle_reported_opt_in(line, standing):
        # Vibes reported this opt-in before: its line now names this event too.
        line = None
    return SubscriptionChange(subscription=subscription, changed=changed), previous_state, line


def _cleaned(report: SubscriptionReport) -> SubscriptionReport:
    """The checks ``subscription_change`` and ``consent_record`` make, raised the same way."""
    if report.state not in _ACTION_FOR_STATE:
        raise ValidationError({"state": _("Only subscribed or unsubscribed can be reported.")})
    check_opt_out_reason(report.opt_out_reason)
    check_reason_only_on_opt_out(
        report.opt_out_reason, opting_out=report.state == SubscriptionState.UNSUBSCRIBED
    )
    if report.person.pk is None or report.subscription_list.pk is None:
        raise ValueError("Reports name saved persons and lists.")
    clean_aware(report.event_date, "event_date")
    clean_aware(report.opt_in_date, "opt_in_date")
    clean_aware(report.opt_out_date, "opt_out_date")
    clean_consent(report.consent)
    return report


def _locked_subscriptions(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Subscription]:
    """The pairs' subscriptions in one SELECT, locked until the transaction ends.

    The condition names each list once with its persons (a batch is mostly about one
    list), not each pair: the same rows, a condition the ORM builds in a fraction of the
    time. ``order_by()`` drops the model's ordering, a join that would also lock the lists.
    """
    persons_by_list: dict[int, list[int]] = {}
    for person_pk, list_pk in sorted(pairs):
        persons_by_list.setdefault(list_pk, []).append(person_pk)
    condition = Q()
    for list_pk, person_pks in persons_by_list.items():
        condition |= Q(subscription_list_id=list_pk, person_id__in=person_pks)
    found = Subscription.objects.select_for_update().filter(condition).order_by()
    return {(s.person_id, s.subscription_list_id): s for s in found}


def _write(applied: list[tuple[SubscriptionChange, str, ConsentEvent | None]]) -> None:
    new = [change.subscription for change, _, _ in applied if change.subscription._state.adding]
    old = [change.subscription for change, _, _ in applied if not change.subscription._state.adding]
    if new:
        # A subscription another transaction created meanwhile makes this raise
        # IntegrityError (PostgreSQL): the caller then applies the reports one by one.
        Subscription.objects.bulk_create(new)
    if old:
        rows_update(old, _WRITTEN_FIELDS)
    ConsentEvent.objects.bulk_create([line for _, _, line in applied if line is not None])


def _announce(
    applied: list[tuple[SubscriptionChange, str, ConsentEvent | None]], source: Source
) -> None:
    """The signals ``subscription_change`` and ``consent_record`` send, in the same order
    for each report (after all the writes rather than between them)."""
    for change, previous_state, line in applied:
        if change.changed:
            signals.subscription_changed.send(
                sender=Subscription,
                subscription=change.subscription,
                previous_state=previous_state,
                consent_event=None,
                source=source,
            )
        if line is not None:
            signals.consent_recorded.send(sender=ConsentEvent, consent_event=line, source=source)
