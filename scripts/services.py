"""The two Django services as processes: where they live, how each is started, when it answers.

Shared by `make run` (scripts/run.py) and by the tests and tools that need a real server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WSGI_APP = "config.wsgi:application"  # each service's WSGI application, run from its own folder
POLL_S = 0.05


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


def service_command(service: Service, *, host: str, dev: bool, wsgi_app: str = WSGI_APP) -> list[str]:
    """gunicorn with the service's own config (production), or Django's runserver (development).
    `wsgi_app` lets the benchmarks serve the application wrapped (`bench.ceiling`)."""
    if dev:
        return [sys.executable, "manage.py", "runserver", f"{host}:{service.port}"]
    bind = f"[{host}]:{service.port}" if ":" in host else f"{host}:{service.port}"
    # Two gunicorns on one machine would share gunicorn's default control socket (~/.gunicorn/gunicorn.ctl).
    return [
        *(sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket"),
        *("--bind", bind, wsgi_app),
    ]


def with_repo_on_path(env: Mapping[str, str]) -> dict[str, str]:
    result = dict(env)
    result["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return result


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


def answers_http(url: str, *, ok_only: bool = False) -> bool:
    """True once something serves HTTP there; with ok_only, only a 2xx counts (for /ready)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return not ok_only
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    """A TCP port free on loopback right now (other servers may run on this machine at the same time)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RunningService:
    base_url: str  # ends with "/"
    process: subprocess.Popen[bytes]  # the gunicorn master, leader of its process group

    def worker_pids(self) -> set[int]:
        import psutil  # a test and benchmark dependency, not one of `make run`

        return {child.pid for child in psutil.Process(self.process.pid).children()}


@contextlib.contextmanager
def serving(
    service: Service,
    *,
    env: Mapping[str, str],
    ready_path: str = "health",
    timeout: float = 180.0,
    log: Path | None = None,
    wsgi_app: str = WSGI_APP,
) -> Iterator[RunningService]:
    """Run one service under gunicorn on 127.0.0.1 until the block ends, once `ready_path` answers 2xx.
    The one launcher of the tests and benchmarks; `log` collects the server's output."""
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(log.open("wb")) if log is not None else None
        process = subprocess.Popen(
            service_command(service, host="127.0.0.1", dev=False, wsgi_app=wsgi_app),
            cwd=service.folder,
            env=with_repo_on_path(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            start_new_session=True,
        )
        stack.callback(stop_group, process)
        base = service.url("127.0.0.1")
        deadline = time.monotonic() + timeout
        while not answers_http(base + ready_path, ok_only=True):
            if process.poll() is not None:
                raise RuntimeError(f"{service.name} exited with code {process.returncode} before answering")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service.name} did not answer {base + ready_path} within {timeout:.0f} s")
            time.sleep(POLL_S)
        yield RunningService(base, process)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server (Debian package) on a free loopback port, nothing saved; yields its URL."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on port {port}")
            time.sleep(POLL_S)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_group(process, grace_s=5)
