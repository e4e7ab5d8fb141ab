"""Access requests: who asked for a person's data, when, and when they received it.

The export itself is produced on demand and streamed (nothing is stored but this record),
so a request is ready as soon as it is received; ``completed_at`` is set when an export
has been delivered in full, which is what a deadline under GDPR article 15 is measured by.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessRequestChannel(models.TextChoices):
    STAFF = "staff", _("Staff")
    SUBSCRIBER = "subscriber", _("Subscriber, from the preference page")
    API = "api", _("API")


class AccessRequest(models.Model):
    public_id = models.UUIDField(_("request id"), default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        "crm.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="access_requests",
    )
    channel = models.CharField(_("asked through"), max_length=16, choices=AccessRequestChannel)
    requested_by = models.CharField(
        _("asked by"),
        max_length=150,
        blank=True,
        help_text=_("The staff user or API client that asked; empty for the subscriber."),
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(
        _("completed"),
        null=True,
        blank=True,
        help_text=_("When an export was first delivered in full."),
    )
    downloads = models.PositiveIntegerField(_("complete downloads"), default=0)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-received_at", "-id"]
        permissions = [("export_personal_data", _("Can export a person's data (access request)"))]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.get_channel_display()})"

    @property
    def status(self) -> str:
        return "completed" if self.completed_at else "ready"


class RetentionCheckpoint(models.Model):
    """How far the retention sweep has gone through an append-only table, by id.

    Rows are never deleted from the consent ledger or the callback log, so a sweep that
    searched them for what is due would read ever more rows it has already cleaned; it
    resumes after the last id it finished instead.
    """

    name = models.CharField(_("table"), max_length=64, unique=True)
    last_id = models.BigIntegerField(_("last id done"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("retention checkpoint")
        verbose_name_plural = _("retention checkpoints")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_id}"
