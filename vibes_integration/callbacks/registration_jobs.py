"""Registering the callbacks of a list or campaign the CRM learns of later, durably.

Vibes delivers a list's subscription callbacks only through a registration filtered on
that list (and a campaign's acquisition callbacks through one filtered on that campaign),
so a list added after ``vibes_callbacks register`` ran would stay silent. When a list is
created or deleted, or a list names an acquisition campaign not seen before, the sync's
receiver writes a ``RegistrationJob`` in the same transaction (``registration_job_queue``):
the row exists exactly when the change does. After the commit a task runs it (enqueued by
``tasks``, told by ``signals.registration_jobs_due``): the
registrations of that one list or campaign are made (or, for one that is gone, ours are
removed) with ``registration.register_target``, by the same rules as ``register``.

Nothing is registered while Vibes holds no registration of ours at all (callbacks were
never set up for this site): the job ends ``skipped``, saying so. A failure that may pass
(Vibes unreachable, 429, 5xx) is retried with backoff; any other (a conflict with another
system's registration, a refused URL, missing settings) ends ``failed`` with the reason,
for staff to see in the admin. The sync's sweep schedules a run for any due job whose
task was lost.
"""

from __future__ import annotations

import datetime
import logging
import random

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from vibes_integration.callbacks import registration
from vibes_integration.callbacks.models import (
    RegistrationJob,
    RegistrationJobStatus,
    RegistrationTarget,
)
from vibes_integration.callbacks.signals import registration_jobs_due
from vibes_integration.client import VibesClient
from vibes_integration.errors import Retryable, VibesError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = datetime.timedelta(minutes=5)
_BACKOFF_SECONDS = (30, 120, 480, 1920, 7200)
_LATER_BACKOFF_SECONDS = 6 * 3600


def retry_delay(attempts: int) -> datetime.timedelta:
    """About 30 s, 2 min, 8 min, 32 min, 2 h, then 6 h, with jitter (as callback retries)."""
    index = attempts - 1
    base = _BACKOFF_SECONDS[index] if index < len(_BACKOFF_SECONDS) else _LATER_BACKOFF_SECONDS
    return datetime.timedelta(seconds=base * random.uniform(0.8, 1.2))


def registration_job_queue(*, target: RegistrationTarget, target_id: str) -> RegistrationJob | None:
    """Vibes' registrations for this list or campaign must be brought in line with the CRM.

    Runs in the caller's transaction; a job already waiting for the target covers this
    change too (it reads the CRM when it runs). The task is enqueued after the commit.
    """
    target_id = str(target_id or "").strip()
    if not target_id:
        return None
    waiting = RegistrationJob.objects.filter(
        target=target, target_id=target_id, status=RegistrationJobStatus.PENDING
    )
    if waiting.exists():
        return None
    try:
        with transaction.atomic():
            job = RegistrationJob.objects.create(target=target, target_id=target_id)
    except IntegrityError:
        return None  # another transaction queued it first
    transaction.on_commit(_announce_due)
    return job


def registration_jobs_for_list_saved(*, list_id: str, campaign_id: str, created: bool) -> None:
    """A list was saved: a new list needs its registrations, and so does a campaign the
    CRM has never registered (a list given a campaign, or a new list with one)."""
    if created:
        registration_job_queue(target=RegistrationTarget.LIST, target_id=list_id)
    if (
        campaign_id
        and not RegistrationJob.objects.filter(
            target=RegistrationTarget.CAMPAIGN, target_id=campaign_id
        ).exists()
    ):
        registration_job_queue(target=RegistrationTarget.CAMPAIGN, target_id=campaign_id)


def registration_jobs_for_list_deleted(*, list_id: str, campaign_id: str) -> None:
    """A list was deleted: ours for it (and for its campaign, if no list uses it) go."""
    registration_job_queue(target=RegistrationTarget.LIST, target_id=list_id)
    if campaign_id:
        registration_job_queue(target=RegistrationTarget.CAMPAIGN, target_id=campaign_id)


def _announce_due(run_after: datetime.datetime | None = None) -> None:
    """Jobs are due now (or at ``run_after``, a retry): ``tasks`` enqueues a run."""
    registration_jobs_due.send(sender=RegistrationJob, run_after=run_after)


def due_registration_jobs():
    now = timezone.now()
    return RegistrationJob.objects.filter(
        Q(status=RegistrationJobStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=RegistrationJobStatus.RUNNING, lease_expires_at__lt=now)
    ).order_by("id")


def registration_jobs_run_due(*, limit: int = 100) -> int:
    """Run the due jobs, oldest first; answers how many this call ran."""
    ran = 0
    for job_id in list(due_registration_jobs().values_list("id", flat=True)[:limit]):
        if _claim(job_id):
            registration_job_run(RegistrationJob.objects.get(pk=job_id))
            ran += 1
    return ran


def _claim(job_id: int) -> bool:
    """Take the job for LEASE (a conditional UPDATE: one worker wins). No transaction is
    held during the call to Vibes."""
    now = timezone.now()
    return bool(
        RegistrationJob.objects.filter(pk=job_id)
        .filter(
            Q(status=RegistrationJobStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=RegistrationJobStatus.RUNNING, lease_expires_at__lt=now)
        )
        .update(status=RegistrationJobStatus.RUNNING, lease_expires_at=now + LEASE)
    )


def registration_job_run(job: RegistrationJob) -> RegistrationJob:
    """Make Vibes' registrations of the job's list or campaign match the CRM, and record
    how that went on the job."""
    kwargs = (
        {"list_id": job.target_id}
        if job.target == RegistrationTarget.LIST
        else {"campaign_id": job.target_id}
    )
    job.attempts += 1
    try:
        outcomes = registration.register_target(VibesClient.from_settings(), **kwargs)
    except ImproperlyConfigured as exc:
        return _finish(job, RegistrationJobStatus.FAILED, error=str(exc))
    except Retryable as exc:
        return _retry_or_fail(job, registration._vibes_message(exc))
    except VibesError as exc:
        return _finish(job, RegistrationJobStatus.FAILED, error=registration._vibes_message(exc))
    if outcomes is None:
        return _finish(
            job,
            RegistrationJobStatus.SKIPPED,
            result="Vibes holds no callback registration of ours; run "
            "`vibes_callbacks register` to set callbacks up.",
        )
    lines = "\n".join(_line(o) for o in outcomes) or "Nothing to register or remove."
    problems = [o for o in outcomes if o.action in registration.PROBLEMS]
    if not problems:
        return _finish(job, RegistrationJobStatus.DONE, result=lines)
    if all(o.action == "failed" for o in problems):
        return _retry_or_fail(job, lines)
    return _finish(job, RegistrationJobStatus.FAILED, result=lines, error=_line(problems[0]))


def _line(outcome: registration.RegistrationResult) -> str:
    line = f"{outcome.action} {outcome.wanted.label}"
    if outcome.callback_id:
        line += f" (callback {outcome.callback_id})"
    return line + (f": {outcome.detail}" if outcome.detail else "")


def _retry_or_fail(job: RegistrationJob, error: str) -> RegistrationJob:
    if job.attempts >= MAX_ATTEMPTS:
        return _finish(job, RegistrationJobStatus.FAILED, error=error)
    job.status = RegistrationJobStatus.PENDING
    job.error = error
    job.lease_expires_at = None
    job.next_attempt_at = timezone.now() + retry_delay(job.attempts)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # A newer job for the same target is waiting: it does this work.
        return _finish(job, RegistrationJobStatus.SKIPPED, result="Covered by a newer job.")
    _announce_due(job.next_attempt_at)
    return job


def _finish(
    job: RegistrationJob, status: str, *, result: str = "", error: str = ""
) -> RegistrationJob:
    job.status = status
    job.result = result
    job.error = error
    job.lease_expires_at = None
    job.finished_at = timezone.now()
    job.save()
    if error:
        logger.warning("Callback registration job %s: %s", job.pk, error)
    return job


def registration_jobs_retry(*, jobs) -> int:
    """Staff asked for these failed or skipped jobs to run again now; answers how many
    were queued (a target that already has a waiting job needs no second one)."""
    queued = 0
    for job in jobs:
        if job.status not in (RegistrationJobStatus.FAILED, RegistrationJobStatus.SKIPPED):
            continue
        if registration_job_queue(target=job.target, target_id=job.target_id) is not None:
            queued += 1
    return queued


@task()
def process_registration_jobs() -> int:
    """Run every due callback registration job; answers how many ran.

    Defined here, not in ``tasks`` (which enqueues it): a waiting task is stored under
    this path."""
    return registration_jobs_run_due()
