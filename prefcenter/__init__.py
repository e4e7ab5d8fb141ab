"""The Django project: settings, URLs, health checks, middleware and system checks, and the
parts people and the brand's systems use: the preference center (``preferences``), the
JSON API (``api``), webhooks out (``webhooks``), data-subject access (``access``) and the
task worker (``workers``)."""
