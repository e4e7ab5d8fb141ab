"""Template tags for the subscriber-facing pages."""

from django import template

from prefcenter.conf import setting
from prefcenter.preferences.numbers import display_mdn

register = template.Library()


@register.simple_tag
def brand_name() -> str:
    """The brand the subscriber knows (``PREFCENTER_BRAND_NAME``)."""
    return setting("PREFCENTER_BRAND_NAME")


@register.filter
def mdn(value: object) -> str:
    """A number as every preference page writes it: national format for the brand's
    country, E.164 for others."""
    return display_mdn(value)
