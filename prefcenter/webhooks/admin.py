"""Webhook endpoints in the admin: register one (its secret is shown once), rotate the
secret, pause and resume; a paused endpoint is shown at the top of the list.

The event log (events, deliveries and their attempts, with replay) is in ``admin_log``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from prefcenter.webhooks import admin_log, services, signing  # noqa: F401 (registers the log)
from prefcenter.webhooks.choices import EventType
from prefcenter.webhooks.models import WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    # Text here; ``services.clean_url`` says which URLs are accepted (https in production).
    url = forms.CharField(label=_("URL"), max_length=2000)
    event_types = forms.MultipleChoiceField(
        label=_("Event types"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The endpoint receives events of these types."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "event_types")

    def _field_clean(self, name: str, clean, value):
        try:
            return clean(value)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[name]) from exc

    def clean_url(self):
        return self._field_clean("url", services.clean_url, self.cleaned_data.get("url"))

    def clean_event_types(self):
        return self._field_clean(
            "event_types", services.clean_event_types, self.cleaned_data.get("event_types")
        )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = (
        "__str__",
        "url",
        "status",
        "event_types_display",
        "consecutive_failures",
        "last_success_at",
    )
    list_filter = (("paused_at", admin.EmptyFieldListFilter),)
    search_fields = ("url", "description")
    actions = ("rotate_secret", "pause_endpoints", "resume_endpoints")
    readonly_fields = (
        "status",
        "secret_display",
        "previous_secret_display",
        "previous_secret_expires_at",
        "paused_at",
        "paused_reason",
        "consecutive_failures",
        "failing_since",
        "last_success_at",
        "created_at",
        "updated_at",
    )

    def get_fields(self, request, obj=None):
        editable = ["url", "description", "event_types"]
        return editable if obj is None else editable + list(self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    @admin.display(description=_("status"), ordering="paused_at")
    def status(self, obj: WebhookEndpoint) -> str:
        if obj.is_paused:
            return format_html(
                '<strong class="webhook-paused" style="color:#ba2121">{}</strong> {}',
                _("Paused"),
                obj.paused_reason,
            )
        return _("Active")

    @admin.display(description=_("event types"))
    def event_types_display(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types or [])

    @admin.display(description=_("secret"))
    def secret_display(self, obj: WebhookEndpoint) -> str:
        return signing.secret_hint(obj.secret)

    @admin.display(description=_("previous secret"))
    def previous_secret_display(self, obj: WebhookEndpoint) -> str:
        return signing.secret_hint(obj.previous_secret) or "-"

    def save_model(self, request, obj, form, change):
        """Through the services: a new endpoint gets its secret there."""
        data = form.cleaned_data
        if change:
            services.endpoint_update(
                endpoint=obj,
                url=data["url"],
                event_types=data["event_types"],
                description=data.get("description", ""),
            )
            obj.refresh_from_db()
            return
        created = services.endpoint_create(
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description", ""),
        )
        obj.pk = created.endpoint.pk
        obj.refresh_from_db()
        request._webhook_new_secrets = [created]

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets_page(request, request._webhook_new_secrets, rotated=False)

    def _secrets_page(self, request, created, *, rotated: bool):
        """The only page that ever shows a secret in full: it is not stored in a message
        or the session."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Webhook secret rotated") if rotated else _("Webhook endpoint created"),
            "created": created,
            "rotated": rotated,
        }
        response = TemplateResponse(request, "admin/webhooks/secret_shown_once.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(
        description=_("Rotate the secret of the selected endpoints"), permissions=["change"]
    )
    def rotate_secret(self, request, queryset):
        rotated = [services.endpoint_rotate_secret(endpoint=endpoint) for endpoint in queryset]
        return self._secrets_page(request, rotated, rotated=True)

    @admin.action(description=_("Pause the selected endpoints"), permissions=["change"])
    def pause_endpoints(self, request, queryset):
        reason = _("Paused by %(user)s.") % {"user": request.user.get_username()}
        count = sum(services.endpoint_pause(endpoint=e, reason=reason) for e in queryset)
        self.message_user(
            request,
            ngettext("%(count)d endpoint paused.", "%(count)d endpoints paused.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Resume the selected endpoints"), permissions=["change"])
    def resume_endpoints(self, request, queryset):
        held = sum(services.endpoint_resume(endpoint=e) for e in queryset)
        self.message_user(
            request,
            _("Resumed; %(held)d held deliveries will be sent now.") % {"held": held},
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        paused = WebhookEndpoint.objects.filter(paused_at__isnull=False)
        return super().changelist_view(
            request, {**(extra_context or {}), "paused_endpoints": list(paused)}
        )
