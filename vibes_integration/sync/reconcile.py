"""Compares persons and their subscriptions with Vibes and repairs the drift.

Drift happens when callbacks were lost (our endpoint was down longer than Vibes retries),
or when something reached Vibes by another way. Persons are read in keyset-paginated
chunks; for each chunk Vibes is asked about every person (two calls each, by the
identifier Vibes knows them by, through the shared rate limit, several in flight), and
the answers are compared as they arrive.
Persons with outbound work still pending are skipped: what they hold is in motion.
"""

from __future__ import annotations

import datetime
import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from crm.choices import OptInStatus
from crm.models import OptInRequest, Person, Subscription, SubscriptionList
from prefcenter.conf import setting
from vibes_integration.client import VibesClient
from vibes_integration.errors import NotFound, VibesError
from vibes_integration.sync.choices import ACTIVE_STATUSES, PROBLEM_STATUSES, OperationKind
from vibes_integration.sync.concurrency import CallPool
from vibes_integration.sync.drift import CrmContext, RemoteState, Repair, person_repairs
from vibes_integration.sync.models import Operation
from vibes_integration.sync.number_holders import find_number_holder
from vibes_integration.sync.payloads import synced_custom_fields, vibes_person_key
from vibes_integration.sync.ratelimit import get_rate_limiter
from vibes_integration.sync.tasks import schedule_remaining

OPEN_REQUEST = (OptInStatus.REQUESTED, OptInStatus.PENDING)


@dataclass
class ReconcileSummary:
    total: int = 0
    compared: int = 0
    counts: Counter[str] = field(default_factory=Counter)


def persons_to_compare(since: datetime.datetime | None = None) -> QuerySet[Person]:
    """Everyone, or those whose record, subscriptions or opt-ins changed since ``since``
    (and everyone with an opt-in still open, whose confirmation may have been missed)."""
    persons = Person.objects.all()
    if since is None:
        return persons
    return persons.filter(
        Q(updated_at__gte=since)
        | Exists(Subscription.objects.filter(person=OuterRef("pk"), updated_at__gte=since))
        | Exists(
            OptInRequest.objects.filter(person=OuterRef("pk")).filter(
                Q(updated_at__gte=since) | Q(status__in=OPEN_REQUEST)
            )
        )
    )


def fetch_remote(
    client: VibesClient, person: Person, list_ids: tuple[str, ...] = ()
) -> RemoteState:
    """Runs on a sending thread: a read or two, no database.

    The person is asked for as the sync names them (``person_calls``): by external id
    once Vibes holds it, by person key otherwise, and only then by an external id Vibes
    may not know, or by number. Their subscriptions are then read by Vibes' own key.
    When the record found does not hold the CRM's number (or none is found), the number
    is looked up too: Vibes may hold it as a person the CRM does not have.
    """
    try:
        remote = _read_person(client, person)
        holder = find_number_holder(client, person, remote, list_ids)
        if remote is None:
            return RemoteState(number_holder=holder)
        person_key = vibes_person_key(remote)
        try:
            if person_key:
                records = client.list_subscriptions(person_key)
            else:
                records = client.list_subscriptions_by_external_id(person.external_person_id)
        except NotFound:
            records = []
        return RemoteState(person=remote, subscriptions=records, number_holder=holder)
    except VibesError as exc:
        return RemoteState(error=str(exc))


def _read_person(client: VibesClient, person: Person) -> dict | None:
    readers = []
    if person.external_id_in_vibes:
        readers.append((client.get_person_by_external_id, person.external_person_id))
    if person.person_key:
        readers.append((client.get_person, person.person_key))
    if not person.external_id_in_vibes:
        readers.append((client.get_person_by_external_id, person.external_person_id))
    for read, identifier in readers:
        try:
            return read(identifier)
        except NotFound:
            continue
    if person.mdn and not person.person_key:
        found = client.find_person_by_mdn(str(person.mdn))
        # A number is a weak identity: only a record no other CRM id claims is theirs.
        if found and found.get("external_person_id") in (None, "", person.external_person_id):
            return found
    return None


def _context(persons: list[Person]) -> CrmContext:
    ids = [p.pk for p in persons]
    subscriptions: dict[int, list[Subscription]] = {}
    for subscription in Subscription.objects.filter(person_id__in=ids).select_related(
        "subscription_list"
    ):
        subscriptions.setdefault(subscription.person_id, []).append(subscription)
    open_requests = {
        (r.person_id, r.subscription_list_id): r
        for r in OptInRequest.objects.filter(person_id__in=ids, status__in=OPEN_REQUEST).order_by(
            "id"
        )
    }
    unsent = frozenset(
        Operation.objects.filter(
            person_id__in=ids,
            kind=OperationKind.PERSON,
            status__in=PROBLEM_STATUSES,
            resolved=False,
        ).values_list("person_id", flat=True)
    )
    return CrmContext(
        definitions=synced_custom_fields(),
        field_map=setting("VIBES_SYNC_PERSON_FIELDS"),
        lists={sl.list_id: sl for sl in SubscriptionList.objects.all()},
        subscriptions=subscriptions,
        open_requests=open_requests,
        unsent=unsent,
    )


def reconcile(
    *,
    since: datetime.datetime | None = None,
    dry_run: bool = False,
    chunk_size: int = 200,
    on_repair: Callable[[Person, Repair, bool], None] | None = None,
    on_progress: Callable[[ReconcileSummary], None] | None = None,
) -> ReconcileSummary:
    """Compare, repair (unless ``dry_run``) and report each difference to ``on_repair``."""
    persons = persons_to_compare(since).order_by("id")
    summary = ReconcileSummary(total=persons.count())
    pool = CallPool(limiter=get_rate_limiter(), concurrency=setting("VIBES_SYNC_CONCURRENCY"))
    last_id = 0
    while True:
        chunk = list(persons.filter(id__gt=last_id)[:chunk_size])
        if not chunk:
            break
        last_id = chunk[-1].pk
        busy = set(
            Operation.objects.filter(
                person_id__in=[p.pk for p in chunk], status__in=ACTIVE_STATUSES
            ).values_list("person_id", flat=True)
        )
        summary.counts["skipped_pending"] += len(busy)
        context = _context(chunk)

        def compare(results, context=context) -> None:
            for person, remote in results:
                _compare_one(person, remote, context, dry_run, summary, on_repair)

        pool.run(
            [p for p in chunk if p.pk not in busy],
            functools.partial(fetch_remote, list_ids=tuple(context.lists)),
            compare,
        )
        summary.compared += len(chunk)
        if on_progress is not None:
            on_progress(summary)
    if not dry_run:
        schedule_remaining()
    return summary


def _compare_one(
    person: Person,
    remote: RemoteState | Exception,
    context: CrmContext,
    dry_run: bool,
    summary: ReconcileSummary,
    on_repair: Callable[[Person, Repair, bool], None] | None,
) -> None:
    if isinstance(remote, Exception) or remote.error:
        summary.counts["errors"] += 1
        if on_repair is not None:
            error = remote if isinstance(remote, Exception) else remote.error
            on_repair(
                person, Repair(_("Vibes could not be asked: %(error)s") % {"error": error}), False
            )
        return
    repairs = person_repairs(person, remote, context)
    if not repairs:
        summary.counts["in_agreement"] += 1
        return
    applied_any = False
    for repair in repairs:
        applied = False
        if repair.apply is not None and not dry_run:
            try:
                with transaction.atomic():
                    repair.apply()
                applied = True
            except Exception as exc:
                repair = Repair(
                    _("%(repair)s (failed: %(error)s)")
                    % {"repair": repair.description, "error": exc}
                )
        applied_any |= applied
        summary.counts["repairs" if applied else "reported"] += 1
        if on_repair is not None:
            on_repair(person, repair, applied)
    summary.counts["persons_repaired" if applied_any else "persons_reported"] += 1
