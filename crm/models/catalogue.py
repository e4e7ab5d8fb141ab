"""The catalogue that mirrors Vibes: custom field definitions and subscription lists."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.choices import CustomFieldType
from crm.custom_fields import validate_limits, validate_options


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
