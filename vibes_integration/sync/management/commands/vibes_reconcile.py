"""``python manage.py vibes_reconcile``: compare persons with Vibes and repair the drift."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from crm.models import Person
from vibes_integration.sync.drift import Repair
from vibes_integration.sync.progress import ProgressBar, quiet_call_log
from vibes_integration.sync.reconcile import ReconcileSummary, persons_to_compare, reconcile


def parse_since(value: str) -> datetime.datetime:
    """``2026-03-01``, ``2026-03-01T12:00``, or a duration back from now: ``6h``, ``2d``."""
    text = value.strip()
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1:] in units:
        return timezone.now() - datetime.timedelta(seconds=int(text[:-1]) * units[text[-1]])
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is not None:
            moment = datetime.datetime.combine(day, datetime.time.min)
    if moment is None:
        raise CommandError(
            _(
                "--since %(value)s is not a date (2026-03-01), a time (2026-03-01T12:00) or a "
                "duration (6h, 2d)."
            )
            % {"value": value}
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return moment


def difference_line(person: Person, repair: Repair, *, applied: bool, dry_run: bool) -> str:
    """One line per difference: who, what differs, which side is right, what is done."""
    action = repair.action or _("repair")
    if repair.apply is None:
        verdict = _("--repair changes nothing")
    elif dry_run:
        verdict = _("--repair would %(action)s") % {"action": action}
    elif applied:
        verdict = _("repaired: %(action)s") % {"action": action}
    else:
        verdict = _("not repaired")
    right = repair.right or (_("a person must decide") if repair.apply is None else "")
    judged = f"{right}; {verdict}" if right else verdict
    return f"{person.external_person_id}: {repair.description} [{judged}]"


class Command(BaseCommand):
    help = (
        "Compare persons and their subscriptions with Vibes and repair drift, such as "
        "callbacks lost while the endpoint was down. Prints every difference and what was "
        "done about it; --dry-run only prints."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since",
            help="Only persons whose record, subscriptions or opt-ins changed since then "
            "(a date, a time, or 6h / 2d back from now), and those with an open opt-in. "
            "A STOP texted while callbacks were lost changes nothing in the CRM: to find "
            "those, run without --since.",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--dry-run",
            action="store_true",
            help="Print each difference, which side is right and what --repair would do; "
            "change nothing.",
        )
        mode.add_argument(
            "--repair",
            action="store_true",
            help="Repair what can be repaired (the default without --dry-run).",
        )

    def handle(self, *args, **options) -> None:
        with quiet_call_log(options["verbosity"]):
            self._run(**options)

    def _run(self, *, since: str | None, dry_run: bool, **options) -> None:
        moment = parse_since(since) if since else None
        total = persons_to_compare(moment).count()
        if not total:
            self.stdout.write(_("No person to compare."))
            return
        bar = ProgressBar(total, self.stderr, label=_("Comparing with Vibes "))

        def report(person: Person, repair: Repair, applied: bool) -> None:
            self.stdout.write(difference_line(person, repair, applied=applied, dry_run=dry_run))

        def progress(summary: ReconcileSummary) -> None:
            bar.update(summary.compared)

        summary = reconcile(since=moment, dry_run=dry_run, on_repair=report, on_progress=progress)
        bar.finish()
        counts = summary.counts
        self.stdout.write(
            _(
                "Compared %(compared)d persons: %(agree)d in agreement, %(repaired)d "
                "repaired (%(repairs)d changes), %(reported)d with differences only a person "
                "can settle, %(skipped)d skipped (work still pending), %(errors)d not "
                "reachable in Vibes."
            )
            % {
                "compared": summary.compared,
                "agree": counts["in_agreement"],
                "repaired": counts["persons_repaired"],
                "repairs": counts["repairs"],
                "reported": counts["persons_reported"],
                "skipped": counts["skipped_pending"],
                "errors": counts["errors"],
            }
        )
        if dry_run:
            self.stdout.write(_("Dry run: nothing was changed."))
