"""Records what Vibes answered: the operation's new state, the CRM's Vibes-side facts.

What Vibes tells us about the CRM's own records (the person key it assigned, what became
of a web opt-in) is written through ``crm.services`` with ``source=Source.VIBES``, so the
sync's receivers do not send it back. Every write checks the batch's claim token: a
worker that lost its lease records nothing over another worker's result.
"""

from __future__ import annotations

import datetime
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import services
from crm.choices import OptInStatus, Source
from crm.models import OptInRequest, Person
from crm.opt_in_messages import opt_in_message
from crm.services.erasure import erasure_vibes_finish
from prefcenter.conf import setting
from vibes_integration.sync.choices import PROBLEM_STATUSES, OperationKind, OperationStatus
from vibes_integration.sync.claims import return_to_queue
from vibes_integration.sync.models import Operation, OutboundCall
from vibes_integration.sync.planning import Plan
from vibes_integration.sync.reports import Result, SendReport

logger = logging.getLogger(__name__)

_FINAL_STATUS = {
    Result.DONE: OperationStatus.DONE,
    Result.FAILED: OperationStatus.FAILED,
    Result.CONFLICT: OperationStatus.CONFLICT,
    Result.SKIPPED: OperationStatus.SKIPPED,
}


_PERSON_RESULT = {True: "vibes_created", False: "vibes_merged", None: "vibes_updated"}


def backoff_delay(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: exponential, capped, with equal jitter."""
    base = setting("VIBES_SYNC_BACKOFF_BASE")
    cap = setting("VIBES_SYNC_BACKOFF_MAX")
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + random.random() * ceiling / 2


class Recorder:
    """Records outcomes, counting them by final status; each plan carries its claim."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def record(self, results: Sequence[tuple[Plan, SendReport]]) -> None:
        """Record several outcomes in one transaction (one commit per group, not per call).

        Outcomes that change nothing but the operation (an Update Person answered 200, a
        leave done, nothing left to send) are written with one UPDATE per claim; the others
        one by one, each in a savepoint, since they change the CRM too.
        """
        if not results:
            return
        with transaction.atomic():
            done_persons: list[int] = []
            plain: dict[tuple, list[Plan]] = defaultdict(list)
            for plan, outcome in results:
                if _changes_only_the_operation(plan, outcome):
                    key = (plan.claim_token, outcome.result, outcome.http_status, outcome.error)
                    plain[key].append(plan)
                    continue
                try:
                    with transaction.atomic():
                        status = self._record_one(plan, outcome)
                except Exception as exc:
                    logger.exception("Recording operation %s failed", plan.operation_id)
                    status = self._record_failure(plan, exc)
                self.counts[status] += 1
                if status == OperationStatus.DONE:
                    if plan.kind == OperationKind.PERSON:
                        done_persons.append(plan.person_id)
                    else:
                        _resolve_earlier_problems(plan)
            for (token, result, http_status, error), plans in plain.items():
                self._record_plain(token, result, http_status, error, plans, done_persons)
            if done_persons:
                # A person's operations finish in order: every problem left is older.
                Operation.objects.filter(
                    person_id__in=done_persons,
                    kind=OperationKind.PERSON,
                    status__in=PROBLEM_STATUSES,
                    resolved=False,
                ).update(resolved=True)
            OutboundCall.objects.bulk_create(
                [
                    OutboundCall(
                        operation_id=plan.operation_id,
                        person_id=plan.person_id,
                        action=call.action,
                        http_status=call.http_status,
                        ok=call.ok,
                        error=call.error,
                        duration_ms=call.duration_ms,
                        made_at=call.made_at,
                    )
                    for plan, outcome in results
                    for call in outcome.calls
                ]
            )

    def _record_plain(
        self,
        token: str,
        result: Result,
        http_status: int | None,
        error: str,
        plans: list[Plan],
        done_persons: list[int],
    ) -> None:
        now = timezone.now()
        status = _FINAL_STATUS[result]
        updated = Operation.objects.filter(
            pk__in=[plan.operation_id for plan in plans],
            claim_token=token,
            status=OperationStatus.RUNNING,
        ).update(
            status=status,
            finished_at=now,
            updated_at=now,
            lease_expires_at=None,
            http_status=http_status,
            error=error,
            error_codes=[],
        )
        self.counts[status] += updated
        self.counts["lost"] += len(plans) - updated
        if status != OperationStatus.DONE:
            return
        for plan in plans:
            if plan.kind == OperationKind.PERSON:
                self.counts["vibes_updated"] += 1
                done_persons.append(plan.person_id)
            else:
                _resolve_earlier_problems(plan)

    def _claimed(self, plan: Plan):
        return Operation.objects.filter(
            pk=plan.operation_id, claim_token=plan.claim_token, status=OperationStatus.RUNNING
        )

    def _record_one(self, plan: Plan, outcome: SendReport) -> str:
        if outcome.result == Result.RETRY:
            return self._retry(plan, outcome)
        now = timezone.now()
        status = _FINAL_STATUS[outcome.result]
        updated = self._claimed(plan).update(
            status=status,
            finished_at=now,
            updated_at=now,
            lease_expires_at=None,
            http_status=outcome.http_status,
            error=outcome.error,
            error_codes=outcome.error_codes,
        )
        if not updated:
            return "lost"
        if plan.kind == OperationKind.PERSON and status == OperationStatus.DONE:
            self.counts[_PERSON_RESULT[outcome.person_created]] += 1
        conflict = _record_identity(plan, outcome)
        if conflict and plan.kind == OperationKind.PERSON:
            status = OperationStatus.CONFLICT
            Operation.objects.filter(pk=plan.operation_id).update(status=status, error=conflict)
        if plan.kind == OperationKind.OPT_IN and outcome.opt_in is not None:
            _record_opt_in(plan, outcome)
        if plan.kind == OperationKind.NULLIFY and status == OperationStatus.DONE:
            erasure_vibes_finish(person_id=plan.person_id)
        return status

    def _retry(self, plan: Plan, outcome: SendReport) -> str:
        operation = self._claimed(plan).select_for_update().first()
        if operation is None:
            return "lost"
        _record_identity(plan, outcome)
        now = timezone.now()
        if operation.attempts >= setting("VIBES_SYNC_MAX_ATTEMPTS"):
            self._claimed(plan).update(
                status=OperationStatus.FAILED,
                finished_at=now,
                updated_at=now,
                lease_expires_at=None,
                http_status=outcome.http_status,
                error=_("Gave up after %(n)d attempts. Last error: %(error)s")
                % {"n": operation.attempts, "error": outcome.error},
                error_codes=outcome.error_codes,
            )
            return OperationStatus.FAILED
        next_at = now + datetime.timedelta(seconds=backoff_delay(operation.attempts))
        return_to_queue(
            operation,
            next_attempt_at=next_at,
            claim_token=plan.claim_token,
            http_status=outcome.http_status,
            error=outcome.error,
            error_codes=outcome.error_codes,
        )
        return "retry"

    def _record_failure(self, plan: Plan, exc: Exception) -> str:
        now = timezone.now()
        self._claimed(plan).update(
            status=OperationStatus.FAILED,
            finished_at=now,
            updated_at=now,
            lease_expires_at=None,
            error=_("Recording Vibes' answer failed: %(error)s") % {"error": exc},
        )
        return OperationStatus.FAILED


def _changes_only_the_operation(plan: Plan, outcome: SendReport) -> bool:
    if outcome.result == Result.SKIPPED:
        return True
    if outcome.result != Result.DONE or outcome.opt_in is not None:
        return False
    if plan.kind == OperationKind.NULLIFY:
        return False
    if plan.kind == OperationKind.PERSON and outcome.person_created is not None:
        return False
    return outcome.person_key in (None, plan.person_key) and (
        outcome.external_id_confirmed is None or plan.external_id_in_vibes
    )


def _record_identity(plan: Plan, outcome: SendReport) -> str:
    """Store what Vibes said about the person's identity: the person key it gave or a
    read found, and that it now holds the CRM's external id (only while the CRM still has
    that external id: a change made during the call is one Vibes does not know yet).
    Answers a conflict text when the key belongs to another CRM person."""
    if outcome.person_key in (None, plan.person_key) and outcome.external_id_confirmed is None:
        return ""
    person = Person.objects.filter(pk=plan.person_id).first()
    if person is None:
        return ""
    changes: dict[str, object] = {}
    if outcome.person_key and outcome.person_key != person.person_key:
        changes["person_key"] = outcome.person_key
    if (
        outcome.external_id_confirmed
        and outcome.external_id_confirmed == person.external_person_id
        and not person.external_id_in_vibes
    ):
        changes["external_id_in_vibes"] = True
    if not changes:
        return ""
    try:
        with transaction.atomic():
            services.person_update(person=person, source=Source.VIBES, **changes)
    except ValidationError:
        changes.pop("person_key", None)
        if changes:
            services.person_update(person=person, source=Source.VIBES, **changes)
        return _(
            "Vibes linked this person to its record %(key)s, which another person in the "
            "CRM already holds: the two records may be the same subscriber."
        ) % {"key": outcome.person_key}
    return ""


def _record_opt_in(plan: Plan, outcome: SendReport) -> None:
    answer = outcome.opt_in
    request = OptInRequest.objects.select_related("subscription_list", "person").get(
        pk=plan.opt_in_request_id
    )
    services.opt_in_request_update(
        opt_in_request=request,
        status=answer.status,
        source=Source.VIBES,
        message=opt_in_message(answer.answer, request),
        error_code=answer.error_code,
        expire_date=answer.expire_date,
        person_key=answer.person_key,
    )
    person = request.person
    if (
        answer.status == OptInStatus.PENDING
        and answer.person_key
        and not person.person_key
        and not Person.objects.filter(person_key=answer.person_key).exists()
    ):
        services.person_update(person=person, person_key=answer.person_key, source=Source.VIBES)


def _resolve_earlier_problems(plan: Plan) -> None:
    """A later success on the same list makes earlier failures there moot."""
    Operation.objects.filter(
        person_id=plan.person_id,
        kind=plan.kind,
        status__in=PROBLEM_STATUSES,
        resolved=False,
        id__lt=plan.operation_id,
        subscription_list__list_id=plan.list_id,
    ).update(resolved=True)
