"""What an API client may do. A client holds a set of scopes; every view names the scope
each of its methods needs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    PERSONS_READ = "persons:read", _("Read persons and their subscriptions")
    PERSONS_WRITE = "persons:write", _("Create and change persons, mint preference links")
    SUBSCRIPTIONS_WRITE = "subscriptions:write", _("Ask for opt-ins and leave lists")
    CONSENT_READ = "consent:read", _("Read and export the consent ledger")
    PRIVACY = "privacy", _("Erasure and access requests")
    WEBHOOKS = "webhooks", _("Register and manage webhook endpoints (their secrets included)")
