"""Receivers of the ``crm.signals``: they write the outbox and hold no other logic.

Saving or deleting a subscription list (Django's own model signals) writes a callback
registration job (``callbacks.registration_jobs``) the same way.

They run inside the ``crm`` service's transaction (the signals are sent there), so the
outbox row commits or rolls back with the change it announces. A change whose source is
``Source.VIBES`` came from Vibes (a callback, or an answer of Vibes recorded by the sync
itself) and is never sent back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models.signals import post_delete, post_save

from crm import signals
from crm.choices import Source, SubscriptionState
from crm.models import CustomField, OptInRequest, Person, Subscription, SubscriptionList
from prefcenter.conf import setting
from vibes_integration.callbacks import registration_jobs
from vibes_integration.sync import outbox

_PERSON_ATTRIBUTES = {"external_person_id", "mdn"}


def _came_from_vibes(source: object) -> bool:
    return str(source) == Source.VIBES


def _concerns_vibes(person: Person, changed_fields: Iterable[str]) -> bool:
    """Whether any changed field is one Vibes holds (names, synced custom fields...)."""
    changed = set(changed_fields)
    if changed & (_PERSON_ATTRIBUTES | set(setting("VIBES_SYNC_PERSON_FIELDS"))):
        return True
    keys = [name.split(".", 1)[1] for name in changed if name.startswith("custom_fields.")]
    return bool(keys) and CustomField.objects.filter(key__in=keys, synced_to_vibes=True).exists()


def on_person_changed(
    sender,
    *,
    person: Person,
    created: bool,
    changed_fields: Iterable[str],
    source: str,
    previous_mdn: str | None = None,
    **kwargs,
) -> None:
    if _came_from_vibes(source):
        return
    if not created and not _concerns_vibes(person, changed_fields):
        return
    number_changed = "mdn" in set(changed_fields)
    removed = number_changed and not person.mdn and bool(previous_mdn)
    outbox.outbox_person_changed(
        person=person,
        source=source,
        remove_mdn=removed,
        check_mdn=number_changed and bool(person.mdn) and not created,
    )


def on_subscription_changed(
    sender, *, subscription: Subscription, previous_state: str, source: str, **kwargs
) -> None:
    if _came_from_vibes(source):
        return
    if subscription.state == SubscriptionState.UNSUBSCRIBED:
        outbox.outbox_unsubscribe(
            person=subscription.person,
            subscription_list=subscription.subscription_list,
            source=source,
        )


def on_opt_in_requested(
    sender, *, opt_in_requests: Iterable[OptInRequest], source: str, **kwargs
) -> None:
    if _came_from_vibes(source):
        return
    for opt_in_request in opt_in_requests:
        outbox.outbox_opt_in(opt_in_request=opt_in_request, source=source)


def on_number_changed(sender, *, number_change, source: str, **kwargs) -> None:
    # Completed by Vibes' own callback (the Y), yet only the CRM knows the old number's
    # lists and person: this work is the CRM's to send, whatever the source.
    outbox.outbox_number_change(number_change=number_change, source=source)


def on_erasure_requested(sender, *, erasure_request, person: Person, source: str, **kwargs) -> None:
    """Erasure is sent whatever its source: Vibes must nullify even what it told us."""
    if erasure_request.vibes_targets:
        outbox.outbox_nullify(person=person, source=source)


def on_subscription_list_saved(sender, *, instance: SubscriptionList, created: bool, **kwargs):
    """A new list or campaign needs its own callback registrations at Vibes (whatever the
    change's source: a list Vibes announced is as silent without one)."""
    registration_jobs.registration_jobs_for_list_saved(
        list_id=instance.list_id, campaign_id=instance.acquisition_campaign_id, created=created
    )


def on_subscription_list_deleted(sender, *, instance: SubscriptionList, **kwargs) -> None:
    registration_jobs.registration_jobs_for_list_deleted(
        list_id=instance.list_id, campaign_id=instance.acquisition_campaign_id
    )


def connect() -> None:
    post_save.connect(
        on_subscription_list_saved,
        sender=SubscriptionList,
        dispatch_uid="vibes_sync.subscription_list_saved",
    )
    post_delete.connect(
        on_subscription_list_deleted,
        sender=SubscriptionList,
        dispatch_uid="vibes_sync.subscription_list_deleted",
    )

    signals.person_changed.connect(on_person_changed, dispatch_uid="vibes_sync.person_changed")
    signals.subscription_changed.connect(
        on_subscription_changed, dispatch_uid="vibes_sync.subscription_changed"
    )
    signals.opt_in_requested.connect(on_opt_in_requested, dispatch_uid="vibes_sync.opt_in")
    signals.number_changed.connect(on_number_changed, dispatch_uid="vibes_sync.number_changed")

    signals.erasure_requested.connect(on_erasure_requested, dispatch_uid="vibes_sync.erasure")
