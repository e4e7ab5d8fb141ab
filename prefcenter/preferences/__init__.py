"""The subscriber-facing preference center: signed links, the page, its forms and limits.

Importing the package registers its system checks (``prefcenter.E101``, ``W101``), so they
run as soon as anything imports one of its modules at start-up (the admin's actions do).
"""

from prefcenter.preferences import checks as _checks  # noqa: F401
