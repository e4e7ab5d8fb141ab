"""``python manage.py vibes_catalog``: the subscription lists and campaigns, from Vibes."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from vibes_integration.catalogue import FLAGGED, catalogue_read, catalogue_sync
from vibes_integration.client import VibesClient
from vibes_integration.errors import VibesError


class Command(BaseCommand):
    help = (
        "Read Vibes' subscription lists and their acquisition campaigns. `list` prints them; "
        "`sync` creates the lists the CRM lacks and takes names, campaigns and keywords from "
        "Vibes, leaving what staff set for subscribers alone (--dry-run: only print)."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Print Vibes' lists and their active campaigns.")
        sync = sub.add_parser("sync", help="Create or update the CRM's lists from Vibes.")
        sync.add_argument(
            "--dry-run", action="store_true", help="Print what would change; change nothing."
        )

    def handle(self, *args, action: str, dry_run: bool = False, **options) -> None:
        client = VibesClient.from_settings()
        try:
            if action == "list":
                self._list(client)
            else:
                self._sync(client, dry_run)
        except VibesError as exc:
            raise CommandError(
                _("Vibes could not be read: %(error)s. Nothing was changed.") % {"error": exc}
            ) from exc

    def _list(self, client: VibesClient) -> None:
        lists = catalogue_read(client)
        if not lists:
            self.stdout.write(_("Vibes has no subscription list."))
        for entry in lists:
            campaigns = ", ".join(
                f"{campaign_id} ({keyword})" if keyword else campaign_id
                for campaign_id, keyword in entry.campaigns
            )
            self.stdout.write(f"{entry.list_id}\t{entry.name}\t{campaigns or _('no campaign')}")

    def _sync(self, client: VibesClient, dry_run: bool) -> None:
        report = catalogue_sync(client=client, dry_run=dry_run)
        for line in report.lines:
            self.stdout.write(line.message)
        self.stdout.write(report.summary)
        if dry_run:
            self.stdout.write(_("Dry run: nothing was changed."))
        if report.count(FLAGGED):
            self.stderr.write(
                _("Some lists need staff: see the lines above (the admin's list page too).")
            )
