"""The terminal of `make run`: a line per request only with ACCESS_LOG on; a server error always."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[2]
REQUESTS = """
import django
from unittest import mock
django.setup()
from django.test import Client
from predictions import apis
client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
client.get("/health")
client.get("/no-such-page")
with mock.patch.object(apis, "model_list", side_effect=RuntimeError("boom")):
    client.get("/list")
"""


def logged_paths(access_log: str) -> list[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "x" * 50, "ACCESS_LOG": access_log}
    env["PYTHONPATH"] = os.pathsep.join([str(SERVICE_DIR), str(SERVICE_DIR.parent), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", REQUESTS], cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [line.split('"path": "')[1].split('"')[0] for line in done.stderr.splitlines() if '"path": "' in line]


@pytest.mark.parametrize(("access_log", "paths"), [("0", ["/list"]), ("1", ["/health", "/no-such-page", "/list"])])
def test_requests_are_logged_only_with_access_log_on_and_errors_always(access_log, paths):
    assert logged_paths(access_log) == paths
