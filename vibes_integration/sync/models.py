"""The outbound sync's records: the outbox, the call log and the shared rate-limit state.

``Operation`` is the transactional outbox and the source of truth of what Vibes still has
to learn: a row is written by a signal receiver inside the ``crm`` service's transaction,
so it exists exactly when the change does. Tasks are only a nudge to process it; the
sweep finds any row a lost task or a dead worker left behind.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import Source
from crm.phone import mask_mdn
from vibes_integration.sync.choices import ACTIVE_STATUSES, OperationKind, OperationStatus


class Operation(models.Model):
    """One thing Vibes must learn about one person, sent in the order it was made.

    A ``person`` operation carries no data: the person is read when it is sent, so any
    number of edits made while it waits become one Update Person with the latest state.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=OperationKind.choices)
    person = models.ForeignKey(
        "crm.Person",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="vibes_operations",
    )
    subscription_list = models.ForeignKey(
        "crm.SubscriptionList",
        verbose_name=_("subscription list"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    opt_in_request = models.ForeignKey(
        "crm.OptInRequest",
        verbose_name=_("opt-in request"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="vibes_operations",
    )
    remove_mdn = models.BooleanField(
        _("remove number"),
        default=False,
        help_text=_("The number was removed in the CRM: Vibes is told to remove it too."),
    )
    check_mdn = models.BooleanField(
        _("check number"),
        default=False,
        help_text=_(
            "The CRM's number changed: after the update, Vibes is read to see whether it "
            "holds the same number (Update Person never changes a number)."
        ),
    )
    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=OperationStatus.choices,
        default=OperationStatus.PENDING,
    )
    edits = models.PositiveIntegerField(
        _("edits"), default=1, help_text=_("Changes merged into this one call.")
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_expires_at = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    claimed_by = models.CharField(_("worker"), max_length=100, blank=True)
    http_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    error_codes = models.JSONField(_("Vibes error codes"), default=list, blank=True)
    resolved = models.BooleanField(
        _("resolved"),
        default=False,
        help_text=_("A failure or conflict that a later successful operation made moot."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("outbound operation")
        verbose_name_plural = _("outbound operations")
        ordering = ["-id"]
        permissions = [("resync", _("Can send persons to Vibes again (resync)"))]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="vibes_sync_op_due"),
            models.Index(fields=["person", "status", "id"], name="vibes_sync_op_person"),
            models.Index(fields=["status", "lease_expires_at"], name="vibes_sync_op_lease"),
        ]
        constraints = [
            # The coalescing rule, enforced: at most one waiting Update Person per person.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(kind=OperationKind.PERSON, status=OperationStatus.PENDING),
                name="vibes_sync_one_pending_person_op",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def target(self) -> str:
        if self.kind == OperationKind.OPT_IN and self.opt_in_request_id:
            request = self.opt_in_request
            return f"{mask_mdn(request.mdn)} → {request.subscription_list}"
        if self.subscription_list_id:
            return str(self.subscription_list)
        return ""


class OutboundCall(models.Model):
    """One HTTP call the sync made to Vibes: what staff look at to see what was sent."""

    operation = models.ForeignKey(
        Operation,
        verbose_name=_("operation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    person = models.ForeignKey(
        "crm.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("Vibes operation"), max_length=40)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    ok = models.BooleanField(_("successful"))
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    made_at = models.DateTimeField(_("made at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("call to Vibes")
        verbose_name_plural = _("calls to Vibes")
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} → {self.http_status or '-'}"


class RateLimitState(models.Model):
    """When the next call to Vibes may start, for one company, shared by every worker.

    A single row per company (a virtual schedule: each call reserves the next free slot
    of 1/rate seconds), updated under a row lock, so that the workers together never
    exceed the rate even across hosts.
    """

    company_key = models.CharField(max_length=100, unique=True)
    next_slot = models.FloatField(default=0.0, help_text="Unix time of the next free slot.")

    class Meta:
        verbose_name = _("rate limit state")
        verbose_name_plural = _("rate limit states")

    def __str__(self) -> str:
        return self.company_key


class BackfillCheckpoint(models.Model):
    """Where an interrupted ``vibes_backfill`` resumes: the last person id it finished."""

    name = models.CharField(max_length=50, unique=True)
    last_person_id = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("backfill checkpoint")
        verbose_name_plural = _("backfill checkpoints")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_person_id}"
