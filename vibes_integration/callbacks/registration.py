"""Registering our endpoint with Vibes' callbacks API, so that running it twice is harmless.

Vibes keeps one registration per callback type per company. Subscription and acquisition
callbacks can be narrowed to one list or campaign; without that filter they come for
every list and campaign, which is what the CRM needs, so that is the default. Where an
account must filter (``per_list``), one registration per list or campaign is asked for,
and Vibes' answer to each (a conflict when it allows only one) is reported as it is.

The registered URL is ``VIBES_CALLBACK_BASE_URL``, with the first
``VIBES_CALLBACK_CREDENTIALS`` pair put in it as ``user:password@`` (Vibes sends it back
as HTTP Basic). Registrations are compared without that part, so a password rotation
updates the registration instead of adding one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from crm.models import SubscriptionList
from vibes_integration.callbacks.events import HANDLED_TYPES, CallbackType
from vibes_integration.client import VibesClient
from vibes_integration.conf import get_setting
from vibes_integration.errors import VibesError

LIST_FILTERED = (CallbackType.SUBSCRIPTION_ADDED, CallbackType.SUBSCRIPTION_REMOVED)
CAMPAIGN_FILTERED = (CallbackType.ACK_PARTICIPANT_ADDED, CallbackType.ACK_PARTICIPANT_CHANGED)


@dataclass(frozen=True)
class Wanted:
    callback_type: str
    list_id: str | None = None
    campaign_id: str | None = None

    @property
    def label(self) -> str:
        if self.list_id:
            return f"{self.callback_type} (list {self.list_id})"
        if self.campaign_id:
            return f"{self.callback_type} (campaign {self.campaign_id})"
        return self.callback_type


@dataclass(frozen=True)
class Outcome:
    wanted: Wanted
    action: str  # "registered", "unchanged", "updated", "conflict", "failed"
    callback_id: str | None = None
    detail: str = ""


def callback_url() -> str:
    """The URL Vibes should call, with Basic credentials in it when they are configured."""
    base = str(get_setting("VIBES_CALLBACK_BASE_URL") or "").strip()
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"VIBES_CALLBACK_BASE_URL={base!r} is not an http(s) URL. Set it to the public "
            "URL of /vibes/callbacks/ (with the path token when VIBES_CALLBACK_TOKENS is set)."
        )
    credentials = get_setting("VIBES_CALLBACK_CREDENTIALS")
    if credentials and not parts.username:
        user, password = credentials[0]
        netloc = f"{quote(str(user), safe='')}:{quote(str(password), safe='')}@{parts.netloc}"
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def without_credentials(url: str) -> str:
    parts = urlsplit(url or "")
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc.lower()))


def mask_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.password is None:
        return url
    netloc = f"{parts.username}:•••@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc))


def wanted_registrations(*, per_list: bool = False) -> list[Wanted]:
    wanted = []
    list_ids = list(SubscriptionList.objects.order_by("list_id").values_list("list_id", flat=True))
    campaign_ids = sorted(
        set(
            SubscriptionList.objects.exclude(acquisition_campaign_id="").values_list(
                "acquisition_campaign_id", flat=True
            )
        )
    )
    for callback_type in HANDLED_TYPES:
        if per_list and callback_type in LIST_FILTERED and list_ids:
            wanted.extend(Wanted(str(callback_type), list_id=list_id) for list_id in list_ids)
        elif per_list and callback_type in CAMPAIGN_FILTERED and campaign_ids:
            wanted.extend(Wanted(str(callback_type), campaign_id=c) for c in campaign_ids)
        else:
            wanted.append(Wanted(str(callback_type)))
    return wanted


def registration_filter(registration: dict) -> tuple[str | None, str | None]:
    narrowed = registration.get(registration.get("callback_type") or "") or {}
    if not isinstance(narrowed, dict):
        return None, None
    list_id = narrowed.get("list_id")
    campaign_id = narrowed.get("campaign_id")
    return (str(list_id) if list_id else None, str(campaign_id) if campaign_id else None)


def _matches(registration: dict, wanted: Wanted) -> bool:
    return registration.get("callback_type") == wanted.callback_type and registration_filter(
        registration
    ) == (wanted.list_id, wanted.campaign_id)


def register_all(
    client: VibesClient,
    *,
    method: str = "POST",
    content_type: str = "application/json",
    per_list: bool = False,
    replace: bool = False,
) -> list[Outcome]:
    """Make Vibes call us for every handled type; returns what happened to each.

    A registration that already points at us with the same method and content type is
    left alone; one that points at us differently is updated; one that points elsewhere
    is only replaced with ``replace`` (another system may be listening there).
    """
    url = callback_url()
    ours = without_credentials(url)
    existing = client.list_callbacks()
    outcomes = []
    for wanted in wanted_registrations(per_list=per_list):
        same_type = [r for r in existing if r.get("callback_type") == wanted.callback_type]
        found = next((r for r in same_type if _matches(r, wanted)), None)
        if found is None and not per_list and len(same_type) == 1:
            found = same_type[0]  # one per type: the filter is ours to widen
        outcomes.append(
            _register_one(
                client,
                wanted,
                found,
                url=url,
                ours=ours,
                method=method,
                content_type=content_type,
                replace=replace,
            )
        )
    return outcomes


def _register_one(
    client: VibesClient,
    wanted: Wanted,
    found: dict | None,
    *,
    url: str,
    ours: str,
    method: str,
    content_type: str,
    replace: bool,
) -> Outcome:
    try:
        if found is None:
            created = client.register_callback(
                wanted.callback_type,
                url=url,
                method=method,
                content_type=content_type,
                list_id=wanted.list_id,
                campaign_id=wanted.campaign_id,
            )
            return Outcome(wanted, "registered", str(created.get("callback_id") or ""))
        destination = found.get("destination") or {}
        points_at_us = without_credentials(destination.get("url", "")) == ours
        if not points_at_us and not replace:
            return Outcome(
                wanted,
                "conflict",
                str(found.get("callback_id")),
                f"already registered to {mask_url(destination.get('url', ''))}; "
                "use --replace to point it here",
            )
        unchanged = (
            points_at_us
            and destination.get("url") == url
            and str(destination.get("method", "POST")).upper() == method
            and str(destination.get("content_type", "application/json")).lower() == content_type
            and _matches(found, wanted)
        )
        if unchanged:
            return Outcome(wanted, "unchanged", str(found.get("callback_id")))
        client.update_callback(
            str(found["callback_id"]),
            callback_type=wanted.callback_type,
            url=url,
            method=method,
            content_type=content_type,
            list_id=wanted.list_id,
            campaign_id=wanted.campaign_id,
        )
        return Outcome(wanted, "updated", str(found.get("callback_id")))
    except VibesError as exc:
        return Outcome(wanted, "failed", None, _vibes_message(exc))


def ours_only(registrations: Iterable[dict]) -> list[dict]:
    ours = without_credentials(callback_url())
    return [
        r
        for r in registrations
        if without_credentials((r.get("destination") or {}).get("url", "")) == ours
    ]


def _vibes_message(exc: VibesError) -> str:
    messages = [str(e.get("message")) for e in exc.errors if e.get("message")]
    return f"Vibes answered {exc.status}: " + ("; ".join(messages) or str(exc) or "no message")
