"""Signals that announce what a ``crm.services`` function did.

They are sent inside the service's transaction, so a receiver that writes (the outbound
sync's outbox) commits or rolls back together with the change. Receivers enqueue work;
they hold no business logic. Every signal carries ``source``: a change whose source is
``Source.VIBES`` came from a callback and must never be sent back to Vibes.
"""

from django.dispatch import Signal

# person, created: bool, changed_fields: frozenset[str], source: Source,
# previous_mdn: str | None
person_changed = Signal()

# subscription, previous_state: str, consent_event: ConsentEvent | None, source: Source
subscription_changed = Signal()

# opt_in_requests: list[OptInRequest], source: Source
opt_in_requested = Signal()

# opt_in_request, previous_status: str, source: Source
opt_in_request_changed = Signal()

# consent_event, source: Source (every append to the consent ledger)
consent_recorded = Signal()

# number_change: NumberChange (completed: Vibes must end the old number), source: Source
number_changed = Signal()

# erasure_request, person (already pseudonymised), source: Source
erasure_requested = Signal()

# erasure_request (CRM and Vibes both finished)
erasure_finished = Signal()
