"""The subscription list catalogue, mirrored from Vibes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.choices import Source
from crm.models import SubscriptionList
from crm.services.validation import UNSET, check_source


@transaction.atomic
def subscription_list_upsert(
    *,
    list_id: str,
    source: Source,
    name: str = UNSET,
    description: str = UNSET,
    disclosure: str = UNSET,
    acquisition_campaign_id: str = UNSET,
    keyword: str = UNSET,
    shown_in_preference_center: bool = UNSET,
    order: int = UNSET,
) -> tuple[SubscriptionList, bool]:
    """Create or update the list with Vibes id ``list_id`` (the catalogue callbacks)."""
    check_source(source)
    list_id = str(list_id or "").strip()
    if not list_id:
        raise ValidationError({"list_id": _("A Vibes list id is required.")})
    values = {
        k: v
        for k, v in {
            "name": name,
            "description": description,
            "disclosure": disclosure,
            "acquisition_campaign_id": acquisition_campaign_id,
            "keyword": keyword,
            "shown_in_preference_center": shown_in_preference_center,
            "order": order,
        }.items()
        if v is not UNSET
    }
    subscription_list = SubscriptionList.objects.select_for_update().filter(list_id=list_id).first()
    created = subscription_list is None
    if created:
        values.setdefault("name", _("List %(id)s") % {"id": list_id})
        values.setdefault("shown_in_preference_center", False)
        subscription_list = SubscriptionList(list_id=list_id)
    elif all(getattr(subscription_list, key) == value for key, value in values.items()):
        # Nothing new: leave the row (and its updated_at) alone.
        return subscription_list, False
    for key, value in values.items():
        setattr(subscription_list, key, value)
    subscription_list.full_clean(validate_unique=False)
    subscription_list.save()
    return subscription_list, created
