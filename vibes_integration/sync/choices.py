"""Enumerations of the outbound sync."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OperationKind(models.TextChoices):
    PERSON = "person", _("Update person")
    OPT_IN = "opt_in", _("Web opt-in (Add Participant)")
    UNSUBSCRIBE = "unsubscribe", _("Leave list")
    NUMBER_CHANGE = "number_change", _("Change of number")
    NULLIFY = "nullify", _("Erase (end every list, nullify)")


class OperationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Being sent")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CONFLICT = "conflict", _("Conflict")
    COALESCED = "coalesced", _("Merged into another operation")
    SKIPPED = "skipped", _("Nothing left to send")


ACTIVE_STATUSES = (OperationStatus.PENDING, OperationStatus.RUNNING)
"""Work not done yet: it holds back the person's later operations."""

PROBLEM_STATUSES = (OperationStatus.FAILED, OperationStatus.CONFLICT)
"""Finished without reaching Vibes' agreement: staff see these until they are resolved."""

SETTLED_STATUSES = (
    OperationStatus.DONE,
    OperationStatus.COALESCED,
    OperationStatus.SKIPPED,
)


class SyncStatus(models.TextChoices):
    """A person's sync state as staff see it."""

    IN_SYNC = "in_sync", _("In sync")
    PENDING = "pending", _("Pending")
    FAILED = "failed", _("Failed")
    CONFLICT = "conflict", _("Conflict")
    NOT_SENT = "not_sent", _("Not sent to Vibes yet")
