"""Registering our endpoint with Vibes' callbacks API, so that running it twice is harmless.

Vibes requires a filter on subscription and acquisition callbacks: a subscription
callback is registered for one list (``list_id``), an acquisition callback for one
campaign (``campaign_id``), and Vibes delivers a list's subscription events only through
that list's registration. So the CRM asks for one registration of each subscription type
per list it knows and one of each acquisition type per campaign its lists use; person
and list-catalogue callbacks are registered once. Registrations of ours (pointing at our
URL) for lists and campaigns the CRM no longer has are removed; registrations pointing
elsewhere belong to another system and are only taken over with ``replace``.

The registered URL is ``VIBES_CALLBACK_BASE_URL``, with the first
``VIBES_CALLBACK_CREDENTIALS`` pair put in it as ``user:password@`` (Vibes sends it back
as HTTP Basic). Registrations are compared without that part, so a password rotation
updates the registration instead of adding one.

A list or campaign added later is registered by ``registration_jobs`` (a durable row
written with the list, sent by the worker), with the same rules, one target at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from crm.models import SubscriptionList
from prefcenter.conf import setting
from vibes_integration.callbacks.events import CallbackType
from vibes_integration.client import VibesClient
from vibes_integration.conf import callback_credentials
from vibes_integration.errors import VibesError

LIST_FILTERED = (CallbackType.SUBSCRIPTION_ADDED, CallbackType.SUBSCRIPTION_REMOVED)
CAMPAIGN_FILTERED = (CallbackType.ACK_PARTICIPANT_ADDED, CallbackType.ACK_PARTICIPANT_CHANGED)
UNFILTERED = (
    CallbackType.PERSON_ADDED,
    CallbackType.PERSON_UPDATED,
    CallbackType.SUBSCRIPTION_LIST_ADDED,
    CallbackType.SUBSCRIPTION_LIST_UPDATED,
)
"""Registered once per company. ``company_participant_*`` is handled when it arrives but
not asked for: the per-campaign acquisition callbacks already bring each web opt-in."""

REGISTERED_TYPES = (*LIST_FILTERED, *CAMPAIGN_FILTERED, *UNFILTERED)

PROBLEMS = frozenset({"conflict", "failed"})


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

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.callback_type, self.list_id, self.campaign_id)


@dataclass(frozen=True)
class RegistrationResult:
    """What happened to one wanted registration: registered, unchanged, updated, removed,
    or a conflict or failure to report."""

    wanted: Wanted
    action: str  # "registered", "unchanged", "updated", "removed", "conflict", "failed"
    callback_id: str | None = None
    detail: str = ""


def callback_url() -> str:
    """The URL Vibes should call, with Basic credentials in it when they are configured."""
    base = str(setting("VIBES_CALLBACK_BASE_URL") or "").strip()
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"VIBES_CALLBACK_BASE_URL={base!r} is not an http(s) URL. Set it to the public "
            "URL of /vibes/callbacks/ (with the path token when VIBES_CALLBACK_TOKENS is set)."
        )
    credentials = callback_credentials()
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


def known_list_ids() -> list[str]:
    return list(SubscriptionList.objects.order_by("list_id").values_list("list_id", flat=True))


def known_campaign_ids() -> list[str]:
    """The acquisition campaigns the CRM's lists use (each once)."""
    return sorted(
        set(
            SubscriptionList.objects.exclude(acquisition_campaign_id="").values_list(
                "acquisition_campaign_id", flat=True
            )
        )
    )


def wanted_registrations() -> list[Wanted]:
    """Every registration the CRM needs: per list, per campaign, and the unfiltered ones."""
    list_ids = known_list_ids()
    campaign_ids = known_campaign_ids()
    wanted = []
    for callback_type in LIST_FILTERED:
        wanted.extend(Wanted(str(callback_type), list_id=list_id) for list_id in list_ids)
    for callback_type in CAMPAIGN_FILTERED:
        wanted.extend(Wanted(str(callback_type), campaign_id=c) for c in campaign_ids)
    wanted.extend(Wanted(str(callback_type)) for callback_type in UNFILTERED)
    return wanted


def wanted_for(*, list_id: str | None = None, campaign_id: str | None = None) -> list[Wanted]:
    """The registrations one list or one campaign needs, if the CRM still has it."""
    if list_id is not None:
        if not SubscriptionList.objects.filter(list_id=list_id).exists():
            return []
        return [Wanted(str(t), list_id=list_id) for t in LIST_FILTERED]
    if campaign_id is not None:
        if not SubscriptionList.objects.filter(acquisition_campaign_id=campaign_id).exists():
            return []
        return [Wanted(str(t), campaign_id=campaign_id) for t in CAMPAIGN_FILTERED]
    return []


def registration_filter(registration: dict) -> tuple[str | None, str | None]:
    narrowed = registration.get(registration.get("callback_type") or "") or {}
    if not isinstance(narrowed, dict):
        return None, None
    list_id = narrowed.get("list_id")
    campaign_id = narrowed.get("campaign_id")
    return (str(list_id) if list_id else None, str(campaign_id) if campaign_id else None)


def registration_key(registration: dict) -> tuple[str, str | None, str | None]:
    list_id, campaign_id = registration_filter(registration)
    return (str(registration.get("callback_type") or ""), list_id, campaign_id)


def points_at(registration: dict, url: str) -> bool:
    destination = registration.get("destination") or {}
    return without_credentials(destination.get("url", "")) == without_credentials(url)


def register_all(
    client: VibesClient,
    *,
    method: str = "POST",
    content_type: str = "application/json",
    replace: bool = False,
) -> list[RegistrationResult]:
    """Make Vibes call us for every list, campaign and unfiltered type; returns what
    happened to each registration, removals of ours for lists and campaigns gone included.

    A registration that already points at us with the same method and content type is
    left alone; one that points at us differently (a rotated password) is updated; one
    that points elsewhere is only replaced with ``replace`` (another system may be
    listening there).
    """
    return reconcile(
        client,
        wanted_registrations(),
        in_scope=lambda key: key[0] in REGISTERED_TYPES,
        method=method,
        content_type=content_type,
        replace=replace,
    )


def register_target(
    client: VibesClient, *, list_id: str | None = None, campaign_id: str | None = None
) -> list[RegistrationResult] | None:
    """The registrations of one list or one campaign, made or removed to match the CRM.

    Method and content type follow our existing registrations (``register`` chose them).
    None when Vibes holds no registration of ours at all: callbacks were never set up
    for this site (``vibes_callbacks register``), so none is made for one list either.
    """
    existing = client.list_callbacks()
    url = callback_url()
    ours = [r for r in existing if points_at(r, url)]
    if not ours:
        return None
    destination = ours[0].get("destination") or {}

    def in_scope(key: tuple[str, str | None, str | None]) -> bool:
        if list_id is not None:
            return key[0] in LIST_FILTERED and key[1] == list_id
        return key[0] in CAMPAIGN_FILTERED and key[2] == campaign_id

    return reconcile(
        client,
        wanted_for(list_id=list_id, campaign_id=campaign_id),
        in_scope=in_scope,
        method=str(destination.get("method") or "POST").upper(),
        content_type=str(destination.get("content_type") or "application/json").lower(),
        replace=False,
        existing=existing,
    )


def reconcile(
    client: VibesClient,
    wanted: list[Wanted],
    *,
    in_scope: Callable[[tuple[str, str | None, str | None]], bool],
    method: str,
    content_type: str,
    replace: bool,
    existing: list[dict] | None = None,
) -> list[RegistrationResult]:
    """Make the registrations ``in_scope`` match ``wanted``: register what is missing,
    update ours that differ, and remove ours that nothing wants any more. Each
    registration fails alone (its outcome says why); the others are still made."""
    url = callback_url()
    if existing is None:
        existing = client.list_callbacks()
    by_key: dict[tuple, list[dict]] = {}
    for registration in existing:
        by_key.setdefault(registration_key(registration), []).append(registration)
    outcomes = []
    kept: set[str] = set()
    wanted_keys = {item.key for item in wanted}
    for item in wanted:
        same = by_key.get(item.key, [])
        found = next((r for r in same if points_at(r, url)), None) or next(iter(same), None)
        if found is not None:
            kept.add(str(found.get("callback_id")))
        outcomes.append(
            _register_one(
                client,
                item,
                found,
                url=url,
                method=method,
                content_type=content_type,
                replace=replace,
            )
        )
    for registration in existing:
        key = registration_key(registration)
        callback_id = str(registration.get("callback_id"))
        if callback_id in kept or not in_scope(key) or not points_at(registration, url):
            continue
        gone = Wanted(key[0], list_id=key[1], campaign_id=key[2])
        try:
            client.delete_callback(callback_id)
        except VibesError as exc:
            outcomes.append(RegistrationResult(gone, "failed", callback_id, _vibes_message(exc)))
        else:
            reason = (
                "a second registration of ours for the same thing"
                if gone.key in wanted_keys
                else _removal_reason(gone)
            )
            outcomes.append(RegistrationResult(gone, "removed", callback_id, reason))
    return outcomes


def _removal_reason(gone: Wanted) -> str:
    if gone.list_id:
        return "the CRM has no such list any more"
    if gone.campaign_id:
        return "no CRM list uses this campaign any more"
    if gone.callback_type in (*LIST_FILTERED, *CAMPAIGN_FILTERED):
        return "unfiltered; replaced by one registration per list or campaign"
    return "not a callback type the CRM registers"


def _register_one(
    client: VibesClient,
    wanted: Wanted,
    found: dict | None,
    *,
    url: str,
    method: str,
    content_type: str,
    replace: bool,
) -> RegistrationResult:
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
            return RegistrationResult(wanted, "registered", str(created.get("callback_id") or ""))
        destination = found.get("destination") or {}
        if not points_at(found, url) and not replace:
            return RegistrationResult(
                wanted,
                "conflict",
                str(found.get("callback_id")),
                f"already registered to {mask_url(destination.get('url', ''))}; "
                "use --replace to point it here",
            )
        unchanged = (
            destination.get("url") == url
            and str(destination.get("method", "POST")).upper() == method
            and str(destination.get("content_type", "application/json")).lower() == content_type
        )
        if unchanged:
            return RegistrationResult(wanted, "unchanged", str(found.get("callback_id")))
        client.update_callback(
            str(found["callback_id"]),
            callback_type=wanted.callback_type,
            url=url,
            method=method,
            content_type=content_type,
            list_id=wanted.list_id,
            campaign_id=wanted.campaign_id,
        )
        return RegistrationResult(wanted, "updated", str(found.get("callback_id")))
    except VibesError as exc:
        return RegistrationResult(wanted, "failed", None, _vibes_message(exc))


def missing_registrations(registrations: Iterable[dict]) -> list[Wanted]:
    """What the CRM needs that no registration of ours provides (for ``list``)."""
    url = callback_url()
    have = {registration_key(r) for r in registrations if points_at(r, url)}
    return [w for w in wanted_registrations() if w.key not in have]


def ours_only(registrations: Iterable[dict]) -> list[dict]:
    url = callback_url()
    return [r for r in registrations if points_at(r, url)]


def _vibes_message(exc: VibesError) -> str:
    messages = [str(e.get("message")) for e in exc.errors if e.get("message")]
    return f"Vibes answered {exc.status}: " + ("; ".join(messages) or str(exc) or "no message")
