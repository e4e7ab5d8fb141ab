"""No table that references a person can be left out of the access export.

The test walks every relation that leads to ``crm.Person`` (reverse foreign keys, hidden
ones included, to a depth of three), and the tables that name a person without a foreign
key (``NON_FK_REFERENCES``, walked the same way). Each table found must be exported by a
section of ``prefcenter.access.registry`` or listed in ``NOT_EXPORTED`` with its reason.
A new model that points at a person (or at a table that does) fails here until it is.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from crm.models import Person
from prefcenter.access.registry import NON_FK_REFERENCES, NOT_EXPORTED, SECTIONS, covered_labels

DEPTH = 3


def _referencing(model: type[models.Model]) -> set[type[models.Model]]:
    """Models with a foreign key or one-to-one to ``model`` (``related_name="+"`` too)."""
    found = set()
    for field in model._meta.get_fields(include_hidden=True):
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one):
            found.add(field.related_model)
    return found


def tables_about_a_person() -> set[str]:
    start = {Person} | {apps.get_model(label) for label in NON_FK_REFERENCES}
    seen: set[type[models.Model]] = set(start)
    frontier = set(start)
    for _ in range(DEPTH):
        frontier = {found for model in frontier for found in _referencing(model)} - seen
        seen |= frontier
    return {model._meta.label for model in seen}


def test_every_table_that_references_a_person_is_in_the_export_registry():
    missing = sorted(tables_about_a_person() - covered_labels())
    assert missing == [], (
        f"{missing} reference a person but the access export does not say what to do with "
        "them: add a Section to prefcenter/access/registry.py (or a NOT_EXPORTED entry with "
        "the reason)."
    )


def test_the_walk_finds_the_tables_it_must():
    found = tables_about_a_person()
    for label in (
        "crm.Subscription",
        "crm.ConsentEvent",
        "crm.OptInRequest",
        "vibes_sync.Operation",
        "vibes_sync.OutboundCall",  # hidden reverse relation (related_name="+")
        "vibes_callbacks.CallbackEvent",
        "webhooks.WebhookDelivery",  # through a non-FK reference
        "access.AccessRequest",
    ):
        assert label in found


def test_a_new_table_pointing_at_a_person_would_be_caught():
    class Unforeseen(models.Model):
        person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "access"

        def __str__(self) -> str:
            return str(self.pk)

    try:
        assert "access.Unforeseen" in tables_about_a_person() - covered_labels()
    finally:
        del apps.all_models["access"]["unforeseen"]
        apps.clear_cache()


def test_the_registry_names_real_tables_and_columns():
    for label, columns in NON_FK_REFERENCES.items():
        model = apps.get_model(label)
        for column in columns:
            model._meta.get_field(column)
    for label in NOT_EXPORTED:
        apps.get_model(label)
    exported = {section.model._meta.label for section in SECTIONS}
    assert not exported & set(NOT_EXPORTED)
