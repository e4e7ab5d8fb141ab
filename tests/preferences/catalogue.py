"""A small, realistic catalogue (lists and custom fields of every type) for the page tests."""

from __future__ import annotations

from dataclasses import dataclass

from crm.choices import CustomFieldType
from crm.models import CustomField, SubscriptionList
from tests.fixtures.builders import make_custom_field, make_list

DEALS_DISCLOSURE = (
    "By joining Deals you agree to get up to 4 recurring automated marketing texts a month "
    "from Northwind Outfitters at this number. Consent is not a condition of purchase. "
    "Msg & data rates may apply. Reply STOP to cancel, HELP for help."
)


@dataclass
class Catalogue:
    deals: SubscriptionList
    arrivals: SubscriptionList
    events: SubscriptionList
    keyword_only: SubscriptionList
    fields: dict[str, CustomField]


def make_catalogue() -> Catalogue:
    deals = make_list(
        list_id="deals",
        name="Deals",
        description="Weekly offers and early access to sales.",
        disclosure=DEALS_DISCLOSURE,
        order=1,
    )
    arrivals = make_list(
        list_id="arrivals",
        name="New arrivals",
        description="Be the first to hear about new gear.",
        order=2,
    )
    events = make_list(
        list_id="events",
        name="Store events",
        description="Workshops and trail days near you.",
        order=3,
    )
    keyword_only = make_list(
        list_id="club",
        name="Trail club",
        description="Members-only texts.",
        acquisition_campaign_id="",
        keyword="TRAIL",
        order=4,
    )
    make_list(list_id="hidden", name="Staff only", shown_in_preference_center=False, order=5)
    fields = {
        "nickname": make_custom_field(
            key="nickname", label="Nickname", field_type=CustomFieldType.TEXT, order=1
        ),
        "shoe_size": make_custom_field(
            key="shoe_size",
            label="Shoe size",
            field_type=CustomFieldType.NUMBER,
            help_text="US sizes, e.g. 9.5",
            order=2,
        ),
        "birthday": make_custom_field(
            key="birthday", label="Birthday", field_type=CustomFieldType.DATE, order=3
        ),
        "newsletter": make_custom_field(
            key="newsletter",
            label="Also send me the printed catalogue",
            field_type=CustomFieldType.BOOLEAN,
            order=4,
        ),
        "favorite_activity": make_custom_field(
            key="favorite_activity",
            label="Favorite activity",
            field_type=CustomFieldType.CHOICE,
            options=[
                {"key": "hiking", "label": "Hiking"},
                {"key": "climbing", "label": "Climbing"},
                {"key": "paddling", "label": "Paddling"},
            ],
            order=5,
        ),
        "interests": make_custom_field(
            key="interests",
            label="Interests",
            field_type=CustomFieldType.MULTIPLE_CHOICE,
            options=[
                {"key": "camping", "label": "Camping"},
                {"key": "running", "label": "Trail running"},
                {"key": "snow", "label": "Snow sports"},
            ],
            order=6,
        ),
        "loyalty_tier": make_custom_field(
            key="loyalty_tier",
            label="Loyalty tier",
            field_type=CustomFieldType.TEXT,
            editable_by_subscribers=False,
            order=7,
        ),
        "internal_score": make_custom_field(
            key="internal_score",
            label="Internal score",
            field_type=CustomFieldType.NUMBER,
            visible_to_subscribers=False,
            order=8,
        ),
    }
    return Catalogue(
        deals=deals, arrivals=arrivals, events=events, keyword_only=keyword_only, fields=fields
    )
