"""``manage.py prefcenter_link <external_person_id>``: print a person's preference link."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crm import services
from crm.demo.loader import demo_external_id
from crm.models import Person
from prefcenter.conf import setting
from prefcenter.preferences.tokens import preference_url


class Command(BaseCommand):
    help = (
        "Print the signed preference-center link of the person with this external id. "
        "With --revoke, every link issued before stops working first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "external_person_id", nargs="?", default=None, help="The CRM's id of the person."
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="The link of the first demo person (after `manage.py load_demo`).",
        )
        parser.add_argument(
            "--base-url",
            default=None,
            help="Site address to put in front of the link (default: SITE_URL).",
        )
        parser.add_argument(
            "--revoke",
            action="store_true",
            help="Revoke every earlier link of this person before making the new one.",
        )

    def handle(self, *args, **options) -> None:
        external_person_id = (options["external_person_id"] or "").strip()
        if options["demo"] == bool(external_person_id):
            raise CommandError("Give either an external person id or --demo.")
        if options["demo"]:
            external_person_id = demo_external_id(0)
        person = Person.objects.filter(external_person_id=external_person_id).first()
        if person is None and options["demo"]:
            raise CommandError("The demo is not loaded: run `python manage.py load_demo` first.")
        if person is None:
            raise CommandError(f"No person has the external id {external_person_id!r}.")
        base_url = options["base_url"]
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise CommandError(f"--base-url {base_url!r} is not an http(s) address.")
        if options["revoke"]:
            person = services.person_rotate_link_secret(person=person)
            self.stderr.write("Earlier links of this person no longer work.")
        self.stdout.write(preference_url(person, base_url=base_url))
        expires = timezone.now() + datetime.timedelta(seconds=setting("PREFCENTER_LINK_MAX_AGE"))
        self.stderr.write(f"Valid until {expires:%Y-%m-%d %H:%M} UTC.")
