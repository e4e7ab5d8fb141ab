"""The webhook event log in the admin: events, deliveries and every attempt, read-only,
with "send again" behind a permission of its own (``webhooks.replay_webhookmessage``)."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin.read_only import ReadOnlyPermissions
from prefcenter.webhooks import services
from prefcenter.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookMessage


class ReadOnlyMixin(ReadOnlyPermissions):
    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.replay_webhookmessage")


class DeliveryInline(ReadOnlyMixin, admin.TabularInline):
    model = WebhookDelivery
    fields = ("endpoint", "state", "attempts", "last_status_code", "next_attempt_at", "replay")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def has_view_permission(self, request, obj=None):
        """Whoever may read an event reads where it went."""
        return request.user.has_perm("webhooks.view_webhookmessage")


class AttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = (
        "number",
        "made_at",
        "status_code",
        "outcome",
        "duration_ms",
        "error",
        "response_excerpt",
        "next_retry_at",
    )
    readonly_fields = fields
    extra = 0

    def has_view_permission(self, request, obj=None):
        """Whoever may read a delivery reads its attempts."""
        return request.user.has_perm("webhooks.view_webhookdelivery")


def _replayed(model_admin, request, count: int) -> None:
    model_admin.message_user(
        request,
        ngettext(
            "%(count)d delivery will be sent again.",
            "%(count)d deliveries will be sent again.",
            count,
        )
        % {"count": count},
        messages.SUCCESS,
    )


@admin.register(WebhookMessage)
class WebhookMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("message_id", "event_type", "created_at", "delivery_count")
    list_filter = ("event_type", "created_at")
    search_fields = ("message_id",)
    show_full_result_count = False
    fields = ("message_id", "event_type", "created_at", "payload_display")
    readonly_fields = fields
    inlines = (DeliveryInline,)
    actions = ("replay",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(delivery_total=Count("deliveries"))

    @admin.display(description=_("deliveries"), ordering="delivery_total")
    def delivery_count(self, obj: WebhookMessage) -> int:
        return obj.delivery_total

    @admin.display(description=_("payload"))
    def payload_display(self, obj: WebhookMessage) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.action(
        description=_("Send the selected events again to their endpoints"), permissions=["replay"]
    )
    def replay(self, request, queryset):
        count = sum(len(services.message_replay(message=message)) for message in queryset)
        _replayed(self, request, count)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "message",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "replay",
        "created_at",
    )
    list_filter = ("state", "endpoint", "replay")
    list_select_related = ("message", "endpoint")
    search_fields = ("message__message_id",)
    show_full_result_count = False
    fields = (
        "message",
        "endpoint",
        "state",
        "replay",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields
    inlines = (AttemptInline,)
    actions = ("replay_deliveries",)

    @admin.action(
        description=_("Send the selected deliveries' events again"), permissions=["replay"]
    )
    def replay_deliveries(self, request, queryset):
        count = 0
        for delivery in queryset.select_related("message", "endpoint"):
            count += len(
                services.message_replay(message=delivery.message, endpoints=[delivery.endpoint])
            )
        _replayed(self, request, count)
