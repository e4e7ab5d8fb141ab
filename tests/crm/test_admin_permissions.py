"""Who may press which button in the admin, and what asks before it acts.

A view-only staff member is offered no action that changes anything on any changelist,
and a forged POST of any action (select-across and a forged confirmation included) is
refused and changes nothing. A user with the action's permission gets a confirmation
page first for "Stop all texts" and "Revoke links", and only Confirm applies it.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from crm.choices import Source, SubscriptionState
from crm.models import ConsentEvent, CustomField, Person, Subscription, SubscriptionList
from crm.services import subscription_change
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.migrations import migrate_everything_to_latest
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.sync.models import Operation

pytestmark = pytest.mark.django_db

PERSONS = reverse("admin:crm_person_changelist")


def _staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # a fresh object: no cached permissions


@pytest.fixture
def viewer() -> User:
    """Staff who may look at everything the admin shows, and change nothing."""
    user = User.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def world(db):
    """Two persons on two lists, a third person with no number, a failed callback event."""
    deals = make_list(list_id="deals", name="Deals")
    arrivals = make_list(list_id="arrivals", name="New arrivals")
    ada = make_person(external_person_id="crm-ada", first_name="Ada", mdn="+12015550101")
    bob = make_person(external_person_id="crm-bob", first_name="Bob", mdn="+12015550102")
    cy = make_person(external_person_id="crm-cy", first_name="Cy")
    for person, lists in ((ada, [deals, arrivals]), (bob, [deals])):
        for subscription_list in lists:
            subscription_change(
                person=person,
                subscription_list=subscription_list,
                state=SubscriptionState.SUBSCRIBED,
                source=Source.VIBES,
            )
    failed = CallbackEvent.objects.create(
        event_id="evt-failed-1", callback_type="subscription_added", status=CallbackStatus.FAILED
    )
    return {"ada": ada, "bob": bob, "cy": cy, "deals": deals, "failed": failed}


def _snapshot() -> dict[str, list]:
    """Everything an admin action could change."""
    return {
        "persons": list(Person.objects.order_by("pk").values_list("pk", "link_secret", "mdn")),
        "subscriptions": list(Subscription.objects.order_by("pk").values_list("pk", "state")),
        "ledger": list(ConsentEvent.objects.values_list("pk", flat=True)),
        "operations": list(
            Operation.objects.order_by("pk").values_list("pk", "status", "edits", "updated_at")
        ),
        "callbacks": list(
            CallbackEvent.objects.order_by("pk").values_list("pk", "status", "next_attempt_at")
        ),
        "tasks": list(DBTaskResult.objects.values_list("pk", flat=True)),
        "lists": list(SubscriptionList.objects.values_list("pk", flat=True)),
        "fields": list(CustomField.objects.values_list("pk", flat=True)),
        "users": list(User.objects.values_list("pk", flat=True)),
    }


def _changelist_url(model_admin) -> str:
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def _offered(response) -> set[str]:
    form = response.context["action_form"]
    if form is None:
        return set()
    return {name for name, _label in form.fields["action"].choices if name}


REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize(
    "model_admin", [m for _model, m in REGISTRY], ids=[model._meta.label for model, _ in REGISTRY]
)
def test_view_only_staff_are_offered_no_action(client, viewer, world, model_admin):
    client.force_login(viewer)
    response = client.get(_changelist_url(model_admin))
    assert response.status_code == 200
    assert _offered(response) == set()


def _every_action() -> list[tuple[object, str]]:
    return [
        (model_admin, name)
        for _model, model_admin in REGISTRY
        for _func, name, _description in model_admin._get_base_actions()
    ]


def test_every_action_declares_its_permissions():
    """An action without ``permissions`` is offered to anyone who may view the list."""
    for _model, model_admin in REGISTRY:
        for func, name, _description in model_admin._get_base_actions():
            assert getattr(func, "allowed_permissions", ()), f"{model_admin}: {name}"


@pytest.mark.parametrize(
    ("model_admin", "action"),
    _every_action(),
    ids=[f"{m.model._meta.label}.{name}" for m, name in _every_action()],
)
def test_a_forged_action_post_from_a_viewer_changes_nothing(
    client, viewer, world, model_admin, action
):
    client.force_login(viewer)
    before = _snapshot()
    model = model_admin.model
    selected = list(model.objects.values_list("pk", flat=True)[:3]) or [world["ada"].pk]
    forged = {
        "action": action,
        "_selected_action": selected,
        "select_across": "1",
        "post": "yes",
        "note": "forged",
    }
    for extra in ({"index": "0"}, {}):  # the plain and the confirmation path
        response = client.post(_changelist_url(model_admin), {**forged, **extra})
        assert response.status_code in {200, 302, 403}
        if response.status_code == 200:
            assert _offered(response) == set()
            assert "action_confirmation" not in [t.name for t in response.templates]
    assert _snapshot() == before


def test_with_some_permissions_only_those_actions_are_offered(client, world):
    operator = _staff("operator", "view_person", "stop_texts")
    client.force_login(operator)
    assert _offered(client.get(PERSONS)) == {"stop_all_texts"}

    before = _snapshot()
    for action in ("revoke_preference_links", "resync_persons", "copy_preference_links"):
        response = client.post(
            PERSONS,
            {"action": action, "_selected_action": [world["ada"].pk], "post": "yes"},
            follow=True,
        )
        assert "No action selected." in response.content.decode()
    assert _snapshot() == before


def test_stop_all_texts_asks_first_then_applies(client, world):
    client.force_login(_staff("operator", "view_person", "stop_texts"))
    ada, bob = world["ada"], world["bob"]
    before = _snapshot()
    selection = {"action": "stop_all_texts", "_selected_action": [ada.pk, bob.pk]}

    page = client.post(PERSONS, {**selection, "index": "0"})

    assert page.status_code == 200
    assert "admin/action_confirmation.html" in [t.name for t in page.templates]
    html = page.content.decode()
    assert "Stop all texts for 2 persons?" in html
    assert "Deals: 2 persons leave it." in html
    assert "New arrivals: 1 person leaves it." in html
    assert "+1•••••0101" in html and "+1•••••0102" in html
    assert "+12015550101" not in html and "201-555-0101" not in html
    assert 'value="Yes, stop all texts"' in html
    assert f'href="{PERSONS}" class="button cancel-link"' in html
    assert _snapshot() == before  # asking changed nothing

    done = client.post(PERSONS, {**selection, "post": "yes"}, follow=True)

    assert "3 subscriptions ended." in done.content.decode()
    assert set(Subscription.objects.values_list("state", flat=True)) == {
        SubscriptionState.UNSUBSCRIBED
    }
    assert set(
        ConsentEvent.objects.filter(action="opted_out").values_list("reference", flat=True)
    ) == {"staff:operator"}


def test_select_across_confirms_and_applies_to_the_filtered_list_only(client, world):
    client.force_login(_staff("operator", "view_person", "stop_texts"))
    filtered = f"{PERSONS}?subscribed_to={world['deals'].pk}"
    make_person(external_person_id="crm-dee", first_name="Dee", mdn="+12015550104")
    selection = {
        "action": "stop_all_texts",
        "_selected_action": [world["ada"].pk],
        "select_across": "1",
    }

    page = client.post(filtered, {**selection, "index": "0"})

    html = page.content.decode()
    assert "Stop all texts for 2 persons?" in html
    form_action = re.search(r'<form method="post" action="([^"]+)">', html).group(1)
    assert form_action.replace("&amp;", "&") == filtered
    assert '<input type="hidden" name="select_across" value="1">' in html

    client.post(form_action.replace("&amp;", "&"), {**selection, "post": "yes"})

    active = Subscription.objects.exclude(state=SubscriptionState.UNSUBSCRIBED)
    assert not active.exists()
    # Cy (on no list) and Dee (not in the filter) were not touched.
    assert not ConsentEvent.objects.filter(
        person__external_person_id__in=["crm-cy", "crm-dee"], action="opted_out"
    ).exists()


def test_a_large_selection_lists_the_first_rows_and_counts_the_rest(client, world):
    client.force_login(_staff("operator", "view_person", "stop_texts"))
    for n in range(30):
        make_person(external_person_id=f"crm-bulk-{n:02d}")
    page = client.post(
        PERSONS,
        {
            "action": "stop_all_texts",
            "_selected_action": [world["ada"].pk],
            "select_across": "1",
            "index": "0",
        },
    )
    html = page.content.decode()
    assert "Stop all texts for 33 persons?" in html
    rows = re.search(r'data-testid="confirmation-rows">(.*?)</ul>', html, re.S).group(1)
    assert rows.count("<li>") == 26  # 25 persons, then "and 8 more"
    assert "<li>and 8 more</li>" in rows


def test_revoke_links_asks_first_then_applies(client, world):
    client.force_login(_staff("linker", "view_person", "revoke_links"))
    ada = world["ada"]
    old_secret = ada.link_secret
    selection = {"action": "revoke_preference_links", "_selected_action": [ada.pk]}

    page = client.post(PERSONS, {**selection, "index": "0"})

    html = page.content.decode()
    assert "Revoke the preference-center links of 1 person?" in html
    assert "+1•••••0101" in html
    ada.refresh_from_db()
    assert ada.link_secret == old_secret

    done = client.post(PERSONS, {**selection, "post": "yes"}, follow=True)

    assert "Links revoked for 1 person." in done.content.decode()
    ada.refresh_from_db()
    assert ada.link_secret != old_secret


MIGRATIONS = [
    ("crm", "person_action_permissions", "change_person", {"stop_texts", "revoke_links"}),
    ("vibes_sync", "resync_permission", "change_person", {"resync"}),
    ("vibes_callbacks", "resolve_permission", "replay_callbackevent", {"resolve_callbackevent"}),
]


def _migrate(app: str, name: str) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([(app, name)])


def _around(app: str, suffix: str) -> tuple[str, str, str]:
    """The migration named ``suffix``, the one before it, and the app's latest."""
    graph = MigrationLoader(connection).graph
    [node] = [n for n in graph.nodes if n[0] == app and n[1].endswith(suffix)]
    [parent] = [p for p in graph.node_map[node].parents if p[0] == app]
    [(_, latest)] = [n for n in graph.leaf_nodes() if n[0] == app]
    return parent[1], node[1], latest


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("app", "suffix", "held", "granted"), MIGRATIONS)
def test_staff_who_could_act_before_keep_the_action_after_migrating(app, suffix, held, granted):
    before, migration, _latest = _around(app, suffix)
    try:
        _migrate(app, before)
        # As on a site installed before: the permissions did not exist yet.
        Permission.objects.filter(codename__in=granted).delete()
        group = Group.objects.create(name="Support")
        group.permissions.add(Permission.objects.get(codename=held))
        user = User.objects.create_user("old-hand", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename=held))
        viewer = User.objects.create_user("looker", is_staff=True)
        _migrate(app, migration)
    finally:
        migrate_everything_to_latest()

    assert set(group.permissions.values_list("codename", flat=True)) == {held, *granted}
    assert set(user.user_permissions.values_list("codename", flat=True)) == {held, *granted}
    assert not viewer.user_permissions.exists()
    assert Permission.objects.filter(codename__in=granted).count() == len(granted)
