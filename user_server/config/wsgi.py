"""WSGI entry point for gunicorn (`config.wsgi:application`, run from the user_server folder)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
