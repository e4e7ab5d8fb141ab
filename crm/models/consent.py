"""The append-only consent ledger."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from crm.choices import ConsentAction, OptOutReason, Source
from crm.models.catalogue import SubscriptionList
from crm.models.persons import Person

# What one ledger line says, in the order every reading of the ledger shows it (the API, its
# export, a person's access export): a column added to the ledger is added here, once.
LEDGER_FIELDS = (
    "action",
    "source",
    "occurred_at",
    "recorded_at",
    "mdn",
    "ip_address",
    "user_agent",
    "disclosure_text",
    "opt_out_reason",
    "reference",
)


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerIsAppendOnly("Consent events cannot be updated.")

    def delete(self):
        raise LedgerIsAppendOnly("Consent events cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        # Refused before Django opens its transaction, so the caller's stays usable.
        raise LedgerIsAppendOnly("Consent events cannot be updated.")

    update.queryset_only = True
    delete.queryset_only = True

    def vibes_event_ids_extend(self, *, pk: int, event_ids: list[str], **earliest) -> None:
        """Record that more Vibes events reported the fact of line ``pk``: the one change
        the ledger allows. The fact and its disclosure stay; ``earliest`` (occurred_at
        and reference) moves the line to an earlier report of the same fact that arrived
        late, so that the ledger ends the same whatever order Vibes delivered in."""
        allowed = {
            key: value for key, value in earliest.items() if key in {"occurred_at", "reference"}
        }
        models.QuerySet.update(self.filter(pk=pk), vibes_event_ids=event_ids, **allowed)


class LedgerIsAppendOnly(ValidationError):
    """Raised on any attempt to change or remove a consent event through the application."""


class ConsentEvent(models.Model):
    """The append-only consent ledger: what a person agreed to, when, where and how."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consent_events")
    subscription_list = models.ForeignKey(
        SubscriptionList, on_delete=models.PROTECT, related_name="consent_events"
    )
    action = models.CharField(_("action"), max_length=20, choices=ConsentAction.choices)
    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    mdn = PhoneNumberField(_("mobile number"), blank=True, default="")
    ip_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)
    disclosure_text = models.TextField(_("disclosure shown"), blank=True)
    opt_out_reason = models.CharField(
        _("opt-out reason"), max_length=32, blank=True, choices=OptOutReason.choices
    )
    reference = models.CharField(
        _("caused by"),
        max_length=200,
        blank=True,
        db_index=True,
        help_text=_("What caused it: request:<id>, callback:<event id>, staff:<user>, ..."),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    vibes_event_ids = models.JSONField(
        _("Vibes events"),
        default=list,
        blank=True,
        help_text=_(
            "The ids of every Vibes callback event that reported this fact; the only "
            "part of a line that grows after it is recorded."
        ),
    )

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ConsentAction.values), name="crm_consent_action_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["person", "subscription_list", "occurred_at"],
                name="crm_consent_person_list_time",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_action_display()} - {self.subscription_list} ({self.occurred_at:%Y-%m-%d})"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise LedgerIsAppendOnly("Consent events cannot be changed once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly("Consent events cannot be deleted.")
