"""Helpers of the end-to-end tests: both services as real gunicorn processes on free loopback ports,
and pages of headless Debian Chromium (never a downloaded browser) recording every request and console error.

The ml_server runs with production settings on the committed models in `models/`, with its own
throwaway SQLite database; the user_server serves collected static files through whitenoise.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from testsupport.servers import Gunicorn

SERVICE_DIR = Path(__file__).resolve().parents[2]
REPO = SERVICE_DIR.parent
ML_DIR = REPO / "ml_server"
MODELS_DIR = REPO / "models"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PREFERRED_MODELS = ("cnn", "ann")  # the best model the models folder holds right now
LOOPBACK = {"127.0.0.1", "localhost"}


def get_json(url: str, timeout: float = 5) -> tuple[int, dict]:
    """GET a URL: (status, JSON body), or (0, {}) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}
    except (urllib.error.URLError, OSError):
        return 0, {}


def best_available_model() -> str:
    names = {entry["name"] for entry in json.loads((MODELS_DIR / "manifest.json").read_text())["models"]}
    return next(name for name in PREFERRED_MODELS if name in names)


def base_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env |= {"HOST": "127.0.0.1", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings", **extra}
    return env


@dataclass
class Servers:
    ml: Gunicorn
    user: Gunicorn
    model: str  # the default model the ml_server serves


@dataclass
class Visit:
    """A page of the site plus what it did: every request URL and every console error."""

    page: object
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname for url in self.requests if not url.startswith(("data:", "blob:"))}


def open_page(browser, servers: Servers, **context_options) -> Visit:
    servers.ml.ensure_running()
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 860}, **context_options})
    page = context.new_page()
    page.set_default_timeout(30_000)
    visit = Visit(page)
    page.on("request", lambda request: visit.requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and visit.console_errors.append(message.text))
    page.on("pageerror", lambda error: visit.console_errors.append(str(error)))
    page.goto(servers.user.url + "/")
    return visit
