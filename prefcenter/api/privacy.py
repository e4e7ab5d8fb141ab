"""Erasure and access requests (scope ``privacy``).

The data-subject requests themselves (erasure, access export, and their status) are built
with the privacy work of the product; their API operations go into ``urlpatterns`` below,
under ``/api/v1/privacy/``, guarded by ``Scope.PRIVACY`` like every other operation here.
Until then the address answers 404 in problem details, as any unknown API address does.
"""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
