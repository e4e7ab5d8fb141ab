"""The callback log: every delivery Vibes made to us, exactly as it arrived.

A ``CallbackEvent`` is written by the callback view in the request (one INSERT) and is
never deleted: it is the evidence of what Vibes told us and the unit that processing,
retries and replays work on. Columns that the request does not know yet (the parsed
payload, the person and list it concerns) are filled in when the event is processed, so
that staff can search the log by person, number or list.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.phone import mask_mdn

EVENT_ID_MAX_LENGTH = 200
CALLBACK_TYPE_MAX_LENGTH = 64


class CallbackStatus(models.TextChoices):
    RECEIVED = "received", _("Received, not processed yet")
    PROCESSED = "processed", _("Applied")
    STALE = "stale", _("Older than what is applied; changed nothing")
    IGNORED = "ignored", _("Nothing to apply")
    INVALID = "invalid", _("Not a body we understand")
    FAILED = "failed", _("Failed; will be retried")
    RESOLVED = "resolved", _("Resolved by staff")


class CallbackEvent(models.Model):
    # Unique together with callback_type (Meta.constraints), not alone: Vibes does not
    # show event ids to be unique across callback types.
    event_id = models.CharField(
        _("event id"),
        max_length=EVENT_ID_MAX_LENGTH,
        help_text=_(
            "Vibes' event_id, or sha256:<hash of the body> when the body has none. "
            "A second delivery of the same type with the same id is accepted and not "
            "applied again."
        ),
    )
    callback_type = models.CharField(
        _("callback type"),
        max_length=CALLBACK_TYPE_MAX_LENGTH,
        blank=True,
        db_index=True,
        help_text=_("As Vibes sent it (callback_type, or the older event_type)."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CallbackStatus.choices,
        default=CallbackStatus.RECEIVED,
    )
    body = models.TextField(_("raw body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    method = models.CharField(_("HTTP method"), max_length=8, blank=True)
    remote_addr = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    authenticated_as = models.CharField(
        _("authenticated as"),
        max_length=150,
        blank=True,
        help_text=_("How the request proved it came from Vibes: a Basic user, a token, or open."),
    )
    delivery_attempt = models.PositiveIntegerField(
        _("first delivery attempt"),
        null=True,
        blank=True,
        help_text=_("Vibes' delivery_attempt on the delivery that was stored."),
    )
    deliveries = models.PositiveIntegerField(
        _("deliveries"),
        default=1,
        help_text=_("How many times Vibes delivered this event (duplicates included)."),
    )
    # Not indexed: the log is listed and processed in arrival order (``id``), which the
    # primary key serves; an index on the time would be one more entry per delivery.
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    # Not PositiveBigIntegerField: its CHECK would make adding the column read the log.
    truncated_from_bytes = models.BigIntegerField(
        _("body truncated from (bytes)"),
        null=True,
        blank=True,
        help_text=_(
            "Empty when the whole body is kept. Otherwise the size the body had: it was "
            "larger than VIBES_CALLBACK_MAX_BODY_BYTES and only its start is kept."
        ),
    )

    payload = models.JSONField(_("parsed body"), null=True, blank=True)
    event_date = models.DateTimeField(_("event date"), null=True, blank=True)
    person = models.ForeignKey(
        "crm.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index in Meta: NULL until processed
    )
    subscription_list = models.ForeignKey(
        "crm.SubscriptionList",
        verbose_name=_("subscription list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index in Meta: NULL until processed
    )
    person_key = models.CharField(_("Vibes person key"), max_length=64, blank=True)
    external_person_id = models.CharField(_("external person id"), max_length=128, blank=True)
    mdn = models.CharField(_("mobile number"), max_length=32, blank=True)
    list_id = models.CharField(_("Vibes list id"), max_length=64, blank=True)

    attempts = models.PositiveIntegerField(_("processing attempts"), default=0)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    notes = models.JSONField(
        _("notes"),
        default=list,
        blank=True,
        help_text=_("What processing skipped or noticed, e.g. custom fields the CRM lacks."),
    )

    class Meta:
        verbose_name = _("callback event")
        verbose_name_plural = _("callback events")
        ordering = ["-id"]  # arrival order, newest first
        permissions = [
            ("replay_callbackevent", _("Can replay callback events")),
            ("resolve_callbackevent", _("Can mark callback events resolved, with a note")),
        ]
        # Every index is work for the INSERT each delivery makes. Columns that processing
        # fills in later are indexed only where they hold something, so a new row (where
        # they are empty) adds no entry to them. Status has two partial indexes: the
        # events waiting for processing (small, in the order processing claims them) and
        # the settled ones that need a look (failed, invalid, stale, ignored, resolved);
        # "processed", most of the table, needs none (the newest come first by ``id``).
        constraints = [
            # A delivery's identity: (callback_type, event_id). Its index also serves
            # lookups by event id alone (the leading column).
            models.UniqueConstraint(
                fields=["event_id", "callback_type"], name="vibes_cb_event_identity"
            ),
        ]
        indexes = [
            models.Index(
                fields=["person_key"], name="vibes_cb_person_key_set", condition=~Q(person_key="")
            ),
            models.Index(
                fields=["external_person_id"],
                name="vibes_cb_external_id_set",
                condition=~Q(external_person_id=""),
            ),
            models.Index(fields=["mdn"], name="vibes_cb_mdn_set", condition=~Q(mdn="")),
            models.Index(
                fields=["person"], name="vibes_cb_person_set", condition=Q(person__isnull=False)
            ),
            models.Index(
                fields=["subscription_list"],
                name="vibes_cb_list_set",
                condition=Q(subscription_list__isnull=False),
            ),
            models.Index(
                fields=["id"], name="vibes_cb_waiting", condition=Q(status=CallbackStatus.RECEIVED)
            ),
            models.Index(
                fields=["status", "id"],
                name="vibes_cb_settled_status",
                condition=~Q(status__in=[CallbackStatus.RECEIVED, CallbackStatus.PROCESSED]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.callback_type or _('unknown type')} {self.event_id}"

    @property
    def body_truncated(self) -> bool:
        return self.truncated_from_bytes is not None

    @property
    def masked_mdn(self) -> str:
        return mask_mdn(self.mdn)


class CallbackWatermark(models.Model):
    """What the receiver must remember about one person or list to apply events in order.

    Vibes delivers out of order, so a person or list event older than the newest one
    already applied must change nothing: ``event_date`` is that newest date. The CRM's
    own changes to a person (preference center, staff, imports) are remembered per field
    in ``local_changes``, so that a Vibes event older than such a change does not
    overwrite it with what Vibes knew before. Both live here so that the CRM's models
    stay free of integration bookkeeping. Subscriptions need neither: the CRM keeps their
    ``event_date`` itself.
    """

    subject = models.CharField(
        _("subject"),
        max_length=100,
        unique=True,
        help_text=_("person:<CRM person id> or list:<Vibes list id>."),
    )
    event_date = models.DateTimeField(_("last applied event date"), null=True, blank=True)
    callback_event = models.ForeignKey(
        CallbackEvent,
        verbose_name=_("last applied callback event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    local_changes = models.JSONField(
        _("changes made in the CRM"),
        default=dict,
        blank=True,
        help_text=_("Field name → when it was last changed other than by a callback."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("callback watermark")
        verbose_name_plural = _("callback watermarks")

    def __str__(self) -> str:
        return self.subject


class RequestedTestEvent(models.Model):
    """A test event we asked Vibes to send (``vibes_callbacks test``).

    Vibes fills test events with sample data (a person called ``test-person``, a real
    list): applying one would put a made-up person in the CRM and its consent ledger.
    Processing keeps such an event in the log and applies nothing.
    """

    event_id = models.CharField(_("event id"), max_length=EVENT_ID_MAX_LENGTH, unique=True)
    callback_type = models.CharField(_("callback type"), max_length=CALLBACK_TYPE_MAX_LENGTH)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)

    class Meta:
        verbose_name = _("requested test event")
        verbose_name_plural = _("requested test events")

    def __str__(self) -> str:
        return f"{self.callback_type} {self.event_id}"


class RegistrationTarget(models.TextChoices):
    LIST = "list", _("Subscription list")
    CAMPAIGN = "campaign", _("Acquisition campaign")


class RegistrationJobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Being sent")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Nothing to do")
    FAILED = "failed", _("Failed")


class RegistrationJob(models.Model):
    """Vibes must (un)register our callbacks for one list or one campaign.

    Written in the transaction that creates or deletes the list (or gives it a new
    acquisition campaign), so it exists exactly when that change does; the worker then
    makes Vibes' registrations match the CRM for that one list or campaign
    (``registration_jobs``). A failure that may pass is retried with backoff; one that
    will not stays ``failed`` for staff, with Vibes' answer.
    """

    target = models.CharField(_("target"), max_length=16, choices=RegistrationTarget.choices)
    target_id = models.CharField(_("Vibes id"), max_length=64)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RegistrationJobStatus.choices,
        default=RegistrationJobStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_expires_at = models.DateTimeField(_("claimed until"), null=True, blank=True)
    result = models.TextField(
        _("result"), blank=True, help_text=_("What Vibes answered, one line per registration.")
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("callback registration job")
        verbose_name_plural = _("callback registration jobs")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="vibes_cb_regjob_due"),
        ]
        constraints = [
            # Coalescing: while one job for a target waits, another adds nothing.
            models.UniqueConstraint(
                fields=["target", "target_id"],
                condition=Q(status="pending"),
                name="vibes_cb_one_pending_regjob",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} {self.target_id} ({self.get_status_display()})"
