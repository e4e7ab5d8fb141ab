"""Erasure requests and the suppression record they leave behind.

Kept in their own module (imported by ``crm.models``) so that the privacy work stays
apart from the CRM's core records. An ``ErasureRequest`` is both the request's
timeline (received, CRM finished, Vibes finished) and the suppression record: once done
it holds only keyed hashes of the number and email, never the values.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.choices import Source

ERASED_ID_PREFIX = "erased-"
"""The external id of every erased person starts with it, and no other may: that makes
"is this person erased?" a check on the row itself, without a query."""


def person_is_erased(person) -> bool:
    return str(getattr(person, "external_person_id", "") or "").startswith(ERASED_ID_PREFIX)


class ErasureRequest(models.Model):
    """One data-subject erasure request for one person, from staff, the page or the API."""

    person = models.OneToOneField(
        "crm.Person",
        verbose_name=_("person (pseudonymised)"),
        on_delete=models.PROTECT,
        related_name="erasure_request",
    )
    source = models.CharField(_("requested through"), max_length=32, choices=Source.choices)
    requested_by = models.CharField(
        _("requested by"),
        max_length=200,
        blank=True,
        help_text=_("staff:<user id>, api:<client id> or subscriber."),
    )
    mdn_hash = models.CharField(
        _("number hash"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("HMAC-SHA256 of the E.164 number: the suppression record."),
    )
    email_hash = models.CharField(
        _("email hash"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("HMAC-SHA256 of the lower-cased email: the suppression record."),
    )
    vibes_targets = models.JSONField(
        _("Vibes targets"),
        default=list,
        blank=True,
        help_text=_(
            "One entry per company key to nullify: company_key, person_key, and the number "
            "only while Vibes has not finished (it is needed to find the person there)."
        ),
    )
    received_at = models.DateTimeField(_("received"), db_index=True)
    deadline_at = models.DateTimeField(_("deadline"), db_index=True)
    crm_finished_at = models.DateTimeField(_("CRM finished"), null=True, blank=True)
    vibes_finished_at = models.DateTimeField(_("Vibes finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["-received_at", "-id"]
        db_table = "crm_erasure_request"
        permissions = [("erase_person", _("Can erase persons' personal data"))]

    def __str__(self) -> str:
        return f"{_('Erasure')} #{self.pk} ({self.state_label})"

    @property
    def is_done(self) -> bool:
        return self.crm_finished_at is not None and self.vibes_finished_at is not None

    @property
    def state_label(self) -> str:
        if self.is_done:
            return str(_("done"))
        if self.crm_finished_at is not None:
            return str(_("waiting for Vibes"))
        return str(_("received"))

    @property
    def requested_by_staff(self) -> bool:
        return self.requested_by.startswith("staff:")


__all__ = ["ERASED_ID_PREFIX", "ErasureRequest", "person_is_erased"]
