"""Staff pages for API clients and their keys.

A key's plaintext is rendered once, in the answer to the request that made it (never put
in a message, a session or a log), and cannot be shown again: a lost key is revoked and
replaced.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from prefcenter.api.keys import IssuedKey, api_key_issue, api_key_revoke
from prefcenter.api.models import ApiClient, ApiKey
from prefcenter.api.scopes import Scope


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiClient
        fields = ["name", "description", "scopes", "rate", "is_active"]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _show_keys(request: HttpRequest, modeladmin, issued: list[IssuedKey]) -> HttpResponse:
    response = TemplateResponse(
        request,
        "admin/prefcenter_api/key_issued.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("New API key"),
            "issued": issued,
            "opts": modeladmin.model._meta,
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@admin.action(description=_("Issue a new key (shown once)"), permissions=["change"])
def issue_key(modeladmin, request: HttpRequest, queryset) -> HttpResponse:
    issued = [api_key_issue(client=client) for client in queryset]
    return _show_keys(request, modeladmin, issued)


@admin.action(description=_("Revoke every key of the selected clients"), permissions=["change"])
def revoke_client_keys(modeladmin, request: HttpRequest, queryset) -> None:
    _revoke(modeladmin, request, ApiKey.objects.filter(client__in=queryset, revoked_at=None))


def _revoke(modeladmin, request: HttpRequest, keys) -> None:
    """Revoke each key through the service and tell staff how many were revoked."""
    count = 0
    for api_key in keys:
        api_key_revoke(api_key=api_key)
        count += 1
    modeladmin.message_user(
        request,
        ngettext("%(n)d key revoked.", "%(n)d keys revoked.", count) % {"n": count},
        messages.SUCCESS,
    )


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = ["name", "scope_list", "is_active", "last_used_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "last_used_at"]
    inlines = [ApiKeyInline]
    actions = [issue_key, revoke_client_keys]

    @admin.display(description=_("scopes"))
    def scope_list(self, client: ApiClient) -> str:
        return ", ".join(client.scopes or [])

    def response_add(self, request: HttpRequest, obj: ApiClient, post_url_continue=None):
        """A new client gets its first key at once, shown on the page that answers."""
        return _show_keys(request, self, [api_key_issue(client=obj)])


@admin.action(description=_("Revoke the selected keys"), permissions=["change"])
def revoke_keys(modeladmin, request: HttpRequest, queryset) -> None:
    _revoke(modeladmin, request, queryset.filter(revoked_at=None))


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "client", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["client"]
    search_fields = ["prefix", "client__name"]
    readonly_fields = ["client", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = readonly_fields
    actions = [revoke_keys]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
