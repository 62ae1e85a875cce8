"""Settings for the test suite: production settings with a throwaway secret."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ACCESS_LOG", "1")  # the request-log tests read each request's line

from config.settings import *  # noqa: F403

# Tests serve static files straight from the apps (WHITENOISE_USE_FINDERS): no collectstatic, no manifest.
STATIC_ROOT = None
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
