"""Erasing a person's personal data, keeping a pseudonymised person and its consent ledger.

What stays is what proves consent and suppresses the number: the person row (no name,
number, email or custom fields; a new meaningless external id; Vibes' person key and
person id, so that late callbacks still find it), its subscriptions and its ledger
(without number, address and user agent), and the ``ErasureRequest`` with keyed hashes
of the number and email.
Everything else that names the person is blanked here, in one transaction
(``crm.erasure_scrubbing``). Vibes is told through the outbox: a receiver of
``erasure_requested`` writes the nullification operation, and the sync calls
``erasure_vibes_finish`` when Vibes has done it.
"""

from __future__ import annotations

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import signals
from crm.choices import Source
from crm.erasure_hashing import email_hash, mdn_hash
from crm.erasure_models import ERASED_ID_PREFIX
from crm.erasure_scrubbing import scrub_everywhere
from crm.models import ConsentEvent, ErasureRequest, OptInRequest, Person
from crm.services.subscriptions import person_stop_all
from crm.services.validation import ConsentContext, check_source
from prefcenter.conf import setting


def erasure_deadline(received_at: datetime.datetime) -> datetime.datetime:
    return received_at + datetime.timedelta(days=setting("PREFCENTER_ERASURE_DEADLINE_DAYS"))


def _company_keys() -> list[str]:
    keys = [setting("VIBES_COMPANY_KEY")]
    for key in setting("VIBES_ERASURE_COMPANY_KEYS"):
        if key and key not in keys:
            keys.append(key)
    return [key for key in keys if key]


def _vibes_targets(person: Person, mdn: str) -> list[dict[str, str]]:
    """Where Vibes must nullify: the configured company by person key (or by number when
    Vibes never gave one), each extra company by number (person keys differ per company)."""
    targets = []
    for index, company_key in enumerate(_company_keys()):
        person_key = (person.person_key or "") if index == 0 else ""
        if not person_key and not mdn:
            continue
        targets.append(
            {"company_key": company_key, "person_key": person_key, "mdn": "" if person_key else mdn}
        )
    return targets


@transaction.atomic
def erasure_request(*, person: Person, source: Source, requested_by: str = "") -> ErasureRequest:
    """Erase ``person``'s personal data now and queue the nullification in Vibes.

    Asking again for an erased person answers the existing request (API retries, a double
    click): erasure is done once.
    """
    source = check_source(source)
    person = Person.objects.select_for_update().filter(pk=person.pk).first()
    if person is None:
        raise ValidationError({"person": _("This person does not exist.")})
    existing = ErasureRequest.objects.filter(person=person).first()
    if existing is not None:
        return existing
    now = timezone.now()
    request = ErasureRequest.objects.create(
        person=person,
        source=source,
        requested_by=str(requested_by)[:200],
        received_at=now,
        deadline_at=erasure_deadline(now),
    )
    # The opt-outs are the proof that must survive: recorded before anything is blanked.
    person_stop_all(
        person=person,
        source=source,
        consent=ConsentContext(occurred_at=now, reference=f"erasure:{request.pk}"),
    )
    mdn = str(person.mdn) if person.mdn else ""
    identity = {
        "mdn": mdn,
        "email": person.email,
        "external_person_id": person.external_person_id,
        "full_name": person.full_name,
        "person_key": person.person_key or "",
    }
    request.mdn_hash = mdn_hash(mdn)
    request.email_hash = email_hash(person.email)
    request.vibes_targets = _vibes_targets(person, mdn)
    _pseudonymise(person)
    # The ledger's one sanctioned rewrite: its facts stay, the personal details go.
    models.QuerySet(model=ConsentEvent).filter(person=person).update(
        mdn="", ip_address=None, user_agent=""
    )
    OptInRequest.objects.filter(person=person).delete()
    scrub_everywhere(person=person, identity=identity)
    request.crm_finished_at = timezone.now()
    if not request.vibes_targets:
        request.vibes_finished_at = request.crm_finished_at
    request.save()
    signals.erasure_requested.send(
        sender=ErasureRequest, erasure_request=request, person=person, source=source
    )
    if request.is_done:
        signals.erasure_finished.send(sender=ErasureRequest, erasure_request=request)
    return request


def _pseudonymise(person: Person) -> None:
    person.external_person_id = f"{ERASED_ID_PREFIX}{secrets.token_hex(12)}"
    person.external_id_in_vibes = False  # the nullification unlinks it in Vibes
    person.mdn = None
    person.carrier_code = ""
    person.first_name = ""
    person.last_name = ""
    person.email = ""
    person.custom_fields = {}
    person.link_secret = secrets.token_urlsafe(16)
    person.save()


@transaction.atomic
def erasure_vibes_finish(*, person_id: int) -> ErasureRequest | None:
    """Vibes nullified the person everywhere: the request is done, the number it needed
    to find them there is dropped, and ``erasure.done`` goes out."""
    request = ErasureRequest.objects.select_for_update().filter(person_id=person_id).first()
    if request is None or request.vibes_finished_at is not None:
        return request
    request.vibes_finished_at = timezone.now()
    request.vibes_targets = [{**target, "mdn": ""} for target in request.vibes_targets]
    request.save(update_fields=["vibes_finished_at", "vibes_targets"])
    signals.erasure_finished.send(sender=ErasureRequest, erasure_request=request)
    return request
