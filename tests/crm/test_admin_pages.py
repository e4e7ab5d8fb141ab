"""Every CRM admin page renders with the demo data; numbers are masked in lists and can be
found in any format."""

import re

import pytest
from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.urls import reverse

from crm.models import (
    ConsentEvent,
    CustomField,
    OptInRequest,
    Person,
    Subscription,
    SubscriptionList,
)
from crm.phone import mask_mdn
from tests.fixtures.builders import make_person

pytestmark = pytest.mark.django_db

MODELS = [Person, Subscription, ConsentEvent, OptInRequest, SubscriptionList, CustomField]
E164 = re.compile(r"\+1\d{10}")


def _url(model, view, *args):
    return reverse(f"admin:crm_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_renders_with_demo_data(admin_client, shared_demo, model):
    page = admin_client.get(_url(model, "changelist"))
    assert page.status_code == 200
    shown = page.context["cl"].result_list
    assert len(shown) > 0


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_form_renders_for_every_demo_row_kind(admin_client, shared_demo, model):
    obj = model.objects.order_by("pk").first()
    page = admin_client.get(_url(model, "change", obj.pk))
    assert page.status_code == 200
    assert page.context["original"] == obj


@pytest.mark.parametrize("model", [Person, SubscriptionList, CustomField], ids=lambda m: m.__name__)
def test_add_form_renders(admin_client, shared_demo, model):
    assert admin_client.get(_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", [Subscription, OptInRequest], ids=lambda m: m.__name__)
def test_records_have_no_add_form(admin_client, shared_demo, model):
    assert admin_client.get(_url(model, "add")).status_code == 403


@pytest.mark.parametrize("model", [Person, Subscription, ConsentEvent, OptInRequest])
def test_list_views_show_no_full_number(admin_client, shared_demo, model):
    html = admin_client.get(_url(model, "changelist")).content.decode()
    assert not E164.search(html)
    assert "•••••" in html


def test_person_list_masks_and_change_page_shows_the_full_number(admin_client, shared_demo):
    person = Person.objects.filter(mdn__isnull=False).order_by("-id").first()
    listing = admin_client.get(_url(Person, "changelist")).content.decode()
    assert mask_mdn(person.mdn) in listing
    change = admin_client.get(_url(Person, "change", person.pk)).content.decode()
    assert str(person.mdn) in change


@pytest.mark.parametrize(
    "typed", ["(299) 555-1234", "299.555.1234", "+1 299 555 1234", "2995551234"]
)
def test_staff_find_a_person_by_number_in_any_format(admin_client, shared_demo, typed):
    person = make_person(first_name="Grace", last_name="Hopper")
    # Stored by an earlier import that did not check area codes; search must still find it.
    Person.objects.filter(pk=person.pk).update(mdn="+12995551234")
    page = admin_client.get(_url(Person, "changelist"), {"q": typed})
    assert list(page.context["cl"].result_list) == [person]


def test_staff_find_demo_persons_by_id_email_and_name(admin_client, shared_demo):
    person = Person.objects.exclude(email="").order_by("pk").first()
    for term in (person.external_person_id, person.email.upper(), person.first_name[:3]):
        found = admin_client.get(_url(Person, "changelist"), {"q": term}).context["cl"]
        assert person in found.result_list


def test_records_are_searchable_by_the_persons_number(admin_client, shared_demo):
    person = Person.objects.filter(consent_events__isnull=False, mdn__isnull=False).first()
    typed = str(person.mdn).replace("+1", "")  # national digits
    for model in (ConsentEvent, Subscription):
        result = admin_client.get(_url(model, "changelist"), {"q": typed}).context["cl"]
        assert result.result_list
        assert {row.person_id for row in result.result_list} == {person.pk}


@pytest.mark.parametrize(
    ("parameter", "field", "value"),
    [
        ("state__exact", "state", "pending"),
        ("source__exact", "source", "import"),
        ("opt_out_reason__exact", "opt_out_reason", "keyword_opt_out"),
    ],
)
def test_subscription_filters(admin_client, shared_demo, parameter, field, value):
    url = _url(Subscription, "changelist")
    rows = admin_client.get(url, {parameter: value}).context["cl"].result_list
    assert rows and {getattr(row, field) for row in rows} == {value}
    deals = SubscriptionList.objects.order_by("order").first()
    rows = admin_client.get(url, {"subscription_list__id__exact": deals.pk}).context["cl"]
    assert {row.subscription_list_id for row in rows.result_list} == {deals.pk}


def test_person_filters(admin_client, shared_demo):
    deals = SubscriptionList.objects.order_by("order").first()
    rows = (
        admin_client.get(_url(Person, "changelist"), {"subscribed_to": deals.pk})
        .context["cl"]
        .result_list
    )
    assert rows
    assert all(deals.pk in {s.subscription_list_id for s in row.subscribed} for row in rows)
    without = (
        admin_client.get(_url(Person, "changelist"), {"has_mdn": "no"}).context["cl"].result_list
    )
    assert without and all(row.mdn is None for row in without)


def test_consent_filters_by_action_and_date(admin_client, shared_demo):
    rows = (
        admin_client.get(
            _url(ConsentEvent, "changelist"),
            {"action__exact": "opted_out", "occurred_at__gte": "2020-01-01 00:00:00+00:00"},
        )
        .context["cl"]
        .result_list
    )
    assert rows and {row.action for row in rows} == {"opted_out"}


def test_person_form_has_a_widget_per_custom_field_type(admin_client, shared_demo):
    person = Person.objects.order_by("pk").first()
    page = admin_client.get(_url(Person, "change", person.pk))
    form = page.context["adminform"].form
    widgets = {name: type(field.widget) for name, field in form.fields.items()}
    assert widgets["custom__zip_code"] is forms.TextInput
    assert widgets["custom__shoe_size"] is forms.NumberInput
    assert widgets["custom__birthday"] is AdminDateWidget
    assert widgets["custom__loyalty_member"] is forms.NullBooleanSelect
    assert widgets["custom__preferred_store"] is forms.Select
    assert widgets["custom__interests"] is forms.CheckboxSelectMultiple
    # Values the person has are shown.
    for key, value in person.custom_fields.items():
        shown = form[f"custom__{key}"].value()
        assert shown == value or str(shown) == str(value)
    # Person columns in Vibes (first name, email) are not custom fields here.
    assert "custom__first_name" not in form.fields
    html = page.content.decode()
    assert 'type="checkbox" name="custom__interests"' in html
    assert 'class="vDateField"' in html
