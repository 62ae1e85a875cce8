"""Production settings pass Django's deployment checklist, on loopback HTTP and behind HTTPS."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("https", ["0", "1"])
def test_check_deploy_passes_without_warnings(https: str) -> None:
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "HTTPS", "SECRET_KEY"}}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": secrets.token_urlsafe(50), "HTTPS": https}
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(command, cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_a_cross_site_post_is_refused_by_csrf() -> None:
    """No form posts here today; CsrfViewMiddleware makes sure a future one cannot be forged."""
    from django.test import Client

    assert Client(enforce_csrf_checks=True).post("/", {"x": "1"}).status_code == 403
