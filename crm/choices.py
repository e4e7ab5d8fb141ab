"""Enumerations shared by the CRM's models, services and the integration."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    """Where a change came from. ``VIBES`` changes are never sent back to Vibes."""

    PREFERENCE_CENTER = "preference_center", _("Preference center")
    VIBES = "vibes", _("SMS via Vibes")
    STAFF = "staff", _("Staff")
    IMPORT = "import", _("Import")
    API = "api", _("API")


class SubscriptionState(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    SUBSCRIBED = "subscribed", _("Subscribed")
    UNSUBSCRIBED = "unsubscribed", _("Not subscribed")


class ConsentAction(models.TextChoices):
    OPT_IN_REQUESTED = "opt_in_requested", _("Opt-in requested")
    OPTED_IN = "opted_in", _("Opted in")
    OPT_IN_REJECTED = "opt_in_rejected", _("Opt-in rejected")
    OPTED_OUT = "opted_out", _("Opted out")


class OptOutReason(models.TextChoices):
    """Vibes' values for ``opt_out_reason``."""

    USER_OPT_OUT = "user_opt_out", _("Subscriber opted out")
    DISCONNECT = "disconnect", _("Number disconnected")
    LIST_ARCHIVED = "list_archived", _("List archived")
    BULK_OPT_OUT = "bulk_opt_out", _("Bulk opt-out")
    FAILED_AT_CARRIER = "failed_at_carrier", _("Failed at carrier")
    OBSOLETE_CARRIER = "obsolete_carrier", _("Obsolete carrier")
    PLATFORM_OPT_OUT = "platform_opt_out", _("Platform opt-out")
    KEYWORD_OPT_OUT = "keyword_opt_out", _("Keyword opt-out")
    API_OPT_OUT = "api_opt_out", _("API opt-out")
    BUTTON_OPT_OUT = "button_opt_out", _("Button opt-out")
    #: The CRM's own reason (not a Vibes value): the person confirmed another number.
    NUMBER_CHANGED = "number_changed", _("Number changed")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")


class OptInStatus(models.TextChoices):
    """State of one web double opt-in (Add Participant) request."""

    REQUESTED = "requested", _("Requested, not yet sent to Vibes")
    PENDING = "pending", _("Waiting for the subscriber's reply")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected by the subscriber")
    FAILED = "failed", _("Refused by Vibes")
    EXPIRED = "expired", _("Expired")


class NumberChangeStatus(models.TextChoices):
    """State of one change of a person's confirmed number to another."""

    PENDING = "pending", _("Waiting for the new number's reply")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("The new number said no")
    EXPIRED = "expired", _("The new number never answered")
    CANCELLED = "cancelled", _("Replaced or cancelled")
    CONFLICT = "conflict", _("The new number belongs to another person")
