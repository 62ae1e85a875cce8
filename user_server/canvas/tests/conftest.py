"""Fixtures of the end-to-end tests (helpers in `e2e.py`): both services started once per session,
one headless Chromium, and a fresh page per test that must not talk to anything off the machine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from canvas.tests.e2e import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOOPBACK,
    ML_DIR,
    MODELS_DIR,
    SERVICE_DIR,
    Servers,
    Visit,
    axe_core_source,
    base_env,
    best_available_model,
    open_page,
)
from testsupport.servers import Gunicorn, free_port


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    tmp = tmp_path_factory.mktemp("e2e")
    ml_port, user_port = free_port(), free_port()
    model = best_available_model()
    ml_env = base_env(
        ML_SERVER_PORT=str(ml_port),
        USER_SERVER_PORT=str(user_port),
        SECRET_KEY="e2e-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        MODELS_DIR=str(MODELS_DIR),
        DEFAULT_MODEL=model,
        DATABASE_URL=f"sqlite:///{tmp / 'e2e.sqlite3'}",
        CORS_ALLOWED_ORIGINS=f"http://127.0.0.1:{user_port}",
    )
    user_env = base_env(
        USER_SERVER_PORT=str(user_port),
        ML_SERVER_PORT=str(ml_port),
        SECRET_KEY="e2e-only-secret-key-for-the-user-server-0123456789",
        STATIC_ROOT=str(tmp / "static"),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ML_DIR, env=ml_env, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=SERVICE_DIR, env=user_env, check=True
    )
    ml = Gunicorn("ml_server", ml_env, tmp / "ml_server.log", port=ml_port, ready_path="/ready")
    user = Gunicorn("user_server", user_env, tmp / "user_server.log", port=user_port)
    try:
        ml.start()
        user.start()
        yield Servers(ml=ml, user=user, model=model)
    finally:
        user.stop()
        ml.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def visit(browser, servers: Servers) -> Iterator[Visit]:
    """The page on a desktop-size screen; afterwards, nothing may have left the machine."""
    with open_page(browser, servers) as opened:
        yield opened
    assert opened.hosts() <= LOOPBACK, opened.requests


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (installed from npm on first use)."""
    return axe_core_source()
