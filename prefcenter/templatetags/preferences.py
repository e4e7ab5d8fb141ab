"""Template tags for the subscriber-facing pages."""

from django import template

from prefcenter.preferences import conf

register = template.Library()


@register.simple_tag
def brand_name() -> str:
    """The brand the subscriber knows (``PREFCENTER_BRAND_NAME``)."""
    return conf.brand_name()
