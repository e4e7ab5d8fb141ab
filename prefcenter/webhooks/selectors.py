"""Reads of the webhooks' models that the publishing path makes."""

from __future__ import annotations

from django.db import transaction

from prefcenter.webhooks.models import WebhookEndpoint
from prefcenter.webhooks.tasks import pending_on_commit


def forget_endpoints() -> None:
    """Read the endpoints again at the next event (after a commit, or a change to them)."""
    transaction.get_connection().webhook_endpoints = None


def endpoints_in_transaction() -> list[WebhookEndpoint]:
    """The registered endpoints (id and event types), read once per transaction.

    Callback processing applies up to a hundred events in one transaction and each may
    announce a change: one query for the batch rather than one per event. The list is
    kept on the connection until the transaction ends (a commit runs the hook that
    forgets it; a rollback drops the hook, and the list is read again).
    """
    connection = transaction.get_connection()
    cached = getattr(connection, "webhook_endpoints", None)
    if cached is not None and pending_on_commit(connection, forget_endpoints):
        return cached
    endpoints = list(WebhookEndpoint.objects.only("pk", "event_types"))
    if connection.in_atomic_block:
        connection.webhook_endpoints = endpoints
        transaction.on_commit(forget_endpoints)
    return endpoints
