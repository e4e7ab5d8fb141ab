"""What callback processing and the registration jobs announce, for ``tasks`` to schedule.

Processing records on the event's row what is to happen next (``next_attempt_at``); the row
is the record and a task is only the nudge. Processing does not enqueue tasks itself, since
the tasks run processing: it sends ``retry_due`` in its transaction and ``tasks`` enqueues
the retry there, so the failure and its retry commit (or roll back) together.
"""

from django.dispatch import Signal

#: A failed attempt was recorded; the event is to be attempted again.
#: Arguments: ``callback_event_id``, ``attempt`` (the number of the next attempt), ``run_after``.
retry_due = Signal()

#: Callback registration jobs are due: now (``run_after`` None) or at ``run_after`` (a retry).
registration_jobs_due = Signal()
