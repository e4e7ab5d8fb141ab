"""One row per background process, so that a stopped one is noticed."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerKind(models.TextChoices):
    TASK_WORKER = "task_worker", _("Task worker")
    SWEEP = "sweep", _("Sync sweep")


class WorkerHeartbeat(models.Model):
    """A background process, as it last reported itself.

    The process creates its row when it starts and moves ``last_seen_at`` forward while it
    runs (at most every few seconds, idle or busy); a clean stop fills ``stopped_at``. A row
    whose ``last_seen_at`` is old belongs to a process that died or hangs.
    """

    hostname = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    kind = models.CharField(_("kind"), max_length=16, choices=WorkerKind.choices)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.hostname}:{self.pid}"
