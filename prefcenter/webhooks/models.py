"""Webhook endpoints the brand registered, the events sent to them, and every attempt.

An event (``WebhookMessage``) is written once; each endpoint subscribed to its type gets
a ``WebhookDelivery`` that the worker sends, retries and finally settles, and each try is
a ``WebhookAttempt`` row: the log staff read in the admin. Secrets are kept as the
endpoint's receiver needs them (``whsec_`` and base64): signing needs the secret itself,
so unlike API keys they cannot be stored hashed.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prefcenter.webhooks.choices import AttemptOutcome, DeliveryState, EventType


class WebhookEndpoint(models.Model):
    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=300, blank=True)
    event_types = models.JSONField(
        _("event types"), default=list, help_text=_("The event types sent to this endpoint.")
    )
    secret = models.CharField(_("secret"), max_length=200, editable=False)
    previous_secret = models.CharField(
        _("previous secret"), max_length=200, blank=True, editable=False
    )
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret signs until"), null=True, blank=True, editable=False
    )
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True, editable=False)
    paused_reason = models.CharField(_("why paused"), max_length=500, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(
        _("deliveries failed in a row"),
        default=0,
        editable=False,
        help_text=_("Deliveries that used every retry without success since the last success."),
    )
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["url", "pk"]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def signing_secrets(self, *, now: datetime.datetime | None = None) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous one
        during the grace period after a rotation."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and (
            self.previous_secret_expires_at and self.previous_secret_expires_at > now
        ):
            secrets.append(self.previous_secret)
        return secrets

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])


class WebhookMessage(models.Model):
    """One event, sent with the same ``webhook-id`` to every endpoint and on every try."""

    message_id = models.CharField(_("message id"), max_length=40, unique=True, editable=False)
    event_type = models.CharField(
        _("event type"), max_length=64, choices=EventType.choices, db_index=True
    )
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at", "-pk"]
        permissions = [("replay_webhookmessage", _("Can send webhook events again"))]

    def __str__(self) -> str:
        return f"{self.message_id} {self.event_type}"


class WebhookDelivery(models.Model):
    """An event on its way to one endpoint: pending (with its next try), then settled."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
    )
    replay = models.BooleanField(_("replay"), default=False, help_text=_("Sent again by staff."))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    leased_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhooks_delivery_due",
                condition=models.Q(state="pending"),
            ),
            models.Index(fields=["endpoint", "state"], name="webhooks_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.message.message_id} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came of it (append-only)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(_("attempt"))
    made_at = models.DateTimeField(_("made at"), default=timezone.now)
    status_code = models.PositiveIntegerField(_("status"), null=True, blank=True)
    response_excerpt = models.TextField(_("response (start)"), blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AttemptOutcome.choices)
    next_retry_at = models.DateTimeField(_("next retry"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhooks_attempt_once_per_number"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
