"""Settings come from the environment, and production settings refuse to start unsafe."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'debug': settings.DEBUG, 'ml': settings.ML_SERVER_URL, 'hosts': settings.ALLOWED_HOSTS}))"
)
CONFIG_VARIABLES = ("SECRET_KEY", "DEBUG", "ML_SERVER_URL", "ML_SERVER_PORT", "HOST", "ALLOWED_HOSTS")


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import the production settings in a fresh interpreter with exactly the given variables."""
    clean = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    clean |= {"DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(SERVICE_DIR), **env}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=SERVICE_DIR, env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_asked_for() -> None:
    result = load_settings(SECRET_KEY="k")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is False


def test_debug_runs_without_a_secret_key() -> None:
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is True


def test_ml_server_url_defaults_to_the_ml_server_port_on_loopback() -> None:
    result = load_settings(SECRET_KEY="k", ML_SERVER_PORT="9555")
    assert json.loads(result.stdout)["ml"] == "http://127.0.0.1:9555"


def test_ml_server_url_can_be_set_outright() -> None:
    result = load_settings(SECRET_KEY="k", ML_SERVER_URL="https://api.digits.example/")
    assert json.loads(result.stdout)["ml"] == "https://api.digits.example"


def test_allowed_hosts_follow_host_or_are_set_outright() -> None:
    assert "10.1.2.3" in json.loads(load_settings(SECRET_KEY="k", HOST="10.1.2.3").stdout)["hosts"]
    assert json.loads(load_settings(SECRET_KEY="k", ALLOWED_HOSTS="a.example,b.example").stdout)["hosts"] == [
        "a.example",
        "b.example",
    ]


def test_gunicorn_binds_to_host_and_user_server_port(monkeypatch) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("USER_SERVER_PORT", "8765")
    config = runpy.run_path(str(SERVICE_DIR / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:8765"
    assert config["threads"] >= 2
