"""``python manage.py vibes_backfill``: send every person Vibes does not know yet."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from vibes_integration.sync.backfill import BackfillSummary, backfill, persons_to_send
from vibes_integration.sync.models import BackfillCheckpoint
from vibes_integration.sync.progress import ProgressBar, quiet_call_log
from vibes_integration.sync.tasks import default_worker_name


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number above zero")
    return number


class Command(BaseCommand):
    help = (
        "Send every person Vibes does not know yet (no Vibes person key) to Vibes: Update "
        "Person, then Add Person where Vibes answers 404. --all sends everyone. An "
        "interrupted run resumes where it stopped; --restart starts over."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--all", action="store_true", dest="everyone", help="Send every person."
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="Ignore where an interrupted run stopped and start from the first person.",
        )
        parser.add_argument(
            "--chunk-size",
            type=_positive,
            default=500,
            help="Persons read and queued at a time (default 500).",
        )

    def handle(self, *args, **options) -> None:
        with quiet_call_log(options["verbosity"]):
            self._run(**options)

    def _run(self, *, everyone: bool, restart: bool, chunk_size: int, **options) -> None:
        name = "everyone" if everyone else "unknown"
        checkpoint = BackfillCheckpoint.objects.filter(name=name).first()
        if checkpoint and checkpoint.last_person_id and not restart:
            self.stdout.write(
                _("Resuming an interrupted backfill after person id %(id)d.")
                % {"id": checkpoint.last_person_id}
            )
        start = 0 if restart or checkpoint is None else checkpoint.last_person_id
        total = persons_to_send(everyone=everyone).filter(id__gt=start).count()
        if not total:
            BackfillCheckpoint.objects.filter(name=name).delete()
            self.stdout.write(_("Nothing to send: Vibes knows every person."))
            return
        bar = ProgressBar(total, self.stderr, label=_("Sending to Vibes "))
        bar.update(0)

        def progress(summary: BackfillSummary) -> None:
            bar.update(summary.processed)

        try:
            summary = backfill(
                everyone=everyone,
                restart=restart,
                chunk_size=chunk_size,
                worker=f"backfill@{default_worker_name()}",
                on_progress=progress,
            )
        except KeyboardInterrupt:
            bar.finish(_("interrupted"))
            raise CommandError(
                _("Interrupted. Run the same command again to resume where it stopped.")
            ) from None
        bar.finish()
        self._print_summary(summary)

    def _print_summary(self, summary: BackfillSummary) -> None:
        counts = summary.counts
        lines = [
            _("Persons processed: %(n)d of %(total)d")
            % {"n": summary.processed, "total": summary.total},
            _("  added to Vibes: %(n)d") % {"n": counts["vibes_created"]},
            _("  linked to an existing Vibes person of the same number: %(n)d")
            % {"n": counts["vibes_merged"]},
            _("  updated (Vibes knew them): %(n)d") % {"n": counts["vibes_updated"]},
            _("  conflicts (see the sync dashboard): %(n)d") % {"n": counts["conflict"]},
            _("  failed (see the sync dashboard): %(n)d") % {"n": counts["failed"]},
            _("  left to the worker (retrying, or being sent elsewhere): %(n)d")
            % {"n": summary.left_to_worker},
            _("Calls to Vibes: %(n)d") % {"n": summary.calls},
        ]
        self.stdout.write("\n".join(lines))
