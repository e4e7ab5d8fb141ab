"""Limits on what costs money or can be abused: confirmation texts and link emails.

Every opt-in sends a text that the brand pays for, and a form that texts any number it is
given can be used to flood numbers (SMS pumping). Two kinds of state back the limits:

- Opt-in requests are counted in the database, from the rows every request writes anyway
  (``OptInRequest`` per person and per number, ``ConsentEvent`` per client address). That
  state is shared by every web process and survives restarts without extra services, and
  it counts texts, not clicks: a form that fails validation costs nothing and counts nothing.
- Link requests leave no row, so they are counted in Django's cache (fixed windows). Local
  memory by default, which counts per process; set ``CACHE_URL`` to a Redis server so that
  all web processes share one count.
"""

from __future__ import annotations

import datetime
import hashlib
import time

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.choices import ConsentAction, Source
from crm.models import ConsentEvent, OptInRequest, Person
from prefcenter.conf import setting
from prefcenter.settings_registry.parsers import Rate

CACHE_PREFIX = "prefcenter:ratelimit"


class LimitReached(Exception):
    """A limit was hit; ``message`` is what the subscriber reads, ``scope`` which limit."""

    def __init__(self, scope: str, message: str) -> None:
        super().__init__(message)
        self.scope = scope
        self.message = message


def describe_period(seconds: int) -> str:
    if seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}


def _since(rate: Rate) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=rate.seconds)


def _opt_in_message(rate: Rate) -> str:
    return _(
        "We have sent as many confirmation texts as we can for now. Please try again in %(period)s."
    ) % {"period": describe_period(rate.seconds)}


def check_opt_in_limits(*, person: Person, mdn: str, ip_address: str | None, texts: int) -> None:
    """Raise ``LimitReached`` if sending ``texts`` more confirmation texts would pass a limit.

    Called inside the transaction that records the opt-ins: it locks the person's row first,
    so that one opt-in runs at a time per person and concurrent posts cannot both pass."""
    Person.objects.select_for_update().filter(pk=person.pk).exists()
    if texts <= 0:
        return
    source = Source.PREFERENCE_CENTER
    rate = setting("PREFCENTER_OPT_IN_LIMIT_PER_PERSON")
    if rate is not None:
        sent = OptInRequest.objects.filter(
            person=person, source=source, requested_at__gte=_since(rate)
        ).count()
        if sent + texts > rate.count:
            raise LimitReached("person", _opt_in_message(rate))
    rate = setting("PREFCENTER_OPT_IN_LIMIT_PER_NUMBER")
    if rate is not None:
        sent = OptInRequest.objects.filter(
            mdn=mdn, source=source, requested_at__gte=_since(rate)
        ).count()
        if sent + texts > rate.count:
            raise LimitReached(
                "number",
                _(
                    "This number has been sent as many confirmation texts as we allow. "
                    "Please try again in %(period)s."
                )
                % {"period": describe_period(rate.seconds)},
            )
    rate = setting("PREFCENTER_OPT_IN_LIMIT_PER_ADDRESS")
    if rate is not None and ip_address:
        sent = ConsentEvent.objects.filter(
            ip_address=ip_address,
            action=ConsentAction.OPT_IN_REQUESTED,
            source=source,
            occurred_at__gte=_since(rate),
        ).count()
        if sent + texts > rate.count:
            raise LimitReached("address", _opt_in_message(rate))


def _hit(key: str, rate: Rate) -> int:
    """Count one event in the current fixed window and return the window's count."""
    window = int(time.time()) // rate.seconds
    cache_key = f"{CACHE_PREFIX}:{key}:{rate.seconds}:{window}"
    if cache.add(cache_key, 1, timeout=rate.seconds + 1):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:
        # The window expired between add and incr: this hit opens the next one.
        cache.set(cache_key, 1, timeout=rate.seconds + 1)
        return 1


def _digest(value: str) -> str:
    """Cache keys carry no address or email in clear."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def hit_link_request_limits(*, ip_address: str | None, email: str) -> None:
    """Count one "send me my link" request; raise ``LimitReached`` when over a limit.

    The message is the same whether the address is known or not, so a limit reveals
    nothing about who is a subscriber.
    """
    rate = setting("PREFCENTER_LINK_LIMIT_PER_ADDRESS")
    if (
        rate is not None
        and ip_address
        and _hit(f"link:ip:{_digest(ip_address)}", rate) > rate.count
    ):
        raise LimitReached(
            "address",
            _("Too many link requests from your network. Please try again in %(period)s.")
            % {"period": describe_period(rate.seconds)},
        )
    rate = setting("PREFCENTER_LINK_LIMIT_PER_EMAIL")
    normalized = email.strip().lower()
    if (
        rate is not None
        and normalized
        and _hit(f"link:email:{_digest(normalized)}", rate) > rate.count
    ):
        raise LimitReached(
            "email",
            _(
                "A link for this address was asked for several times already. Please check "
                "your inbox and spam folder, or try again in %(period)s."
            )
            % {"period": describe_period(rate.seconds)},
        )
