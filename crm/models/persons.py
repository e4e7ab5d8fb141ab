"""Persons: who the CRM knows, by the ids each side gives them, and their number."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

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
