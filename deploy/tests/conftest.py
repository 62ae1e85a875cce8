"""Shared fixtures of the operations tests: free ports (never fixed ones) and which settings
(environment variables) each service really reads, so deployment files cannot set dead ones."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.services import ROOT
from testsupport.servers import MakeRun, make_run

# os.environ.get("X"), os.environ["X"], os.environ.setdefault("X"), env_bool("X"), _path_from_env("X") ...
# (os.environ only: a WSGI `environ` holds request fields, not settings).
ENV_READ = re.compile(
    r"""(?:os\.environ(?:\.get|\.setdefault)?\(|os\.environ\[|\benv_\w+\(|_path_from_env\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)
# Read by a library on the settings' behalf rather than by name in our code.
IMPLICIT = {"dj_database_url.config(": "DATABASE_URL"}
# Where each service's code lives (the ml_server also runs the digits library).
SERVICE_SOURCES = {"ml_server": ("ml_server", "digits"), "user_server": ("user_server",)}


def settings_read(service: str) -> set[str]:
    """Environment variables the service's own code reads (tests excluded)."""
    names: set[str] = set()
    for folder in SERVICE_SOURCES[service]:
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.relative_to(ROOT).parts or path.name in {"conftest.py", "settings_test.py"}:
                continue
            text = path.read_text()
            names |= set(ENV_READ.findall(text))
            names |= {name for marker, name in IMPLICIT.items() if marker in text}
    return names


@pytest.fixture(scope="session")
def settings_read_by() -> Callable[[str], set[str]]:
    return settings_read


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


LOCKOUT_COOL_OFF_S = 5  # the stack's AXES_COOLOFF_SECONDS: short, so the admin test can wait it out


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    """One `make run` (nginx front, gunicorn behind) shared by the tests that attack or probe it.
    The lockout's cool-off is shortened so the admin test can wait it out; the request log is on, so
    tests can see which client address the ml_server saw."""
    workdir = tmp_path_factory.mktemp("make_run")
    with make_run(workdir, DEFAULT_MODEL="rf", AXES_COOLOFF_SECONDS=str(LOCKOUT_COOL_OFF_S), ACCESS_LOG="1") as running:
        yield running
