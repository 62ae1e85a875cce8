"""Production settings pass Django's deployment checklist, on loopback HTTP and behind HTTPS."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[1]
PRINT_SECURITY = (
    "import json, django; from django.conf import settings as s; django.setup(); print(json.dumps("
    "[s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0]))"
)


def production(command: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run a command with production settings: DEBUG off, a real-looking random SECRET_KEY."""
    clean = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "HTTPS", "SECRET_KEY"}}
    clean |= {"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": secrets.token_urlsafe(50), **env}
    return subprocess.run(command, cwd=SERVICE_DIR, env=clean, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("https", ["0", "1"])
def test_check_deploy_passes_without_warnings(https: str) -> None:
    result = production([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], HTTPS=https)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize(("https", "expected"), [("0", [False] * 4), ("1", [True] * 4)])
def test_https_turns_on_redirect_secure_cookies_and_hsts(https: str, expected: list[bool]) -> None:
    result = production([sys.executable, "-c", PRINT_SECURITY], HTTPS=https)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_security_headers_are_sent(client) -> None:
    response = client.get("/health")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
