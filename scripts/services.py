"""The two Django services as processes: where they live, how each is started, when it answers.

Shared by `make run` (scripts/run.py) and by `testsupport.servers`, which starts them for tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WSGI_APP = "config.wsgi:application"  # each service's WSGI application, run from its own folder


@dataclass(frozen=True)
class Service:
    """One Django project of the repository, run from its own folder."""

    name: str
    folder: Path
    port: int
    migrates: bool  # only the ml_server keeps data (feedback)

    def url(self, host: str) -> str:
        return f"http://{browser_host(host)}:{self.port}/"


def browser_host(host: str) -> str:
    """Where a browser on this machine reaches a server bound to `host` (0.0.0.0 is not an address)."""
    return "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host


def services_from_env(env: Mapping[str, str]) -> tuple[Service, Service]:
    """(ml_server, user_server) on the contract's ports unless the environment says otherwise."""
    return (
        Service("ml_server", ROOT / "ml_server", int(env.get("ML_SERVER_PORT", "8001")), migrates=True),
        Service("user_server", ROOT / "user_server", int(env.get("USER_SERVER_PORT", "8000")), migrates=False),
    )


def socket_address(host: str, port: int) -> str:
    """`host:port` as gunicorn's --bind and nginx's listen take it (an IPv6 host in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def service_command(
    service: Service, *, host: str, dev: bool, wsgi_app: str = WSGI_APP, bind: str | None = None
) -> list[str]:
    """gunicorn with the service's own config (production), or Django's runserver (development).
    `wsgi_app` lets the benchmarks serve the application wrapped (`bench.ceiling`); `bind` puts gunicorn
    elsewhere than host:port (behind the nginx front: `unix:<socket>`)."""
    if dev:
        return [sys.executable, "manage.py", "runserver", f"{host}:{service.port}"]
    if bind is None:
        bind = socket_address(host, service.port)
    # Two gunicorns on one machine would share gunicorn's default control socket (~/.gunicorn/gunicorn.ctl).
    return [
        *(sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket"),
        *("--bind", bind, wsgi_app),
    ]


def manage(service: Service, env: Mapping[str, str], *args: str) -> None:
    """`python manage.py ARGS` in the service's folder; a failure stops the caller with its message."""
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(command, cwd=service.folder, env=dict(env), stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{service.name}: `{' '.join(command[1:])}` failed (exit {result.returncode})")


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the whole group is gone already
        os.killpg(pgid, signum)


def stop_group(process: subprocess.Popen, *, grace_s: float = 30) -> None:
    """SIGTERM a server's whole process group, SIGKILL whatever is left after `grace_s`, reap it."""
    signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    signal_group(process.pid, signal.SIGKILL)
    process.wait()


class DidNotAnswer(RuntimeError):
    """A started server exited, or did not answer in time."""


def wait_until_ready(
    process: subprocess.Popen, ready: Callable[[], bool], *, what: str, timeout: float, poll_s: float = 0.05
) -> None:
    """Poll `ready` until it is true while `process` runs; `DidNotAnswer` (naming `what`) when the
    process exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise DidNotAnswer(f"exited with code {process.returncode} before {what} answered")
        if time.monotonic() > deadline:
            raise DidNotAnswer(f"{what} did not answer within {timeout:.0f} s")
        time.sleep(poll_s)


def wait_until_answers(url: str, process: subprocess.Popen, *, timeout: float, poll_s: float = 0.05) -> None:
    """`wait_until_ready` for an HTTP server: until `url` answers a 2xx."""
    wait_until_ready(process, lambda: answers_http(url, ok_only=True), what=url, timeout=timeout, poll_s=poll_s)


def answers_http(url: str, *, ok_only: bool = False) -> bool:
    """True once something serves HTTP there; with ok_only, only a 2xx counts (for /ready)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return not ok_only
    except (urllib.error.URLError, OSError):
        return False
