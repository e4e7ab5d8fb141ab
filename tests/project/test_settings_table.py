"""The configuration tables of README.md and docs/*.md are the settings registry's."""

import dataclasses

from django.core.management import call_command
from django.core.management.base import CommandError

from prefcenter.settings_registry import SETTINGS, docs
from tests.project.conftest import ROOT


def test_the_readme_and_docs_tables_match_the_registry():
    stale = [str(path.relative_to(ROOT)) for path in docs.stale(ROOT)]
    assert stale == [], "run: python manage.py settings_table --write"


def test_every_declared_setting_is_in_a_table():
    assert set(SETTINGS) - docs.tabled(ROOT) == set()


def test_a_changed_help_text_makes_the_tables_stale(monkeypatch):
    spec = SETTINGS["VIBES_CALLBACK_MAX_BODY_BYTES"]
    changed = dataclasses.replace(spec, help=spec.help + " Changed.")
    monkeypatch.setitem(SETTINGS, spec.name, changed)

    stale = {str(path.relative_to(ROOT)) for path in docs.stale(ROOT)}

    assert stale == {"README.md", "docs/callbacks.md", "docs/crm.md"}


def test_a_changed_default_makes_the_tables_stale(monkeypatch):
    spec = SETTINGS["WEBHOOK_BATCH_SIZE"]
    monkeypatch.setitem(SETTINGS, spec.name, dataclasses.replace(spec, default="51"))

    assert [path.name for path in docs.stale(ROOT)] == ["webhooks.md"]


def test_the_command_says_which_files_are_stale(monkeypatch, capsys):
    call_command("settings_table")
    assert "match the settings registry" in capsys.readouterr().out
    spec = SETTINGS["PREFCENTER_API_PAGE_SIZE"]
    monkeypatch.setitem(SETTINGS, spec.name, dataclasses.replace(spec, help="Rows."))
    try:
        call_command("settings_table")
    except CommandError as error:
        assert "docs/api.md" in str(error)
    else:
        raise AssertionError("a stale table passed")


def test_links_in_help_texts_point_from_docs_to_their_neighbours():
    table = docs.render_table("ADMINS", in_docs=True)
    assert "[docs/webhooks.md](webhooks.md)" in table
    assert "(docs/webhooks.md)" in docs.render_table("ADMINS", in_docs=False)
