"""Notifications out: signed webhooks that tell the brand's own systems what changed.

Receivers of ``crm.signals`` write an event (``WebhookMessage``) and one delivery per
subscribed endpoint in the service's transaction; the task worker sends them, signed as
the Standard Webhooks specification describes, with retries, and logs every attempt.
"""
