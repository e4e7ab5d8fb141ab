"""``python manage.py vibes_sync``: the outbound sync's state, sweep, loop and retry."""

from __future__ import annotations

import argparse
import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections
from django.utils.translation import gettext as _

from prefcenter.conf import setting
from prefcenter.workers.heartbeat import Heartbeat, heartbeat_interval
from prefcenter.workers.models import WorkerKind
from prefcenter.workers.outage import Outage
from vibes_integration.sync.choices import OperationStatus
from vibes_integration.sync.engine import process_until_idle
from vibes_integration.sync.models import Operation
from vibes_integration.sync.progress import quiet_call_log
from vibes_integration.sync.selectors import sync_dashboard
from vibes_integration.sync.services import operations_retry
from vibes_integration.sync.sweep import sweep
from vibes_integration.sync.tasks import default_worker_name, schedule_remaining


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds above zero")
    return number


class Command(BaseCommand):
    help = (
        "Show the outbound sync's state. --sweep finds work that was never done (a lost "
        "task, a worker killed mid-call) and sends it now, in this process. --loop sweeps "
        "every VIBES_SYNC_SWEEP_INTERVAL seconds and leaves the sending to the task worker "
        "(run it beside `manage.py prefcenter_worker`). --retry-failed sends failed work again."
    )

    def add_arguments(self, parser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--sweep", action="store_true", help="Sweep once and send what is due.")
        mode.add_argument("--loop", action="store_true", help="Sweep periodically until stopped.")
        mode.add_argument(
            "--retry-failed", action="store_true", help="Send every failed operation again."
        )
        parser.add_argument(
            "--interval",
            type=_seconds,
            default=None,
            help="Seconds between sweeps with --loop (default: VIBES_SYNC_SWEEP_INTERVAL).",
        )

    def handle(self, *args, **options) -> None:
        with quiet_call_log(options["verbosity"]):
            self._run(**options)

    def _run(self, *, sweep: bool, loop: bool, retry_failed: bool, interval, **options):
        if interval is not None and not loop:
            raise CommandError(_("--interval only goes with --loop."))
        if sweep:
            self._sweep_once()
        elif loop:
            self._loop(interval or setting("VIBES_SYNC_SWEEP_INTERVAL"))
        elif retry_failed:
            failed = Operation.objects.filter(status=OperationStatus.FAILED, resolved=False)
            count = operations_retry(operation_ids=failed.values_list("pk", flat=True))
            self.stdout.write(_("%(n)d failed operations will be sent again.") % {"n": count})
        else:
            self._status()

    def _sweep_once(self) -> None:
        report = sweep(schedule=False)
        self.stdout.write(
            _(
                "Sweep: %(released)d operations taken back from workers that stopped, "
                "%(due)d due, %(expired)d lapsed opt-ins expired, %(pruned)d old records "
                "pruned."
            )
            % {
                "released": report.released,
                "due": report.due,
                "expired": report.expired_opt_ins,
                "pruned": report.pruned_operations + report.pruned_calls,
            }
        )
        summary = process_until_idle(worker=f"sweep@{default_worker_name()}")
        schedule_remaining()
        counts = summary.counts
        self.stdout.write(
            _(
                "Sent %(claimed)d operations in %(calls)d calls: %(done)d done, %(retry)d "
                "to retry later, %(failed)d failed, %(conflict)d conflicts, %(skipped)d "
                "with nothing left to send."
            )
            % {
                "claimed": summary.claimed,
                "calls": summary.calls,
                "done": counts[OperationStatus.DONE],
                "retry": counts["retry"],
                "failed": counts[OperationStatus.FAILED],
                "conflict": counts[OperationStatus.CONFLICT],
                "skipped": counts[OperationStatus.SKIPPED],
            }
        )

    def _loop(self, interval: float) -> None:
        stop = threading.Event()

        def request_stop(signum, frame) -> None:
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, request_stop)
        self.stdout.write(
            _("Sweeping every %(s)g s; the task worker sends the work. Ctrl-C stops.")
            % {"s": interval}
        )
        heartbeat = Heartbeat(WorkerKind.SWEEP)
        outage = Outage("Sweep", sleep=stop.wait)
        try:
            while not stop.is_set():
                close_old_connections()
                try:
                    heartbeat.beat()
                    report = sweep()
                except DatabaseError as exc:
                    # Logged, connections closed, a bounded wait: the next round may succeed.
                    outage.failed(exc)
                    continue
                except Exception as exc:  # keep sweeping: the next round may succeed
                    self.stderr.write(_("Sweep failed: %(error)s") % {"error": exc})
                else:
                    outage.succeeded()
                    self._report(report)
                self._wait(stop, interval, heartbeat, outage)
        finally:
            heartbeat.stop()
            close_old_connections()

    def _wait(self, stop, interval: float, heartbeat: Heartbeat, outage: Outage) -> None:
        """Sleep until the next sweep, beating on the way: an idle sweep is still alive."""
        deadline = time.monotonic() + interval
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            stop.wait(min(left, heartbeat_interval()))
            if stop.is_set() or deadline - time.monotonic() <= 0:
                return
            try:
                heartbeat.beat()
            except DatabaseError as exc:
                outage.failed(exc)

    def _report(self, report) -> None:
        if report.released or report.expired_opt_ins:
            self.stdout.write(
                _(
                    "Sweep: %(released)d operations taken back from stopped workers, "
                    "%(expired)d lapsed opt-ins expired, %(due)d due."
                )
                % {
                    "released": report.released,
                    "expired": report.expired_opt_ins,
                    "due": report.due,
                }
            )

    def _status(self) -> None:
        board = sync_dashboard()
        backlog = "n/a" if board.callback_backlog is None else str(board.callback_backlog)
        oldest = board.oldest_pending_age
        rows = [
            (_("pending"), board.pending),
            (_("being sent"), board.running),
            (_("due now"), board.due_now),
            (_("failed"), board.failed),
            (_("conflicts"), board.conflicts),
            (_("oldest pending work"), f"{oldest.total_seconds():.0f} s" if oldest else "-"),
            (_("last successful call"), board.last_success_at or "-"),
            (_("calls in the last hour"), board.calls_last_hour),
            (_("callback backlog"), backlog),
            (_("rate limit"), f"{board.rate_limit}/s ({board.rate_limiter})"),
        ]
        width = max(len(str(label)) for label, _value in rows)
        for label, value in rows:
            self.stdout.write(f"{str(label).ljust(width)}  {value}")
