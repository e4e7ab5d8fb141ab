"""``prefcenter_link``: a person's preference-center link, for staff and ``make run``."""
