"""Who is calling and what they may do: API keys as bearer tokens, and per-method scopes."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from prefcenter.api.keys import api_key_check, api_key_mark_used
from prefcenter.api.models import ApiClient, ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer pck_...``; the request's user is the ``ApiClient``."""

    keyword = "Bearer"

    def authenticate(self, request) -> tuple[ApiClient, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the key as 'Authorization: Bearer <key>', with no spaces in the key."
            )
        try:
            plaintext = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The key is not valid.") from exc
        api_key = api_key_check(plaintext)
        if api_key is None:
            raise exceptions.AuthenticationFailed("The key is not valid, or it was revoked.")
        api_key_mark_used(api_key=api_key)
        return api_key.client, api_key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class HasScope(BasePermission):
    """The view's ``required_scopes`` maps each HTTP method to the scope it needs."""

    message = "This key's client lacks the scope this operation needs."

    def has_permission(self, request, view) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return False
        scope = view.required_scopes.get(request.method)
        if scope is None and request.method in ("HEAD", "OPTIONS"):
            scope = view.required_scopes.get("GET")
        if scope is None:
            return True
        if not client.has_scope(scope):
            self.message = f"This key's client lacks the scope {scope}."
            return False
        return True


class IsStaffOrApiClient(BasePermission):
    """For the schema and its pages: signed-in staff, or any valid key."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, ApiClient):
            return True
        return bool(user and getattr(user, "is_staff", False) and user.is_active)
