"""``python manage.py vibes_callbacks register|list|delete|test|replay``.

- ``register``: make Vibes call our endpoint: subscription callbacks once per list,
  acquisition callbacks once per campaign, person and list-catalogue callbacks once;
  ours for lists and campaigns that are gone are removed; running it again changes
  nothing.
- ``list``: the registrations Vibes holds for this company (passwords masked), and the
  lists and campaigns that lack one of ours.
- ``delete``: remove registrations by id, or every one pointing at us (``--ours``).
- ``test``: make Vibes send its test event of one type, and wait for it to arrive.
- ``replay``: process stored events again (by event id, failed ones, or ones stuck).
"""

from __future__ import annotations

import time

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from vibes_integration.callbacks import registration, selectors
from vibes_integration.callbacks.events import HANDLED_TYPES
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus, RequestedTestEvent
from vibes_integration.callbacks.services import callback_event_replay
from vibes_integration.client import VibesClient
from vibes_integration.errors import VibesError

TYPES = [str(t) for t in HANDLED_TYPES]


class Command(BaseCommand):
    help = "Manage Vibes callback registrations and the callback log."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        register = actions.add_parser("register", help="Register our endpoint with Vibes.")
        register.add_argument("--method", choices=["POST", "PUT"], default="POST")
        register.add_argument(
            "--content-type", choices=["application/json", "text/json"], default="application/json"
        )
        register.add_argument(
            "--replace",
            action="store_true",
            help="Also take over registrations that point at another URL.",
        )

        actions.add_parser("list", help="Show the registrations Vibes holds.")

        delete = actions.add_parser("delete", help="Delete registrations.")
        delete.add_argument("callback_ids", nargs="*", metavar="CALLBACK_ID")
        delete.add_argument("--ours", action="store_true", help="Every one pointing at us.")

        test = actions.add_parser("test", help="Make Vibes send a test event.")
        test.add_argument("callback_type", nargs="?", default="subscription_added", choices=TYPES)
        test.add_argument("--list-id", help="List for subscription test events.")
        test.add_argument("--campaign-id", help="Campaign for acquisition test events.")
        test.add_argument(
            "--wait",
            type=float,
            default=10.0,
            help="Seconds to wait for the event to arrive (0: do not wait).",
        )

        replay = actions.add_parser("replay", help="Process stored callback events again.")
        replay.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
        replay.add_argument("--failed", action="store_true", help="Every failed event.")
        replay.add_argument("--invalid", action="store_true", help="Every invalid event.")
        replay.add_argument(
            "--stuck",
            type=float,
            metavar="MINUTES",
            help="Events still unprocessed this many minutes after they arrived.",
        )

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(options)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except VibesError as exc:
            raise CommandError(registration._vibes_message(exc)) from exc

    def _register(self, options) -> None:
        client = VibesClient.from_settings()
        url = registration.callback_url()
        self.stdout.write(f"Callback URL: {registration.mask_url(url)}")
        outcomes = registration.register_all(
            client,
            method=options["method"],
            content_type=options["content_type"],
            replace=options["replace"],
        )
        for outcome in outcomes:
            line = f"{outcome.action:>10}  {outcome.wanted.label}"
            if outcome.callback_id:
                line += f"  (callback {outcome.callback_id})"
            if outcome.detail:
                line += f": {outcome.detail}"
            style = self.style.ERROR if outcome.action in registration.PROBLEMS else str
            self.stdout.write(style(line))
        problems = [o for o in outcomes if o.action in registration.PROBLEMS]
        if problems:
            raise CommandError(f"{len(problems)} registration(s) could not be made; see above.")
        created = sum(1 for o in outcomes if o.action == "registered")
        removed = sum(1 for o in outcomes if o.action == "removed")
        there = len(outcomes) - created - removed
        self.stdout.write(
            self.style.SUCCESS(f"Done: {created} new, {there} already there, {removed} removed.")
        )

    def _list(self, options) -> None:
        client = VibesClient.from_settings()
        registrations = client.list_callbacks()
        try:
            ours = {r.get("callback_id") for r in registration.ours_only(registrations)}
            missing = registration.missing_registrations(registrations)
        except ImproperlyConfigured as exc:
            ours, missing = set(), []
            self.stdout.write(self.style.WARNING(f"Cannot tell which are ours: {exc}"))
        if not registrations:
            self.stdout.write("No callbacks are registered.")
        for item in registrations:
            destination = item.get("destination") or {}
            list_id, campaign_id = registration.registration_filter(item)
            narrowed = f" list={list_id}" if list_id else ""
            narrowed += f" campaign={campaign_id}" if campaign_id else ""
            self.stdout.write(
                f"{item.get('callback_id'):>6}  {item.get('callback_type')}{narrowed}  "
                f"{destination.get('method', 'POST')} {destination.get('content_type', '')}  "
                f"{registration.mask_url(destination.get('url', ''))}"
                + ("  (ours)" if item.get("callback_id") in ours else "")
            )
        self._report_missing(missing)

    def _report_missing(self, missing: list[registration.Wanted]) -> None:
        if not missing:
            self.stdout.write("Every list and campaign the CRM knows has its registrations.")
            return
        lists = sorted({w.list_id for w in missing if w.list_id})
        campaigns = sorted({w.campaign_id for w in missing if w.campaign_id})
        if lists:
            self.stdout.write(self.style.WARNING(f"Lists without ours: {', '.join(lists)}"))
        if campaigns:
            self.stdout.write(self.style.WARNING(f"Campaigns without ours: {', '.join(campaigns)}"))
        for wanted in missing:
            self.stdout.write(self.style.WARNING(f"   missing  {wanted.label}"))
        self.stdout.write("Run `vibes_callbacks register` to make them.")

    def _delete(self, options) -> None:
        client = VibesClient.from_settings()
        ids = list(options["callback_ids"])
        if options["ours"]:
            ids += [str(r["callback_id"]) for r in registration.ours_only(client.list_callbacks())]
        if not ids:
            raise CommandError("Name the callback ids to delete, or use --ours.")
        for callback_id in dict.fromkeys(ids):
            client.delete_callback(callback_id)
            self.stdout.write(f"Deleted callback {callback_id}.")

    def _test(self, options) -> None:
        client = VibesClient.from_settings()
        callback_type = options["callback_type"]
        list_id, campaign_id = self._test_filter(
            callback_type, options["list_id"], options["campaign_id"]
        )
        answer = client.create_test_callback_event(
            callback_type, list_id=list_id, campaign_id=campaign_id
        )
        event_id = str(answer.get("event_id") or "")
        if not event_id:
            raise CommandError(f"Vibes queued the test event but named no event id: {answer}")
        RequestedTestEvent.objects.get_or_create(
            event_id=event_id, defaults={"callback_type": callback_type}
        )
        self.stdout.write(f"Vibes queued test event {event_id} ({callback_type}).")
        if options["wait"] <= 0:
            return
        deadline = time.monotonic() + options["wait"]
        while time.monotonic() < deadline:
            event = CallbackEvent.objects.filter(event_id=event_id).first()
            if event is not None:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Received at {event.received_at:%Y-%m-%d %H:%M:%S} UTC and stored "
                        f"(authenticated as {event.authenticated_as})."
                    )
                )
                return
            time.sleep(0.2)
        raise CommandError(
            f"Test event {event_id} did not arrive within {options['wait']:g} s. Check the "
            "registration (vibes_callbacks list), VIBES_CALLBACK_BASE_URL and the site's log."
        )

    @staticmethod
    def _test_filter(
        callback_type: str, list_id: str | None, campaign_id: str | None
    ) -> tuple[str | None, str | None]:
        """Vibes sends a subscription test event through one list's registration and an
        acquisition one through one campaign's: the first the CRM knows, unless named."""
        if callback_type in registration.LIST_FILTERED and not list_id:
            list_id = next(iter(registration.known_list_ids()), None)
            if list_id is None:
                raise CommandError(f"Name the list to test {callback_type} on: --list-id.")
        if callback_type in registration.CAMPAIGN_FILTERED and not campaign_id:
            campaign_id = next(iter(registration.known_campaign_ids()), None)
            if campaign_id is None:
                raise CommandError(f"Name the campaign to test {callback_type} on: --campaign-id.")
        return list_id, campaign_id

    def _replay(self, options) -> None:
        if not (options["event_ids"] or options["failed"] or options["invalid"]) and (
            options["stuck"] is None
        ):
            raise CommandError("Name event ids, or use --failed, --invalid or --stuck MINUTES.")
        events = CallbackEvent.objects.none()
        if options["event_ids"]:
            found = selectors.callback_events_by_id(options["event_ids"])
            missing = set(options["event_ids"]) - set(found.values_list("event_id", flat=True))
            if missing:
                raise CommandError(f"No callback event with id: {', '.join(sorted(missing))}.")
            events |= found
        if options["failed"]:
            events |= selectors.callback_events_with_status(CallbackStatus.FAILED)
        if options["invalid"]:
            events |= selectors.callback_events_with_status(CallbackStatus.INVALID)
        if options["stuck"] is not None:
            events |= selectors.callback_events_stuck(options["stuck"])
        count = callback_event_replay(callback_events=events.distinct().order_by("pk"))
        self.stdout.write(
            self.style.SUCCESS(f"{count} callback event(s) queued to be processed again.")
        )
