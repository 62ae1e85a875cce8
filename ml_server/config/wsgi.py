"""WSGI entry point for gunicorn (`config.wsgi:application`, run from the ml_server folder)."""

import os

from core.wsgi import ChunkedBodyLimit
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = ChunkedBodyLimit(get_wsgi_application(), settings.MAX_BODY_BYTES)
