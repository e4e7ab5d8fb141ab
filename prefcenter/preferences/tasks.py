"""Link emails, sent by the task worker rather than inside the web request.

The "send me my link" form enqueues one task whatever address it is given, so its answer
and its timing are the same for known and unknown addresses, and a slow mail server never
holds a web request.
"""

from __future__ import annotations

from django_tasks import task

from crm.models import Person
from prefcenter.preferences.emails import send_link_email

MAX_PERSONS_PER_ADDRESS = 5


@task()
def email_links_for_address(email: str) -> int:
    """Email a link to each person (at most a few) who uses ``email``; returns how many."""
    persons = Person.objects.filter(email__iexact=email.strip()).order_by("id")[
        :MAX_PERSONS_PER_ADDRESS
    ]
    return sum(1 for person in persons if send_link_email(person))


@task()
def email_link_to_person(person_id: int) -> bool:
    person = Person.objects.filter(pk=person_id).first()
    return person is not None and send_link_email(person)
