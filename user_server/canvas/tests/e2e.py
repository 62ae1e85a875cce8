"""Helpers of the end-to-end tests: both services as real gunicorn processes on free loopback ports,
and pages of headless Debian Chromium (never a downloaded browser) recording every request and console error.

The ml_server runs with production settings on the committed models in `models/`, with its own
throwaway SQLite database; the user_server serves collected static files through whitenoise.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SERVICE_DIR = Path(__file__).resolve().parents[2]
REPO = SERVICE_DIR.parent
ML_DIR = REPO / "ml_server"
MODELS_DIR = REPO / "models"
BIN = Path(sys.executable).parent
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
START_TIMEOUT = 180  # the ml_server imports TensorFlow and loads its default model first
LOOPBACK = {"127.0.0.1", "localhost"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@dataclass
class Service:
    """One gunicorn process that can be stopped and started again on the same port."""

    name: str
    cwd: Path
    env: dict[str, str]
    port: int
    ready_path: str
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "config.wsgi:application"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if get_json(self.url + self.ready_path)[0] == 200:
                return
            time.sleep(0.5)
        self.stop()
        tail = self.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not become ready on {self.url}{self.ready_path}:\n{tail}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # our own process group only
            self.process.wait(timeout=10)

    def ensure_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.start()


def base_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env |= {"HOST": "127.0.0.1", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings", **extra}
    return env


@dataclass
class Servers:
    ml: Service
    user: Service
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
