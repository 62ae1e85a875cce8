"""user_server settings, all from environment variables with safe defaults (DEBUG off)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SERVICE_DIR = Path(__file__).resolve().parent.parent
DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (make run generates one).")
    SECRET_KEY = "insecure-development-key-only-for-debug"

HOST = os.environ.get("HOST", "127.0.0.1")
ML_SERVER_PORT = int(os.environ.get("ML_SERVER_PORT", "8001"))
USER_SERVER_PORT = int(os.environ.get("USER_SERVER_PORT", "8000"))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", f"{HOST},127.0.0.1,localhost")

# HTTPS: served over TLS (directly or behind a proxy), browsers are told to stay on it and cookies
# never travel in clear. Off by default because `make run` serves plain HTTP on loopback.
HTTPS = env_bool("HTTPS")
SECURE_SSL_REDIRECT = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if env_bool("TRUST_X_FORWARDED_PROTO"):  # only behind a proxy that sets (never forwards) this header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# `check --deploy` warns about HTTPS-only settings; over plain loopback HTTP they cannot apply, so
# exactly those checks are silenced then (HSTS, SSL redirect, secure CSRF cookie). HSTS preload is an
# opt-in registration with the browsers (SECURE_HSTS_PRELOAD=1), so its reminder is silenced too.
HTTPS_ONLY_CHECKS = ["security.W004", "security.W008", "security.W016"]
SILENCED_SYSTEM_CHECKS = ["security.W021"] if HTTPS else HTTPS_ONLY_CHECKS

# Where the page sends its drawings; the browser calls it directly (CORS on the ml_server side).
ML_SERVER_URL = os.environ.get("ML_SERVER_URL", f"http://127.0.0.1:{ML_SERVER_PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "canvas",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # the page posts nothing here today; any future form is guarded
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "canvas.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    },
]

# The page keeps no state on the server: no database, no sessions.
DATABASES: dict = {}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", SERVICE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "canvas.storage.StaticStorage"},
}
WHITENOISE_MAX_AGE = 3600  # unhashed files; hashed names are cached "forever" by whitenoise

# Security headers (the CSP comes from canvas.middleware).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
