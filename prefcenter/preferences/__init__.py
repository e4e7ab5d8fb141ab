"""The subscriber-facing preference center: signed links, the page, its forms and limits.

Importing the package registers its system check (``prefcenter.W601``), so that it
runs as soon as anything imports one of its modules at start-up (the admin's actions do).
"""

from prefcenter.preferences import checks as _checks  # noqa: F401
