"""The permissions of a staff page that shows records and changes none of them.

Audit records and logs (the consent ledger, subscriptions, callback and webhook logs, the
sync's outbox) are read in the admin and changed only by the code that keeps them: one
mixin says so for every such page, model admin or inline alike.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyPermissions:
    """Staff may look, filter and search; nobody adds, changes or deletes here.

    ``obj`` is optional on all three so that the mixin fits a model admin (which Django
    asks ``has_add_permission(request)``) and an inline (asked with the parent object).
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
