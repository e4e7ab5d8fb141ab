import io
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from crm.models import Person
from prefcenter.preferences import admin_actions
from prefcenter.preferences.tokens import InvalidLink, resolve_token
from tests.fixtures.builders import make_person

LINK = re.compile(r"https?://[^/\s]+/preferences/([^/\s]+)/")


def _command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("prefcenter_link", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_a_working_link(newcomer, settings):
    settings.SITE_URL = "https://prefs.example.com"
    out, err = _command(newcomer.external_person_id)
    match = LINK.fullmatch(out.strip())
    assert match and out.startswith("https://prefs.example.com/preferences/")
    assert resolve_token(match.group(1)) == newcomer
    assert "Valid until" in err


def test_the_command_takes_a_base_url(newcomer):
    out, _ = _command(newcomer.external_person_id, "--base-url", "http://localhost:8000/")
    assert out.startswith("http://localhost:8000/preferences/")


def test_the_command_can_revoke_earlier_links(newcomer):
    old, _ = _command(newcomer.external_person_id)
    new, err = _command(newcomer.external_person_id, "--revoke")
    with pytest.raises(InvalidLink):
        resolve_token(LINK.fullmatch(old.strip()).group(1))
    assert resolve_token(LINK.fullmatch(new.strip()).group(1)) == newcomer
    assert "Earlier links of this person no longer work." in err


def test_the_command_explains_bad_input(newcomer):
    with pytest.raises(CommandError, match="No person has the external id 'nobody'"):
        _command("nobody")
    with pytest.raises(CommandError, match="is not an http"):
        _command(newcomer.external_person_id, "--base-url", "ftp://x")


def _admin_request(user):
    request = RequestFactory().post("/admin/crm/person/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.fixture
def staff(db):
    user = User.objects.create_user("staff", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_person"))
    return User.objects.get(pk=user.pk)


def test_copy_links_shows_each_persons_link_to_staff(staff, newcomer, subscriber):
    request = _admin_request(staff)
    model_admin = admin.ModelAdmin(Person, admin.site)
    admin_actions.copy_preference_links(model_admin, request, Person.objects.all())
    messages = [str(m) for m in get_messages(request)]
    assert len(messages) == 2
    resolved = {resolve_token(LINK.search(m).group(1)) for m in messages}
    assert resolved == {newcomer, subscriber}
    assert any(newcomer.external_person_id in m for m in messages)


def test_copy_links_is_capped(staff, monkeypatch, db):
    monkeypatch.setattr(admin_actions, "MAX_LINKS_SHOWN", 2)
    for i in range(3):
        make_person(first_name=f"P{i}")
    request = _admin_request(staff)
    model_admin = admin.ModelAdmin(Person, admin.site)
    admin_actions.copy_preference_links(model_admin, request, Person.objects.all())
    messages = [str(m) for m in get_messages(request)]
    assert len(messages) == 3
    assert messages[-1].startswith("Only the first 2 links are shown.")


def test_email_links_queues_one_email_per_person_with_an_address(
    staff, newcomer, run_link_emails, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    no_email = make_person(first_name="Silent")
    request = _admin_request(staff)
    model_admin = admin.ModelAdmin(Person, admin.site)
    admin_actions.email_preference_links(
        model_admin, request, Person.objects.filter(pk__in=[newcomer.pk, no_email.pk])
    )
    messages = [str(m) for m in get_messages(request)]
    assert messages == [
        "Queued 1 link email; the task worker sends it.",
        "1 selected person has no email address and got no link.",
    ]
    assert run_link_emails() == 1
    [message] = mail.outbox
    assert message.to == ["grace@example.com"]
    assert resolve_token(LINK.search(message.body).group(1)) == newcomer


def test_both_actions_need_the_permission_to_change_persons(db):
    for action in (admin_actions.copy_preference_links, admin_actions.email_preference_links):
        assert action.allowed_permissions == ["change"]
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_person"))
    request = _admin_request(User.objects.get(pk=viewer.pk))
    model_admin = admin.ModelAdmin(Person, admin.site)
    model_admin.actions = [admin_actions.copy_preference_links]
    assert "copy_preference_links" not in model_admin.get_actions(request)


def test_the_command_gives_the_first_demo_persons_link(db):
    with pytest.raises(CommandError, match="The demo is not loaded"):
        _command("--demo")
    demo = make_person(external_person_id="demo-0001", first_name="Demo")
    out, _ = _command("--demo")
    assert resolve_token(LINK.fullmatch(out.strip()).group(1)) == demo
    with pytest.raises(CommandError, match="either an external person id or --demo"):
        _command()
    with pytest.raises(CommandError, match="either an external person id or --demo"):
        _command("demo-0001", "--demo")
