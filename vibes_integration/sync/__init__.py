"""The outbound sync: CRM changes reach Vibes through an outbox. Receivers of the CRM's
signals write one ``Operation`` per person to send, in the change's transaction; the task
worker claims due operations, plans and makes the calls under the shared rate limit, and
records each answer. Also the sweep, the backfill and the reconcile commands, and the sync
dashboard."""
