"""``python manage.py ensure_admin``: make sure a staff superuser exists to log in with.

``make run`` calls it on every start. The password comes from the environment
(``PREFCENTER_ADMIN_PASSWORD``) or is generated once and printed once: nothing secret
is stored in the repository or in a file.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from prefcenter.conf import setting


class Command(BaseCommand):
    help = (
        "Create the admin user if it does not exist (password from PREFCENTER_ADMIN_PASSWORD "
        "or generated and printed once) and print how to log in. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--username",
            default=setting("PREFCENTER_ADMIN_USERNAME"),
            help="Default: PREFCENTER_ADMIN_USERNAME or 'admin'.",
        )
        parser.add_argument(
            "--email",
            default=setting("PREFCENTER_ADMIN_EMAIL"),
            help="Default: PREFCENTER_ADMIN_EMAIL.",
        )

    def handle(self, *args, username: str, email: str, **options):
        username = username.strip()
        if not username:
            raise CommandError("The admin username cannot be empty.")
        password = setting("PREFCENTER_ADMIN_PASSWORD") or None
        User = get_user_model()
        login_url = f"{settings.SITE_URL}/admin/"
        with transaction.atomic():
            user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
            if user is None:
                self._create(User, username, email, password, login_url)
                return
            if password and not user.check_password(password):
                self._validate(password, user)
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(
                    f"Admin user {username!r}: password set from PREFCENTER_ADMIN_PASSWORD."
                )
        if not (user.is_active and user.is_staff):
            self.stderr.write(
                f"Admin user {username!r} exists but is inactive or not staff; "
                "it cannot log in. Change it in the admin or with 'manage.py changepassword'."
            )
        self.stdout.write(f"Admin user {username!r} exists. Log in at {login_url}")

    def _create(self, User, username: str, email: str, password: str | None, login_url: str):
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(15)
        user = User(**{User.USERNAME_FIELD: username}, email=email)
        self._validate(password, user)
        User.objects.create_superuser(
            **{User.USERNAME_FIELD: username}, email=email, password=password
        )
        self.stdout.write(self.style.SUCCESS(f"Created admin user {username!r}."))
        if generated:
            self.stdout.write(
                f"Password: {password}\n"
                "It is shown this once and stored nowhere else; set "
                "PREFCENTER_ADMIN_PASSWORD or run 'manage.py changepassword' to choose one."
            )
        self.stdout.write(f"Log in at {login_url}")

    def _validate(self, password: str, user) -> None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(
                "PREFCENTER_ADMIN_PASSWORD is not accepted: " + " ".join(exc.messages)
            ) from exc
