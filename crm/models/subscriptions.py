"""Where a person stands on a list, their web opt-ins, and their changes of number."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from crm.choices import NumberChangeStatus, OptInStatus, OptOutReason, Source, SubscriptionState
from crm.models.catalogue import SubscriptionList
from crm.models.persons import Person
from crm.phone import mask_mdn


class Subscription(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="subscriptions")
    subscription_list = models.ForeignKey(
        SubscriptionList, on_delete=models.PROTECT, related_name="subscriptions"
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=SubscriptionState.choices,
        default=SubscriptionState.UNSUBSCRIBED,
    )
    opt_in_date = models.DateTimeField(_("opt-in date"), null=True, blank=True)
    opt_out_date = models.DateTimeField(_("opt-out date"), null=True, blank=True)
    opt_out_reason = models.CharField(
        _("opt-out reason"), max_length=32, blank=True, choices=OptOutReason.choices
    )
    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    event_date = models.DateTimeField(
        _("last event date"),
        null=True,
        blank=True,
        help_text=_("When the last change applied happened; older events change nothing."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["subscription_list__order", "subscription_list__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "subscription_list"], name="crm_subscription_unique_person_list"
            ),
            models.CheckConstraint(
                condition=Q(state__in=SubscriptionState.values), name="crm_subscription_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["subscription_list", "state"], name="crm_subscription_list_state")
        ]

    def __str__(self) -> str:
        return f"{self.person} - {self.subscription_list}: {self.get_state_display()}"


class OptInRequest(models.Model):
    """One web double opt-in (Vibes Add Participant) of a number to a list."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="opt_in_requests")
    subscription_list = models.ForeignKey(
        SubscriptionList, on_delete=models.PROTECT, related_name="opt_in_requests"
    )
    mdn = PhoneNumberField(_("mobile number"), db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OptInStatus.choices, default=OptInStatus.REQUESTED
    )
    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    message = models.CharField(
        _("message"),
        max_length=300,
        blank=True,
        help_text=_("A plain sentence for the subscriber about this request's state."),
    )
    error_code = models.CharField(_("Vibes error code"), max_length=64, blank=True)
    expire_date = models.DateTimeField(_("expires"), null=True, blank=True)
    number_change = models.ForeignKey(
        "NumberChange",
        verbose_name=_("change of number"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opt_in_requests",
        help_text=_("Set when this opt-in asks a new number to replace the confirmed one."),
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("opt-in request")
        verbose_name_plural = _("opt-in requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # The newest request for a list replaces the open one (see opt_in_request).
            models.UniqueConstraint(
                fields=["person", "subscription_list"],
                condition=Q(status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING]),
                name="crm_optin_one_open_per_person_list",
            ),
        ]
        indexes = [
            models.Index(
                fields=["person", "subscription_list", "status"],
                name="crm_optin_person_list_status",
            )
        ]

    def __str__(self) -> str:
        return f"{mask_mdn(self.mdn)} → {self.subscription_list}: {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in {OptInStatus.REQUESTED, OptInStatus.PENDING}


class NumberChange(models.Model):
    """A person's confirmed number being replaced by another (docs/preferences.md).

    The new number joins through web double opt-in on a Vibes person of its own; only
    its owner's Y moves the lists and the person's identity to it, so a No or a lapse
    leaves the old number as it was.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="number_changes")
    old_mdn = PhoneNumberField(_("old number"))
    new_mdn = PhoneNumberField(_("new number"), db_index=True)
    old_person_key = models.CharField(
        _("old Vibes person key"),
        max_length=64,
        blank=True,
        help_text=_("The Vibes person that held the old number when the change was asked."),
    )
    new_person_key = models.CharField(
        _("new Vibes person key"),
        max_length=64,
        blank=True,
        help_text=_("The Vibes person that holds the new number, once it confirmed."),
    )
    old_list_ids = models.JSONField(
        _("lists ended on the old number"),
        default=list,
        blank=True,
        help_text=_("Vibes list ids the old number was on when the new one confirmed."),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=NumberChangeStatus.choices,
        default=NumberChangeStatus.PENDING,
    )
    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    conflict_person = models.ForeignKey(
        Person,
        verbose_name=_("person holding the new number"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Another CRM person who holds the new number: staff decide; nothing sent."),
    )
    created_at = models.DateTimeField(_("asked"), auto_now_add=True, db_index=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)

    class Meta:
        verbose_name = _("change of number")
        verbose_name_plural = _("changes of number")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="pending"),
                name="crm_numberchange_one_pending_per_person",
            ),
            models.CheckConstraint(
                condition=Q(status__in=NumberChangeStatus.values),
                name="crm_numberchange_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{mask_mdn(self.old_mdn)} → {mask_mdn(self.new_mdn)}: {self.get_status_display()}"
