"""Each service's Procfile (for PaaS hosts) starts gunicorn with the service's own config on $PORT."""

from __future__ import annotations

import shlex

import pytest

from scripts.services import ROOT


def processes(service: str) -> dict[str, list[str]]:
    lines = (ROOT / service / "Procfile").read_text().splitlines()
    return {name: shlex.split(command) for name, command in (line.split(":", 1) for line in lines if line.strip())}


@pytest.mark.parametrize("service", ["ml_server", "user_server"])
def test_web_process_is_gunicorn_on_the_platform_port(service: str) -> None:
    web = processes(service)["web"]
    assert web[:3] == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert web[-1] == "config.wsgi:application"
    assert any("$PORT" in arg or "${PORT" in arg for arg in web)
    assert (ROOT / service / "gunicorn.conf.py").is_file()
    assert (ROOT / service / "config" / "wsgi.py").is_file()


def test_ml_server_release_applies_migrations() -> None:
    assert processes("ml_server")["release"] == ["python", "manage.py", "migrate", "--noinput"]
    assert (ROOT / "ml_server" / "manage.py").is_file()


def test_page_has_no_release_step() -> None:
    assert set(processes("user_server")) == {"web"}
