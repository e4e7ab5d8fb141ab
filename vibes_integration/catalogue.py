"""The subscription list catalogue, read from Vibes rather than typed by hand.

Vibes owns which lists exist, their names and the acquisition campaigns that opt people
in to each (``GET /mobiledb/subscription_lists/`` and each list's
``acquisition_campaigns/``). Reading it creates the lists the CRM lacks (hidden from
subscribers until staff give them a disclosure), keeps each list's Vibes name, and fills
in its web opt-in campaign and keyword when staff left them empty. What staff set for
subscribers (description, disclosure, order, whether the preference center offers the
list) is never changed. A campaign id that opts in to another list, or to none, and a CRM
list that Vibes does not have, are flagged and left for staff to settle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crm import services
from crm.choices import Source
from crm.models import SubscriptionList
from vibes_integration.client import VibesClient
from vibes_integration.errors import NotFound

CREATED, UPDATED, UNCHANGED, FLAGGED = "created", "updated", "unchanged", "flagged"


@dataclass(frozen=True)
class RemoteList:
    """One list as Vibes has it, with the ids and keywords of its active campaigns."""

    list_id: str
    name: str
    campaigns: tuple[tuple[str, str], ...] = ()

    @property
    def campaign_ids(self) -> set[str]:
        return {campaign_id for campaign_id, _keyword in self.campaigns}


@dataclass(frozen=True)
class CatalogueLine:
    """What reading the catalogue did (or would do) about one list."""

    list_id: str
    outcome: str
    message: str


@dataclass
class CatalogueReport:
    lines: list[CatalogueLine] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    @property
    def summary(self) -> str:
        return _(
            "%(created)d lists created, %(updated)d updated, %(unchanged)d unchanged, "
            "%(flagged)d flagged for staff."
        ) % {
            "created": self.count(CREATED),
            "updated": self.count(UPDATED),
            "unchanged": self.count(UNCHANGED),
            "flagged": self.count(FLAGGED),
        }


def catalogue_read(client: VibesClient) -> list[RemoteList]:
    """Vibes' lists and each list's active acquisition campaigns (1 + one call per list)."""
    remote = []
    for entry in client.list_subscription_lists():
        list_id = str(entry.get("id") or "").strip()
        if not list_id:
            continue
        try:
            campaigns = client.list_acquisition_campaigns(list_id)
        except NotFound:
            campaigns = []
        remote.append(
            RemoteList(
                list_id=list_id,
                name=str(entry.get("name") or "").strip()[:200],
                campaigns=tuple(_campaign(c) for c in campaigns if _is_usable(c)),
            )
        )
    return remote


def _is_usable(campaign: dict[str, Any]) -> bool:
    status = str(campaign.get("status") or "active").lower()
    return bool(campaign.get("acquisition_id") or campaign.get("id")) and status == "active"


def _campaign(campaign: dict[str, Any]) -> tuple[str, str]:
    campaign_id = str(campaign.get("acquisition_id") or campaign.get("id"))
    keywords = (campaign.get("acquisition_campaign") or {}).get("keywords") or []
    return campaign_id, str(keywords[0]).upper() if keywords else ""


def catalogue_sync(*, client: VibesClient, dry_run: bool = False) -> CatalogueReport:
    """Read Vibes' catalogue and bring the CRM's lists in line (unless ``dry_run``)."""
    remote = catalogue_read(client)
    report = CatalogueReport()
    with transaction.atomic():
        ours = {sl.list_id: sl for sl in SubscriptionList.objects.select_for_update()}
        next_order = (SubscriptionList.objects.aggregate(top=Max("order"))["top"] or 0) + 1
        for entry in remote:
            line, created = _sync_one(entry, ours.get(entry.list_id), remote, next_order, dry_run)
            next_order += created
            report.lines.append(line)
        held = {entry.list_id for entry in remote}
        for list_id in sorted(set(ours) - held):
            report.lines.append(
                CatalogueLine(
                    list_id,
                    FLAGGED,
                    _("%(name)s (%(id)s): Vibes has no such list; staff must settle it")
                    % {"name": ours[list_id].name, "id": list_id},
                )
            )
        if dry_run:
            transaction.set_rollback(True)
    return report


def _sync_one(
    entry: RemoteList,
    subscription_list: SubscriptionList | None,
    remote: Iterable[RemoteList],
    order: int,
    dry_run: bool,
) -> tuple[CatalogueLine, int]:
    first_id, first_keyword = entry.campaigns[0] if entry.campaigns else ("", "")
    shown = {"id": entry.list_id, "name": entry.name or entry.list_id}
    if subscription_list is None:
        if not dry_run:
            services.subscription_list_upsert(
                list_id=entry.list_id,
                source=Source.VIBES,
                name=entry.name or _("List %(id)s") % {"id": entry.list_id},
                acquisition_campaign_id=first_id,
                keyword=first_keyword,
                shown_in_preference_center=False,
                order=order,
            )
        message = _("%(name)s (%(id)s): created, hidden until staff add a disclosure") % shown
        return CatalogueLine(entry.list_id, CREATED, message), 1
    problem = campaign_problem(
        subscription_list.acquisition_campaign_id, list_id=entry.list_id, remote=remote
    )
    values: dict[str, Any] = {}
    if entry.name and entry.name != subscription_list.name:
        values["name"] = entry.name
    if not subscription_list.acquisition_campaign_id and first_id:
        values["acquisition_campaign_id"] = first_id
    if not subscription_list.keyword and first_keyword:
        values["keyword"] = first_keyword
    if values and not dry_run:
        services.subscription_list_upsert(list_id=entry.list_id, source=Source.VIBES, **values)
    if problem:
        return CatalogueLine(
            entry.list_id, FLAGGED, f"{shown['name']} ({entry.list_id}): {problem}"
        ), 0
    if values:
        changed = ", ".join(sorted(values))
        message = _("%(name)s (%(id)s): took %(fields)s from Vibes") % {**shown, "fields": changed}
        return CatalogueLine(entry.list_id, UPDATED, message), 0
    return CatalogueLine(entry.list_id, UNCHANGED, _("%(name)s (%(id)s): as in Vibes") % shown), 0


def campaign_problem(campaign_id: str, *, list_id: str, remote: Iterable[RemoteList]) -> str:
    """Why ``campaign_id`` cannot opt people in to ``list_id`` per Vibes, or ``""``."""
    if not campaign_id:
        return ""
    remote = list(remote)
    for entry in remote:
        if entry.list_id == list_id and campaign_id in entry.campaign_ids:
            return ""
    for entry in remote:
        if campaign_id in entry.campaign_ids:
            return _(
                "campaign %(campaign)s opts in to list %(other)s, not this one: a web opt-in "
                "here would join the wrong list"
            ) % {"campaign": campaign_id, "other": entry.list_id}
    return _("campaign %(campaign)s is not an active campaign of this list in Vibes") % {
        "campaign": campaign_id
    }


def catalogue_check_ids(
    *, client: VibesClient, list_id: str, acquisition_campaign_id: str
) -> dict[str, str]:
    """Problems with ids staff typed, by field name (empty: Vibes agrees). Raises
    ``VibesError`` other than ``NotFound`` when Vibes cannot be asked."""
    try:
        client.get_subscription_list(list_id)
    except NotFound:
        return {"list_id": _("Vibes has no subscription list %(id)s.") % {"id": list_id}}
    if not acquisition_campaign_id:
        return {}
    try:
        campaigns = client.list_acquisition_campaigns(list_id)
    except NotFound:
        campaigns = []
    entry = RemoteList(list_id, "", tuple(_campaign(c) for c in campaigns if _is_usable(c)))
    if acquisition_campaign_id in entry.campaign_ids:
        return {}
    return {
        "acquisition_campaign_id": _(
            "Campaign %(campaign)s is not an active acquisition campaign of list %(id)s in "
            "Vibes (its campaigns: %(known)s)."
        )
        % {
            "campaign": acquisition_campaign_id,
            "id": list_id,
            "known": ", ".join(sorted(entry.campaign_ids)) or _("none"),
        }
    }
