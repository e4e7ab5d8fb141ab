"""WSGI entry point (gunicorn prefcenter.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prefcenter.settings")

application = get_wsgi_application()
