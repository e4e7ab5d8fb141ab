"""The email that carries a person's preference-center link."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from crm.models import Person
from prefcenter.conf import setting
from prefcenter.preferences.tokens import preference_url


def send_link_email(person: Person) -> bool:
    """Email ``person`` a fresh link; False when they have no email address."""
    if not person.email:
        return False
    context = {
        "person": person,
        "url": preference_url(person),
        "brand_name": setting("PREFCENTER_BRAND_NAME"),
        "max_age_days": max(1, setting("PREFCENTER_LINK_MAX_AGE") // 86400),
    }
    subject = render_to_string("preferences/email/link_subject.txt", context)
    body = render_to_string("preferences/email/link_body.txt", context)
    send_mail(
        " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [person.email],
        fail_silently=False,
    )
    return True
