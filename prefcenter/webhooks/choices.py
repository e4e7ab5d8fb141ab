"""Enumerations of the webhooks app: the event types sent and the states of a delivery."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """The ``type`` of an event, as receivers see it (Standard Webhooks' dotted names)."""

    PERSON_CHANGED = "person.changed", _("Person created or changed")
    SUBSCRIPTION_SUBSCRIBED = "subscription.subscribed", _("Subscribed to a list")
    SUBSCRIPTION_OPTED_OUT = "subscription.opted_out", _("Opted out of a list")
    OPT_IN_CONFIRMED = "opt_in.confirmed", _("Web opt-in confirmed")
    OPT_IN_REJECTED = "opt_in.rejected", _("Web opt-in rejected")
    # Published when an erasure request is finished in the CRM and in Vibes.
    ERASURE_DONE = "erasure.done", _("Erasure done")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed (no more retries)")


class AttemptOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("Delivered")
    RETRY = "retry", _("Failed, will retry")
    FAILED = "failed", _("Failed, no more retries")
