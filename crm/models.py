"""The CRM's own data: persons, their custom field values and list subscriptions, and the
append-only consent ledger.

Only ``crm.services`` writes these rows; everything else reads them (``crm.selectors``)
or reacts to the signals the services send (``crm.signals``).
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from crm.choices import (
    ConsentAction,
    CustomFieldType,
    NumberChangeStatus,
    OptInStatus,
    OptOutReason,
    Source,
    SubscriptionState,
)
from crm.phone import mask_mdn

EXTERNAL_PERSON_ID_MAX_LENGTH = 128


def new_link_secret() -> str:
    return secrets.token_urlsafe(16)


class Person(models.Model):
    external_person_id = models.CharField(
        _("external person id"),
        max_length=EXTERNAL_PERSON_ID_MAX_LENGTH,
        unique=True,
        help_text=_("The CRM's own id, sent to Vibes as external_person_id."),
    )
    person_key = models.CharField(
        _("Vibes person key"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Vibes' id for this person; empty until Vibes knows them."),
    )
    vibes_person_id = models.CharField(
        _("Vibes person id (deprecated)"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text=_(
            "The older numeric id Vibes also sends (a callback person's id). A different "
            "value from the person key: only used to recognise a callback that carries "
            "nothing else."
        ),
    )
    external_id_in_vibes = models.BooleanField(
        _("Vibes knows the external id"),
        default=False,
        help_text=_(
            "Vibes has confirmed it holds this external id for the person. Until then "
            "every call names the person by person key."
        ),
    )
    mdn = PhoneNumberField(
        _("mobile number"),
        null=True,
        blank=True,
        unique=True,
        help_text=_("Confirmed mobile number in E.164, as Vibes knows it."),
    )
    carrier_code = models.CharField(_("carrier code"), max_length=16, blank=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    custom_fields = models.JSONField(
        _("custom field values"),
        default=dict,
        blank=True,
        help_text=_("Values keyed by custom field key, validated against the definitions."),
    )
    link_secret = models.CharField(
        _("link secret"),
        max_length=64,
        default=new_link_secret,
        editable=False,
        help_text=_("Part of every preference-center link; rotating it revokes them all."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["-id"]
        # Staff actions that Django's add/change/delete/view do not describe (docs/crm.md).
        permissions = [
            ("stop_texts", _("Can stop all texts of persons (leave every list)")),
            ("revoke_links", _("Can revoke persons' preference-center links")),
        ]
        constraints = [
            # An empty string would be a second "unknown" value that the unique constraints
            # do not treat like NULL: two persons could then share it.
            models.CheckConstraint(
                condition=~Q(person_key=""), name="crm_person_person_key_not_empty"
            ),
            models.CheckConstraint(condition=~Q(mdn=""), name="crm_person_mdn_not_empty"),
            models.CheckConstraint(
                condition=~Q(external_person_id=""), name="crm_person_external_id_not_empty"
            ),
            models.CheckConstraint(
                condition=~Q(vibes_person_id=""), name="crm_person_vibes_person_id_not_empty"
            ),
        ]

    def __str__(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return (
            f"{name or self.external_person_id} ({mask_mdn(self.mdn)})"
            if self.mdn
            else (name or self.external_person_id)
        )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class CustomField(models.Model):
    key = models.SlugField(
        _("key"),
        max_length=64,
        unique=True,
        help_text=_("The custom field's key in Vibes."),
    )
    label = models.CharField(_("label"), max_length=150)
    field_type = models.CharField(
        _("type"), max_length=20, choices=CustomFieldType.choices, default=CustomFieldType.TEXT
    )
    options = models.JSONField(
        _("options"),
        default=list,
        blank=True,
        help_text=_('For choice fields: [{"key": "red", "label": "Red"}, ...].'),
    )
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)
    visible_to_subscribers = models.BooleanField(_("subscribers see it"), default=True)
    editable_by_subscribers = models.BooleanField(_("subscribers may edit it"), default=True)
    synced_to_vibes = models.BooleanField(_("synced to Vibes"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    min_value = models.DecimalField(
        _("smallest number"),
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("Number fields: the smallest value a person may enter. Empty: no limit."),
    )
    max_value = models.DecimalField(
        _("largest number"),
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("Number fields: the largest value a person may enter. Empty: no limit."),
    )
    whole_numbers_only = models.BooleanField(
        _("whole numbers only"),
        default=False,
        help_text=_("Number fields: refuse decimals such as 2.5."),
    )
    min_length = models.PositiveIntegerField(
        _("shortest text"),
        null=True,
        blank=True,
        help_text=_("Text fields: the fewest characters a value may have. Empty: no limit."),
    )
    max_length = models.PositiveIntegerField(
        _("longest text"),
        null=True,
        blank=True,
        help_text=_("Text fields: the most characters a value may have (at most 1000)."),
    )

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.label

    @property
    def option_keys(self) -> list[str]:
        return [option["key"] for option in self.options or []]

    def clean(self) -> None:
        from crm.custom_fields import validate_limits, validate_options

        validate_options(self.field_type, self.options)
        validate_limits(self)


class SubscriptionList(models.Model):
    list_id = models.CharField(
        _("Vibes list id"),
        max_length=64,
        unique=True,
        help_text=_("The subscription list's id in Vibes."),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    disclosure = models.TextField(
        _("SMS consent disclosure"),
        blank=True,
        help_text=_(
            "Shown next to the button that signs a number up; stored verbatim with every consent."
        ),
    )
    acquisition_campaign_id = models.CharField(
        _("acquisition campaign id"),
        max_length=64,
        blank=True,
        help_text=_("Vibes acquisition campaign used for web double opt-in to this list."),
    )
    keyword = models.CharField(
        _("keyword"),
        max_length=64,
        blank=True,
        help_text=_("The keyword that joins this list by text."),
    )
    shown_in_preference_center = models.BooleanField(_("shown in preference center"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subscription list")
        verbose_name_plural = _("subscription lists")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


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


from crm.erasure_models import ErasureRequest  # noqa: E402  (its own module, same app)

__all__ = [
    "ConsentEvent",
    "CustomField",
    "ErasureRequest",
    "LedgerIsAppendOnly",
    "NumberChange",
    "OptInRequest",
    "Person",
    "Subscription",
    "SubscriptionList",
]
