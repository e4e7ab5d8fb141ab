"""``python manage.py load_demo``: the demo lists, custom fields and persons (``crm.demo``),
and with ``--sandbox`` the same world given to the local Vibes sandbox (``demo_seed``).

It lives with the Vibes integration because of that option: the CRM knows nothing of Vibes.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.demo.loader import DEFAULT_PERSONS, DemoConfigError, load_demo
from crm.demo.people import MAX_PERSONS
from vibes_integration.demo_seed import SandboxSeedError, sandbox_seed


class Command(BaseCommand):
    help = (
        "Load a realistic demo: the demo Vibes company's subscription lists and custom "
        "fields, and fictional persons with subscriptions and consent history. Running it "
        "again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--persons",
            type=int,
            default=DEFAULT_PERSONS,
            help=f"How many demo persons to have (0 to {MAX_PERSONS}; default {DEFAULT_PERSONS}).",
        )
        parser.add_argument(
            "--config",
            type=Path,
            default=None,
            help="The demo Vibes configuration (default: the sandbox's configs/demo.json).",
        )
        parser.add_argument(
            "--sandbox",
            metavar="URL",
            default=None,
            help="Also give the new demo persons, with their subscriptions and opt-ins, to the "
            "local Vibes sandbox at URL (such as http://127.0.0.1:8001), so that both sides "
            "hold the same world. Nothing is loaded when the sandbox refuses.",
        )

    def handle(self, *args, persons: int, config: Path | None, sandbox: str | None, **options):
        if not 0 <= persons <= MAX_PERSONS:
            raise CommandError(f"--persons must be between 0 and {MAX_PERSONS}, not {persons}.")
        seed = None
        if sandbox:
            if not sandbox.startswith(("http://", "https://")):
                raise CommandError(f"--sandbox {sandbox!r} is not a URL (http://host:port).")

            def seed(created):
                return sandbox_seed(persons=created, sandbox_url=sandbox)

        try:
            result = load_demo(persons=persons, config_path=config, seed=seed)
        except (DemoConfigError, SandboxSeedError) as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(f"The demo configuration is not valid: {exc}") from exc
        if not result.changed:
            self.stdout.write(f"The demo is already loaded ({result.persons_existing} persons).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: {result.lists_created} new lists, "
                f"{result.custom_fields_created} new and {result.custom_fields_updated} "
                f"updated custom fields, {result.persons_created} new persons "
                f"({result.persons_existing} were already there)."
            )
        )
