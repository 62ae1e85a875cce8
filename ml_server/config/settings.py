"""ml_server settings, all from environment variables with safe defaults (DEBUG off)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from digits.config import DEFAULT_MODEL, MODELS_DIR, PROJECT_ROOT


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
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
# Probes (kubelet, load balancer) call these over plain HTTP inside the cluster: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^(health|ready|metrics)$"]
if env_bool("TRUST_X_FORWARDED_PROTO"):  # only behind a proxy that sets (never forwards) this header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# `check --deploy` warns about HTTPS-only settings; over plain loopback HTTP they cannot apply, so
# exactly those checks are silenced then (HSTS, SSL redirect, secure cookies). HSTS preload is an
# opt-in registration with the browsers (SECURE_HSTS_PRELOAD=1), so its reminder is silenced too.
HTTPS_ONLY_CHECKS = ["security.W004", "security.W008", "security.W012", "security.W016"]
SILENCED_SYSTEM_CHECKS = ["security.W021"] if HTTPS else HTTPS_ONLY_CHECKS

MODELS_DIR = MODELS_DIR
# The model used when a request names none: digits.config.DEFAULT_MODEL (env DEFAULT_MODEL), else the
# manifest's "default", else its first model (so a partly trained models folder still serves).
DEFAULT_MODEL = DEFAULT_MODEL
# Load the default model at start-up, in a background thread (gunicorn.conf.py does it in each worker;
# this switch is for runserver). Off by default so manage.py commands and tests load no model.
PRELOAD_DEFAULT_MODEL = env_bool("ML_SERVER_PRELOAD")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "axes",
    "predictions",
    "feedback",
]

MIDDLEWARE = [
    "core.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "predictions.metrics.MetricsMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: it answers a locked-out login
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATA_DIR = PROJECT_ROOT / "data"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'ml_server.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The Django admin (feedback browsing). ADMIN_ENABLED=0 removes it from the URL space entirely, for
# public deployments where nobody administers through the API's address.
ADMIN_ENABLED = env_bool("ADMIN_ENABLED", True)
# Password guessing: django-axes counts failed logins per user name and client address together and
# refuses that pair for a while once AXES_FAILURE_LIMIT is reached (failures during the lockout extend
# it). The address is the one throttling uses (core.client), so the front's X-Forwarded-For counts
# only from the trusted proxy.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(seconds=int(os.environ.get("AXES_COOLOFF_SECONDS", "900")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.client.client_address"
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True

# The cache holds the throttles' counters (one per client and window). With REDIS_URL set it is Redis, shared by every
# worker and replica, so a client's limit is one limit; otherwise each worker process keeps its own
# in memory (a client spread over N workers then gets up to N times the rate).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = SERVICE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The Swagger UI assets (drf-spectacular-sidecar) are served by whitenoise from this process; without
# `collectstatic` they are found in the installed apps and referenced by their plain names.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# Request limits: the contract's 5 MB body limit, enforced before the body is read.
MAX_BODY_BYTES = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.PlainContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "core.parsers.BufferedMultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    # Throttles identify clients by address: with None, DRF trusts the whole X-Forwarded-For header,
    # which a client can vary to escape its limit. Set to the number of trusted proxies in front:
    # `make run` sets 1 (its nginx front replaces X-Forwarded-For with the address it saw).
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
    "DEFAULT_THROTTLE_RATES": {
        # Counted per fixed window by core.throttling.AtomicScopedRateThrottle (one cache increment each).
        "predict": os.environ.get("PREDICT_THROTTLE_RATE", "100/s"),
        "feedback": os.environ.get("FEEDBACK_THROTTLE_RATE", "60/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Digit recognition API",
    "DESCRIPTION": "Classify a drawn or photographed digit (or a whole number) with MNIST models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No request leaves the page: Swagger UI would otherwise fetch a badge from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

CORS_ALLOWED_ORIGINS = env_list(
    "CORS_ALLOWED_ORIGINS", f"http://127.0.0.1:{USER_SERVER_PORT},http://localhost:{USER_SERVER_PORT}"
)

# One JSON line per request (core.request_log) only with ACCESS_LOG on; a server error always.
ACCESS_LOG = env_bool("ACCESS_LOG")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "ml_server.requests": {"level": "INFO" if ACCESS_LOG else "ERROR"},
        "axes": {"level": "WARNING"},  # its start-up banner in every process; lockouts are warnings
    },
}
