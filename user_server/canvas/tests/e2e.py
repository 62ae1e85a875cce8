"""Helpers of the end-to-end tests: both services as real gunicorn processes on free loopback ports,
and pages of headless Debian Chromium (never a downloaded browser) recording every request and console error.

The ml_server runs with production settings on the committed models in `models/`, with its own
throwaway SQLite database; the user_server serves collected static files through whitenoise.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import expect

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
# The screens the page is checked on: a desktop, a phone held upright and on its side, the narrowest phone.
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
    "phone-landscape": {
        "viewport": {"width": 844, "height": 390},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
    "narrow-phone": {
        "viewport": {"width": 320, "height": 568},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
AXE_CORE = "axe-core@4.10.3"  # installed from npm by the tests themselves (see axe_core_source)
NPM_CACHE = REPO / "data" / "npm"
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


def axe_core_source() -> str:
    """axe-core's browser script, installed from the npm registry into data/npm (git-ignored) at the
    pinned version the first time it is needed; npm checks the package's integrity."""
    name, version = AXE_CORE.rsplit("@", 1)
    package = NPM_CACHE / "node_modules" / name
    manifest = package / "package.json"
    if not manifest.exists() or json.loads(manifest.read_text())["version"] != version:
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        command = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(NPM_CACHE), AXE_CORE]
        subprocess.run(command, check=True, timeout=600, capture_output=True)
    return (package / "axe.min.js").read_text()


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


@contextlib.contextmanager
def open_page(browser, servers: Servers, **context_options) -> Iterator[Visit]:
    """The page in a browser context of its own (a screen size, touch, ...), closed when the block ends."""
    servers.ml.ensure_running()
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 860}, **context_options})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        visit = Visit(page)
        page.on("request", lambda request: visit.requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and visit.console_errors.append(message.text))
        page.on("pageerror", lambda error: visit.console_errors.append(str(error)))
        page.goto(servers.user.url + "/")
        yield visit
    finally:
        context.close()


# ---- what the tests ask of the page -------------------------------------------------------------

GUESS_TIMEOUT = 30_000  # ms; the first guess of a model may wait for it to load
HAS_INK = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 0; i < data.length; i += 4) if (data[i] < 128) return true;
  return false;
}"""


def ready(visit: Visit):
    """The page once its model list has arrived."""
    expect(visit.page.get_by_test_id("model-select")).to_be_enabled()
    return visit.page


def expect_guess(page, text: str) -> None:
    """The page has settled on the answer for the drawing as it stands, and that answer is `text`."""
    expect(page.get_by_test_id("result")).to_have_attribute("aria-busy", "false", timeout=GUESS_TIMEOUT)
    expect(page.get_by_test_id("result")).to_have_attribute("data-state", "final")
    expect(page.get_by_test_id("prediction")).to_have_text(text)


def canvas_box(page) -> dict[str, float]:
    return page.get_by_test_id("canvas").bounding_box()


def has_ink(page) -> bool:
    return page.get_by_test_id("canvas").evaluate(HAS_INK)


PREVIEW_LIT = "c => c.getContext('2d').getImageData(0, 0, 28, 28).data.some((v, i) => i % 4 === 0 && v > 128)"


def preview_lit(page) -> bool:
    """Whether the 28x28 preview shows ink (white on black, as the model sees it)."""
    return page.get_by_test_id("preview").evaluate(PREVIEW_LIT)


def axe_problems(page, axe_source: str) -> list[str]:
    """axe-core's violations, and its "incomplete" colour-contrast items (contrast it could not
    decide counts as a problem too), on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)  # through DevTools, so the page's Content-Security-Policy allows it
    found = page.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ["violations", "incomplete"] });
          const describe = (item) => `${item.id}: ${item.nodes.map((n) => n.target.join(" ")).join(", ")}`;
          return [
            ...r.violations.map(describe),
            ...r.incomplete.filter((item) => item.id === "color-contrast").map((i) => "incomplete " + describe(i)),
          ];
        }"""
    )
    return list(found)
