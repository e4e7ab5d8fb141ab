"""API clients, their keys, and the answers kept for safe retries.

A key is shown once, when it is made, and only its SHA-256 digest is stored: a copy of the
database does not give anyone a usable key. Keys are found by their public prefix and then
compared in constant time.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prefcenter.api.scopes import Scope
from prefcenter.settings_registry.parsers import API_RATE_PATTERN


def validate_scopes(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Give the scopes as a list of names."))
    unknown = sorted(set(value) - set(Scope.values))
    if unknown:
        raise ValidationError(
            _("Unknown scopes: %(names)s. Known: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(Scope.values)}
        )


def validate_rate(value: str) -> None:
    if value and not API_RATE_PATTERN.match(value):
        raise ValidationError(_("Give a count per period, such as 600/min, 20/s or 50000/day."))


class ApiClient(models.Model):
    """One of the brand's systems (checkout, support desk, warehouse) that calls the API."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    scopes = models.JSONField(
        _("scopes"),
        default=list,
        blank=True,
        validators=[validate_scopes],
        help_text=_('What the client may do, e.g. ["persons:read", "consent:read"].'),
    )
    rate = models.CharField(
        _("rate limit"),
        max_length=20,
        blank=True,
        validators=[validate_rate],
        help_text=_("Requests allowed, e.g. 600/min; empty: PREFCENTER_API_RATE."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Untick to refuse every key of this client.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_authenticated(self) -> bool:
        """DRF treats ``request.user`` as signed in when this is true."""
        return True

    @property
    def is_staff(self) -> bool:
        return False

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @property
    def reference(self) -> str:
        """How the ledger names this client: ``api-client:<id>``."""
        return f"api-client:{self.pk}"


class ApiKey(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(
        _("prefix"),
        max_length=16,
        unique=True,
        editable=False,
        help_text=_("The key's public start, to tell keys apart; the rest is never stored."),
    )
    digest = models.CharField(_("SHA-256 of the key"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None and self.revoked_at <= timezone.now()


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an ``Idempotency-Key``, replayed to its retries.

    The unique constraint on (client, key) is what makes two concurrent duplicates safe:
    only one of them can insert the record and run; the other is told to retry.
    """

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    body = models.BinaryField(_("body"), blank=True, default=b"")
    location = models.CharField(_("location"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="api_idempotency_client_key")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"

    @property
    def is_complete(self) -> bool:
        return self.status_code is not None
