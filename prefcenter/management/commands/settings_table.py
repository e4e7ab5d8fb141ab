"""Write the configuration tables of README.md and docs/*.md from the settings registry."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from prefcenter.settings_registry import docs


class Command(BaseCommand):
    help = (
        "Check that the configuration tables in README.md and docs/*.md match the settings "
        "registry (prefcenter/settings_registry/); --write rewrites them."
    )
    requires_system_checks = []  # it reads the registry, not the configuration

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="Rewrite the stale tables.")

    def handle(self, *args, write: bool = False, **options):
        root = Path(settings.BASE_DIR)
        if write:
            for path in docs.write(root):
                self.stdout.write(f"rewrote {path.relative_to(root)}")
            return
        stale = docs.stale(root)
        if stale:
            names = ", ".join(str(path.relative_to(root)) for path in stale)
            raise CommandError(
                f"Configuration tables differ from the registry in {names}; "
                "run python manage.py settings_table --write."
            )
        self.stdout.write("The configuration tables match the settings registry.")
