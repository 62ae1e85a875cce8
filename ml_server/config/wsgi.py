"""WSGI entry point for gunicorn (`config.wsgi:application`, run from the ml_server folder)."""

import os
import sys
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parent.parent
for path in (str(SERVICE_DIR.parent), str(SERVICE_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from core.wsgi import ChunkedBodyLimit  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = ChunkedBodyLimit(get_wsgi_application(), settings.MAX_BODY_BYTES)
