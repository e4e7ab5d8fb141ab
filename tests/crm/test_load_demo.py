"""``manage.py load_demo``: a realistic demo, the same every time, loaded at most once."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max
from django_tasks_db.models import DBTaskResult

from crm.choices import ConsentAction, CustomFieldType, OptInStatus, SubscriptionState
from crm.demo.loader import default_config_path
from crm.models import (
    ConsentEvent,
    CustomField,
    OptInRequest,
    Person,
    Subscription,
    SubscriptionList,
)

pytestmark = pytest.mark.django_db

MODELS = (Person, CustomField, SubscriptionList, Subscription, OptInRequest, ConsentEvent)


def load(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Everything a second run could change: row counts, last ids and last updates."""
    state = {}
    for model in MODELS:
        fields = {"id": Max("id")}
        if any(f.name == "updated_at" for f in model._meta.fields):
            fields["updated"] = Max("updated_at")
        state[model.__name__] = (model.objects.count(), model.objects.aggregate(**fields))
    state["persons"] = list(
        Person.objects.order_by("id").values_list("external_person_id", "custom_fields")
    )
    state["tasks"] = DBTaskResult.objects.count()
    return state


def test_the_demo_is_realistic():
    output = load("--persons", "120")
    assert "120 new persons" in output
    config = json.loads(default_config_path().read_text())
    lists = SubscriptionList.objects.all()
    assert {sl.list_id for sl in lists} == {
        str(entry["id"]) for entry in config["subscription_lists"]
    }
    assert all(sl.description and sl.disclosure and sl.acquisition_campaign_id for sl in lists)
    # Vibes' person columns (first name, email) are Person columns, not custom fields.
    mapped = {entry["key"] for entry in config["custom_fields"] if entry.get("crm_field")}
    assert mapped and not CustomField.objects.filter(key__in=mapped).exists()
    assert CustomField.objects.count() >= 12
    assert set(CustomField.objects.values_list("field_type", flat=True)) == set(
        CustomFieldType.values
    )
    assert Person.objects.count() == 120
    assert Person.objects.filter(mdn__isnull=True).exists()
    assert Person.objects.exclude(custom_fields={}).count() > 100
    states = set(Subscription.objects.values_list("state", flat=True))
    assert states == set(SubscriptionState.values)
    actions = set(ConsentEvent.objects.values_list("action", flat=True))
    assert actions == set(ConsentAction.values)
    statuses = set(OptInRequest.objects.values_list("status", flat=True))
    assert {OptInStatus.PENDING, OptInStatus.REJECTED, OptInStatus.EXPIRED} <= statuses
    # Consent that came through the web keeps what was shown and from where.
    web = ConsentEvent.objects.filter(reference="demo:web", action=ConsentAction.OPTED_IN)
    assert web.exists()
    assert all(e.disclosure_text and e.ip_address and e.user_agent for e in web)
    # Persons who left a list have the reason Vibes would give.
    assert Subscription.objects.filter(
        state=SubscriptionState.UNSUBSCRIBED, opt_out_reason__gt=""
    ).exists()


def test_running_twice_changes_nothing():
    load("--persons", "30")
    before = snapshot()
    output = load("--persons", "30")
    assert "already loaded" in output
    assert snapshot() == before


def test_the_demo_is_the_same_on_every_machine():
    load("--persons", "3")
    first = Person.objects.get(external_person_id="demo-0001")
    assert (first.full_name, str(first.mdn), first.email) == (
        "Leila Thompson",
        "+12015550100",
        "leila.thompson.1@example.com",
    )
    assert first.custom_fields["preferred_store"] == "seattle"


def test_growing_the_demo_adds_only_the_missing_persons():
    load("--persons", "10")
    ids = set(Person.objects.values_list("id", flat=True))
    output = load("--persons", "25")
    assert "15 new persons" in output and "10 were already there" in output
    assert ids < set(Person.objects.values_list("id", flat=True))


@pytest.mark.parametrize("persons", ["-1", "1001"])
def test_bad_person_counts_are_refused(persons):
    with pytest.raises(CommandError, match="--persons"):
        load("--persons", persons)
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read"),
        ("{not json", "not valid JSON"),
        ('{"subscription_lists": [{"name": "No id"}]}', "subscription_lists[0] has no id"),
        (
            '{"subscription_lists": [], "custom_fields": [{"key": "x", "type": "colour"}]}',
            "unknown type",
        ),
        (
            '{"subscription_lists": [{"id": "1", "name": "x"}], "custom_fields": '
            '[{"key": "c", "type": "choice", "options": []}]}',
            "options",
        ),
    ],
)
def test_a_bad_configuration_is_refused_and_nothing_is_written(tmp_path, content, message):
    path = tmp_path / "demo.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError, match=re.escape(message)):
        load("--persons", "3", "--config", str(path))
    for model in MODELS:
        assert not model.objects.exists()
