"""The calls to Vibes for one operation, and how each answer is classified.

Runs on a sending thread: no database access here, only the ``Plan`` and the client.
Retries must be harmless because Vibes has no idempotency keys, so every attempt starts
with an idempotent call (Update Person, a read, Add Participant, which answers 200 for a
request already pending, DELETE, which answers 404 once done) and creates a person only
after Vibes said it does not know them. Which identifier names the person is
``person_calls``' job.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from crm.choices import OptInStatus
from crm.phone import mask_mdn
from vibes_integration.client import VibesClient
from vibes_integration.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    Retryable,
    Unprocessable,
    VibesError,
)
from vibes_integration.sync.calls import call
from vibes_integration.sync.choices import OperationKind
from vibes_integration.sync.nullify import send_nullify
from vibes_integration.sync.number_change import send_number_change
from vibes_integration.sync.payloads import parse_vibes_datetime, vibes_person_key
from vibes_integration.sync.person_calls import send_person, send_unsubscribe
from vibes_integration.sync.planning import Plan
from vibes_integration.sync.reports import OptInAnswer, Result, SendReport

logger = logging.getLogger(__name__)


def _failure(result: Result, exc: VibesError) -> SendReport:
    return SendReport(
        result=result,
        http_status=exc.status,
        error=str(exc),
        error_codes=[str(code) for code in exc.codes],
    )


def perform(client: VibesClient, plan: Plan) -> SendReport:
    """Make the calls of one operation; never raises (a bug becomes a failed outcome)."""
    if plan.skip_reason:
        return SendReport(result=Result.SKIPPED, error=plan.skip_reason)
    outcome = SendReport(result=Result.DONE)
    try:
        if plan.kind == OperationKind.PERSON:
            send_person(client, plan, outcome)
        elif plan.kind == OperationKind.OPT_IN:
            _send_opt_in(client, plan, outcome)
        elif plan.kind == OperationKind.UNSUBSCRIBE:
            send_unsubscribe(client, plan, outcome)
        elif plan.kind == OperationKind.NUMBER_CHANGE:
            send_number_change(client, plan, outcome, call)
        elif plan.kind == OperationKind.NULLIFY:
            send_nullify(client, plan, outcome)
        else:
            raise ValueError(f"unknown operation kind {plan.kind!r}")
    except (Retryable, AuthenticationFailed) as exc:
        return _with_calls(_failure(Result.RETRY, exc), outcome)
    except Conflict as exc:
        failed = _failure(Result.CONFLICT, exc)
        failed.error = _conflict_message(plan, exc)
        return _with_calls(failed, outcome)
    except VibesError as exc:
        return _with_calls(_failure(Result.FAILED, exc), outcome)
    except Exception as exc:
        logger.exception("Sending operation %s failed unexpectedly", plan.operation_id)
        return _with_calls(
            SendReport(result=Result.FAILED, error=f"{exc.__class__.__name__}: {exc}"), outcome
        )
    return outcome


def _with_calls(result: SendReport, made: SendReport) -> SendReport:
    """A failed outcome that keeps the calls made and what Vibes said about the person."""
    result.calls = made.calls
    result.person_key = made.person_key
    result.external_id_confirmed = made.external_id_confirmed
    return result


def _conflict_message(plan: Plan, exc: VibesError) -> str:
    details = "; ".join(exc.messages)
    text = _(
        "Vibes refused the mobile number %(mdn)s: a number cannot be changed in Vibes and "
        "may belong to another person there. The new number must join through the web "
        "opt-in (preference center, or the admin's opt-in)."
    ) % {"mdn": mask_mdn(plan.crm_mdn) or _("(none)")}
    return f"{text} {details}".strip()


def _send_opt_in(client: VibesClient, plan: Plan, outcome: SendReport) -> None:
    try:
        result = call(
            outcome,
            "add_participant",
            client.add_participant,
            plan.acquisition_id,
            mdn=plan.opt_in_mdn,
            external_person_id=None if plan.opt_in_without_external_id else plan.external_person_id,
        )
    except Conflict:
        outcome.opt_in = OptInAnswer(status=OptInStatus.CONFIRMED, answer="already_subscribed")
        return
    except BadRequest as exc:
        _refused(outcome, exc, "not_mobile")
        return
    except Unprocessable as exc:
        _refused(outcome, exc, classify_unprocessable(exc))
        return
    if result.http_status == 200:
        answer, status = "already_pending", OptInStatus.PENDING
    elif result.is_subscribed:
        answer, status = "subscribed", OptInStatus.CONFIRMED
    else:
        answer, status = "pending", OptInStatus.PENDING
    outcome.opt_in = OptInAnswer(
        status=status,
        answer=answer,
        expire_date=parse_vibes_datetime(result.expire_date),
        person_key=result.person_key or vibes_person_key(result.person),
    )


def _refused(outcome: SendReport, exc: VibesError, answer: str) -> None:
    codes = [str(code) for code in exc.codes]
    outcome.result = Result.FAILED
    outcome.error = str(exc)
    outcome.error_codes = codes
    outcome.opt_in = OptInAnswer(
        status=OptInStatus.FAILED,
        answer=answer,
        error_code=(codes[0] if codes else str(exc.status or "")),
    )


def classify_unprocessable(exc: VibesError) -> str:
    """Which documented 422 of Add Participant this is."""
    if exc.has_code("MDNHASCONFIRMATIONBLOCK"):
        return "confirmation_block"
    if exc.has_code("EXTERNALPERSONIDMISMATCH"):
        return "external_id_mismatch"
    text = " ".join([*exc.messages, *(str(code) for code in exc.codes)]).lower()
    if "carrier" in text or "landline" in text:
        return "no_mobile_carrier"
    return "refused"
