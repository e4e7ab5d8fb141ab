"""The callback log in the admin: every delivery as received, read-only, with replay.

Callback registration jobs (a list or campaign whose registrations Vibes must get) are
listed read-only too, with what Vibes answered and a "Run again" action.

Numbers are masked in the list; the detail page shows the raw body pretty-printed, the
headers, what processing did and, for a failure, the error and traceback. "Replay"
processes the chosen events again (after a fix); "Mark resolved" takes failed, invalid or
stuck events off the list of problems once staff dealt with them by hand: it first asks
for a note (what was done, and why), which is kept with who resolved the event and when.
Each action has its own permission (``vibes_callbacks.replay_callbackevent``,
``vibes_callbacks.resolve_callbackevent``).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from crm.admin.confirmation import (
    ActionConfirmation,
    ConfirmationRow,
    action_confirmed,
    change_url,
    confirmation_form,
    render_action_confirmation,
    shown_rows,
)
from crm.admin.read_only import ReadOnlyPermissions
from vibes_integration.callbacks import selectors
from vibes_integration.callbacks.models import CallbackEvent, RegistrationJob
from vibes_integration.callbacks.registration_jobs import registration_jobs_retry
from vibes_integration.callbacks.services import (
    STUCK_AFTER,
    callback_event_replay,
    callback_event_resolvable,
    callback_event_resolve,
)

REPLAY_PERMISSION = "vibes_callbacks.replay_callbackevent"
RESOLVE_PERMISSION = "vibes_callbacks.resolve_callbackevent"


class ResolveNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("What was done about these events, and why. Kept with each event."),
        error_messages={"required": _("Write a note: what was done, and why.")},
    )


def pretty_json(text: str) -> str:
    """The body indented for reading; a body that is not JSON is shown as it came."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=False)
    except ValueError:
        return text


@admin.register(CallbackEvent)
class CallbackEventAdmin(ReadOnlyPermissions, admin.ModelAdmin):
    list_display = (
        "received",
        "callback_type",
        "status",
        "event_id",
        "person",
        "masked_number",
        "list_id",
        "deliveries",
        "attempts",
    )
    list_filter = ("status", "callback_type", "received_at")
    list_select_related = ("person",)
    # No date hierarchy: listing which dates hold events reads the whole log on every page
    # view. The "received" filter's ranges are recent, found first in arrival order.
    search_fields = ("event_id",)
    search_help_text = _(
        "An event id, a number in any format, a Vibes person key, an external id or a list id."
    )
    show_full_result_count = False
    actions = ("replay", "mark_resolved")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "event_id",
                    "callback_type",
                    "status",
                    "event_date",
                    "received_at",
                    "processed_at",
                    "attempts",
                    "next_attempt_at",
                    "deliveries",
                    "delivery_attempt",
                )
            },
        ),
        (
            _("About"),
            {
                "fields": (
                    "person",
                    "person_key",
                    "external_person_id",
                    "mdn",
                    "subscription_list",
                    "list_id",
                    "notes_display",
                )
            },
        ),
        (_("Problem"), {"fields": ("error", "traceback_display")}),
        (
            _("Request"),
            {
                "fields": (
                    "method",
                    "remote_addr",
                    "authenticated_as",
                    "headers_display",
                    "truncated_from_bytes",
                    "body_display",
                )
            },
        ),
    )

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm(REPLAY_PERMISSION)

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm(RESOLVE_PERMISSION)

    def get_readonly_fields(self, request, obj=None):
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    @admin.display(description=_("received"), ordering="id")
    def received(self, obj: CallbackEvent):
        """Sorted by arrival (the primary key), which the time follows, with no index on it."""
        return obj.received_at

    @admin.display(description=_("number"), ordering="mdn")
    def masked_number(self, obj: CallbackEvent) -> str:
        return obj.masked_mdn

    @admin.display(description=_("raw body"))
    def body_display(self, obj: CallbackEvent) -> str:
        return format_html('<pre class="vibes-callback-body">{}</pre>', pretty_json(obj.body))

    @admin.display(description=_("headers"))
    def headers_display(self, obj: CallbackEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2))

    @admin.display(description=_("traceback"))
    def traceback_display(self, obj: CallbackEvent) -> str:
        return format_html("<pre>{}</pre>", obj.traceback) if obj.traceback else "-"

    @admin.display(description=_("notes"))
    def notes_display(self, obj: CallbackEvent) -> str:
        return "\n".join(obj.notes or []) or "-"

    def get_search_results(self, request, queryset, search_term):
        return selectors.callback_event_search(search_term, queryset), False

    @admin.action(description=_("Replay the selected callback events"), permissions=["replay"])
    def replay(self, request, queryset):
        if not self.has_replay_permission(request):
            raise PermissionDenied
        count = callback_event_replay(callback_events=list(queryset))
        self.message_user(
            request,
            ngettext(
                "%(count)d callback event will be processed again.",
                "%(count)d callback events will be processed again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Mark the selected callback events resolved"), permissions=["resolve"]
    )
    def mark_resolved(self, request, queryset):
        if not self.has_resolve_permission(request):
            raise PermissionDenied
        form = confirmation_form(request, ResolveNoteForm)
        if not (action_confirmed(request) and form.is_valid()):
            return self._resolve_confirmation(request, queryset, form)
        selected = list(queryset)
        count = callback_event_resolve(
            callback_events=selected,
            by=request.user.get_username(),
            note=form.cleaned_data["note"],
        )
        skipped = len(selected) - count
        self.message_user(
            request,
            ngettext(
                "%(count)d callback event marked resolved.",
                "%(count)d callback events marked resolved.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d event was skipped: only failed, invalid or stuck events "
                    "are resolved.",
                    "%(count)d events were skipped: only failed, invalid or stuck events "
                    "are resolved.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    def _resolve_confirmation(self, request, queryset, form):
        now = timezone.now()
        total = queryset.count()
        rows = [
            ConfirmationRow(
                label=str(event),
                url=change_url(self, event),
                details=[
                    event.get_status_display(),
                    gettext("received %(when)s")
                    % {"when": timezone.localtime(event.received_at).strftime("%Y-%m-%d %H:%M")},
                    event.masked_mdn or gettext("no number"),
                    gettext("can be resolved")
                    if callback_event_resolvable(event, now=now)
                    else gettext("will be left as it is"),
                ],
            )
            for event in shown_rows(queryset)
        ]
        minutes = int(STUCK_AFTER.total_seconds() // 60)
        confirmation = ActionConfirmation(
            title=gettext("Mark callback events resolved"),
            question=ngettext(
                "Mark %(count)d callback event resolved?",
                "Mark %(count)d callback events resolved?",
                total,
            )
            % {"count": total},
            total=total,
            rows=rows,
            consequences=[
                gettext(
                    "Failed and invalid events, and events still waiting %(minutes)d minutes "
                    "after they arrived, are marked resolved: they are no longer retried or "
                    "counted as problems. Other events are left as they are."
                )
                % {"minutes": minutes},
                gettext("Your note, your user name and the time are kept with each event."),
            ],
            confirm_label=gettext("Mark resolved"),
            form=form,
        )
        return render_action_confirmation(self, request, confirmation, action="mark_resolved")


@admin.register(RegistrationJob)
class RegistrationJobAdmin(admin.ModelAdmin):
    list_display = ("target", "target_id", "status", "attempts", "next_attempt_at", "finished_at")
    list_filter = ("status", "target")
    search_fields = ("target_id",)
    readonly_fields = [f.name for f in RegistrationJob._meta.fields]
    actions = ("run_again",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_rerun_permission(self, request) -> bool:
        return request.user.has_perm("vibes_callbacks.change_registrationjob")

    @admin.action(
        description=_("Run the selected failed or skipped jobs again"), permissions=["rerun"]
    )
    def run_again(self, request, queryset):
        if not self.has_rerun_permission(request):
            raise PermissionDenied
        count = registration_jobs_retry(jobs=list(queryset))
        self.message_user(
            request,
            ngettext(
                "%(count)d registration job queued.", "%(count)d registration jobs queued.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )
